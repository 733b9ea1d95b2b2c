//! `export`: one pass over the file that writes `neo4j-admin` import files,
//! the rejects file and the data-quality report, from the same transform and
//! the same analysis as `check` and `load`.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::pipeline::analyze::{Analysis, AnalyzeError, analyze_with, transform_options};
use crate::pipeline::outputs::{StagedFolder, refuse_folder_over_input};
use crate::pipeline::report::CheckReport;
use crate::sink::admin_csv::{AdminCsvWriter, OutputFileError, format_chunk};

/// What an export wrote.
pub struct ExportOutcome {
    pub analysis: Analysis,
    pub report: CheckReport,
    /// The files, in their final folder.
    pub files: Vec<PathBuf>,
}

/// Writes the export into a staging folder beside `out_dir` and renames it
/// into place once every file, the report included, is complete.
pub fn export(
    input: &Path,
    out_dir: &Path,
    gzip: bool,
    config: &Config,
) -> Result<ExportOutcome, AnalyzeError> {
    refuse_folder_over_input(out_dir, input)?;
    let staged = StagedFolder::create(out_dir)?;
    let mut writer = AdminCsvWriter::create(&staged.staging, gzip, config.graph)?;
    let options = config.graph;
    let analysis = analyze_with(
        input,
        config,
        transform_options(config),
        |_| {},
        |chunk| format_chunk(chunk, options),
        |formatted, accepted| Ok(writer.write_chunk(formatted, accepted)?),
    )?;
    let mut files = writer.finish(&analysis.entities)?;
    let report = CheckReport::new(&analysis, config);
    let report_path = staged.staging.join("report.json");
    let text = serde_json::to_string_pretty(&report).map_err(|e| OutputFileError {
        path: report_path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&report_path, text).map_err(|e| OutputFileError {
        path: report_path.clone(),
        message: e.to_string(),
    })?;
    files.push(report_path);
    let staging = staged.staging.clone();
    let destination = staged.commit()?;
    let files = files
        .iter()
        .map(|f| destination.join(f.strip_prefix(&staging).unwrap_or(f)))
        .collect();
    Ok(ExportOutcome {
        analysis,
        report,
        files,
    })
}
