//! The `learngraph` binary: parses the command line and hands each
//! subcommand its arguments. Errors end here, printed with their causes,
//! and become the process exit code.

use clap::{Parser, Subcommand};

use learngraph::commands::{self, Outcome};

/// Transform threads allocate and the consumer frees: mimalloc handles that
/// pattern far better than the system allocator (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "learngraph",
    version,
    about = "Learner-profile export to Neo4j knowledge graph"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Generate(commands::generate::GenerateArgs),
    Check(commands::check::CheckArgs),
}

/// Exit code when more rows were rejected than allowed.
const EXIT_TOO_MANY_REJECTS: u8 = 3;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Generate(args) => commands::generate::run(args),
        Command::Check(args) => commands::check::run(args),
    };
    match result {
        Ok(Outcome::Success) => std::process::ExitCode::SUCCESS,
        Ok(Outcome::TooManyRejects) => std::process::ExitCode::from(EXIT_TOO_MANY_REJECTS),
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
