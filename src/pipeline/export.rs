//! `export`: one pass over the file that writes `neo4j-admin` import files,
//! the rejects file and the data-quality report, from the same transform and
//! the same analysis as `check` and `load`.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::pipeline::analyze::{Analysis, AnalyzeError, analyze_with, transform_options};
use crate::sink::admin_csv::{AdminCsvWriter, format_chunk};

/// What an export wrote.
pub struct ExportOutcome {
    pub analysis: Analysis,
    pub files: Vec<PathBuf>,
}

pub fn export(
    input: &Path,
    out_dir: &Path,
    gzip: bool,
    config: &Config,
) -> Result<ExportOutcome, AnalyzeError> {
    let mut writer = AdminCsvWriter::create(out_dir, gzip, config.graph)?;
    let options = config.graph;
    let analysis = analyze_with(
        input,
        config,
        transform_options(config),
        |_| {},
        |chunk| format_chunk(chunk, options),
        |formatted, accepted| writer.write_chunk(formatted, accepted),
    )?;
    let files = writer.finish(&analysis.entities)?;
    Ok(ExportOutcome { analysis, files })
}
