//! One module per subcommand, each with its arguments and a `run`, plus the
//! configuration flags they share.

pub mod check;
pub mod generate;

use std::path::PathBuf;

use crate::config::{Config, EnvOverrides, FlagOverrides, RawConfig};

/// How a command ended when it did not fail outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// More rows were rejected than validation.max_error_rate allows.
    TooManyRejects,
}

/// Configuration flags shared by the commands that read an export.
#[derive(Debug, Default, clap::Args)]
pub struct ConfigArgs {
    /// TOML configuration file (see learngraph.example.toml).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Overrides etl.chunk_size.
    #[arg(long)]
    pub chunk_size: Option<u64>,
    /// Overrides etl.transform_threads (0: one per core).
    #[arg(long)]
    pub transform_threads: Option<usize>,
    /// Overrides etl.snapshot_date (YYYY-MM-DD).
    #[arg(long)]
    pub snapshot_date: Option<String>,
    /// Overrides etl.rejects_path.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Overrides validation.max_error_rate.
    #[arg(long)]
    pub max_error_rate: Option<f64>,
}

impl ConfigArgs {
    /// The flags as overrides of the file and environment.
    pub fn overrides(&self) -> FlagOverrides {
        FlagOverrides {
            chunk_size: self.chunk_size,
            transform_threads: self.transform_threads,
            snapshot_date: self.snapshot_date.clone(),
            rejects_path: self.rejects.clone(),
            max_error_rate: self.max_error_rate,
            ..FlagOverrides::default()
        }
    }

    /// Loads file, environment and flags into one validated configuration.
    pub fn load(&self) -> anyhow::Result<Config> {
        self.load_with(self.overrides())
    }

    pub fn load_with(&self, flags: FlagOverrides) -> anyhow::Result<Config> {
        let raw = match &self.config {
            Some(path) => RawConfig::from_file(path)?,
            None => RawConfig::default(),
        };
        Ok(Config::build(raw, &EnvOverrides::from_process_env(), &flags)?)
    }
}
