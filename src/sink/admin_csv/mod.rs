//! The offline sink: node and relationship files for
//! `neo4j-admin database import full`, the fastest first load into an
//! empty Neo4j database.
//!
//! Transform threads format each chunk's rows into per-file byte buffers;
//! the writer thread copies the accepted rows' bytes, in file order. Shared
//! entities are written at the end, once the whole file has been seen.

pub mod columns;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::graph::counts::GraphOptions;
use crate::graph::model::{LEARNING_STATES, Label, PROFESSIONAL_STATUSES, RelType};
use crate::graph::records::{Entities, LearnerRecord, Props, Value};
use crate::sink::neo4j::cypher;
use crate::transform::chunk::TransformedChunk;
use columns::{
    node_file, node_header, node_properties, relationship_file, relationship_header, relationship_properties,
};

/// The relationship types written per learner row, in file-index order
/// (file 0 is the Learner node file).
pub fn learner_relationships(options: GraphOptions) -> Vec<RelType> {
    RelType::ALL
        .into_iter()
        .filter(|rel| match rel {
            RelType::InCountry => false,
            RelType::ResidesIn => options.resides_in,
            RelType::FromCountry => options.from_country,
            _ => true,
        })
        .collect()
}

/// One output buffer of a chunk, with where each row's bytes end.
pub struct RowBuffer {
    pub writer: csv::Writer<Vec<u8>>,
    /// `ends[i]` is the end of row `i`'s bytes (rows without output have
    /// zero-length spans).
    pub ends: Vec<usize>,
}

impl RowBuffer {
    fn new() -> Self {
        RowBuffer {
            writer: csv::Writer::from_writer(Vec::new()),
            ends: Vec::new(),
        }
    }

    fn end_row(&mut self) {
        // Flushing into a Vec cannot fail.
        let _ = self.writer.flush();
        self.ends.push(self.writer.get_ref().len());
    }

    fn bytes(&self) -> &[u8] {
        self.writer.get_ref()
    }
}

/// A chunk's rows formatted for every per-learner file.
pub struct FormattedChunk {
    pub files: Vec<RowBuffer>,
}

fn format_value(value: Option<&Value>, out: &mut String) {
    out.clear();
    match value {
        None => {}
        Some(Value::Str(s)) => out.push_str(s),
        Some(Value::Int(n)) => out.push_str(&n.to_string()),
        Some(Value::Float(n)) => out.push_str(&n.to_string()),
        Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::Date(d)) => out.push_str(&d.to_string()),
    }
}

/// Formats the properties `columns` lists, in order, from `props`.
fn property_fields(props: Option<&Props>, columns: &[(&'static str, columns::Kind)]) -> Vec<String> {
    columns
        .iter()
        .map(|(name, _)| {
            let mut text = String::new();
            format_value(props.and_then(|p| p.get(name)), &mut text);
            text
        })
        .collect()
}

fn write_rel(out: &mut csv::Writer<Vec<u8>>, rel: RelType, start: &str, end: &str, props: Option<&Props>) {
    let fields = property_fields(props, relationship_properties(rel));
    // Writing into a Vec cannot fail.
    let _ = out.write_record(
        [start, end, rel.name()]
            .into_iter()
            .chain(fields.iter().map(String::as_str)),
    );
}

fn format_learner(record: &LearnerRecord, rels: &[RelType], files: &mut [RowBuffer]) {
    let fields = property_fields(Some(&record.props), node_properties(Label::Learner));
    let _ = files[0]
        .writer
        .write_record(std::iter::once(record.key.as_str()).chain(fields.iter().map(String::as_str)));
    let skill_props = {
        let mut p = Props::default();
        p.str("source", Some("profile".to_string()));
        p
    };
    for (i, rel) in rels.iter().enumerate() {
        let out = &mut files[i + 1].writer;
        let key = record.key.as_str();
        match rel {
            RelType::HasSkill => {
                for skill in &record.skills {
                    write_rel(out, *rel, key, skill, Some(&skill_props));
                }
            }
            RelType::ResidesIn => {
                if let Some(city) = &record.city_id {
                    write_rel(out, *rel, key, city, None);
                }
            }
            RelType::FromCountry => {
                if let Some(code) = &record.origin_code {
                    write_rel(out, *rel, key, code, None);
                }
            }
            _ => {
                let list = match rel {
                    RelType::EnrolledIn => &record.enrollments,
                    RelType::WorksFor => &record.works_for,
                    RelType::RunsVenture => &record.runs_venture,
                    RelType::StudiedAt => &record.studied_at,
                    RelType::HasLearningState => &record.learning_states,
                    _ => &record.professional_states,
                };
                for r in list {
                    write_rel(out, *rel, key, &r.target, Some(&r.props));
                }
            }
        }
    }
}

/// Formats a transformed chunk (on a transform thread).
pub fn format_chunk(chunk: &TransformedChunk, options: GraphOptions) -> FormattedChunk {
    let rels = learner_relationships(options);
    let mut files: Vec<RowBuffer> = (0..=rels.len()).map(|_| RowBuffer::new()).collect();
    for row in &chunk.rows {
        if let Ok(record) = &row.result {
            format_learner(record, &rels, &mut files);
        }
        for file in &mut files {
            file.end_row();
        }
    }
    FormattedChunk { files }
}

/// A file's bytes on their way to disk, compressed or not.
enum Encoder {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Write for Encoder {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(bytes),
            Encoder::Gzip(w) => w.write(bytes),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
        }
    }
}

impl Encoder {
    /// Ends the stream (gzip's trailer), writes out the buffer and syncs
    /// the file: every error on the way (a full disk) is returned, none is
    /// left to a destructor that would drop it.
    fn finish(self) -> std::io::Result<()> {
        let buffered = match self {
            Encoder::Plain(w) => w,
            Encoder::Gzip(w) => w.finish()?,
        };
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

/// An output file, compressed or not.
struct OutputFile {
    path: PathBuf,
    writer: Encoder,
}

impl OutputFile {
    fn create(dir: &Path, stem: &str, gzip: bool, header: &[String]) -> Result<Self, OutputFileError> {
        let path = dir.join(format!("{stem}.csv{}", if gzip { ".gz" } else { "" }));
        let file = File::create(&path).map_err(|e| output_error(&path, e))?;
        let buffered = BufWriter::with_capacity(1 << 20, file);
        let writer = if gzip {
            Encoder::Gzip(GzEncoder::new(buffered, Compression::fast()))
        } else {
            Encoder::Plain(buffered)
        };
        let mut file = OutputFile { path, writer };
        file.write_rows([header.iter().map(String::as_str)])?;
        Ok(file)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), OutputFileError> {
        self.writer
            .write_all(bytes)
            .map_err(|e| output_error(&self.path, e))
    }

    /// Writes CSV records.
    fn write_rows<'a, R, F>(&mut self, rows: R) -> Result<(), OutputFileError>
    where
        R: IntoIterator<Item = F>,
        F: IntoIterator<Item = &'a str>,
    {
        let mut csv = csv::Writer::from_writer(&mut self.writer);
        for row in rows {
            csv.write_record(row).map_err(|e| output_error(&self.path, e))?;
        }
        csv.flush().map_err(|e| output_error(&self.path, e))
    }

    fn finish(self) -> Result<PathBuf, OutputFileError> {
        self.writer.finish().map_err(|e| output_error(&self.path, e))?;
        Ok(self.path)
    }
}

fn output_error(path: &Path, e: impl std::fmt::Display) -> OutputFileError {
    OutputFileError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A file of the export that cannot be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {message}; check that the folder exists, is writable and has space", path.display())]
pub struct OutputFileError {
    pub path: PathBuf,
    pub message: String,
}

/// Writes the files of one export folder.
pub struct AdminCsvWriter {
    dir: PathBuf,
    gzip: bool,
    options: GraphOptions,
    learner_files: Vec<OutputFile>,
}

impl AdminCsvWriter {
    pub fn create(dir: &Path, gzip: bool, options: GraphOptions) -> Result<Self, OutputFileError> {
        std::fs::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
        let mut learner_files = vec![OutputFile::create(
            dir,
            &node_file(Label::Learner),
            gzip,
            &node_header(Label::Learner),
        )?];
        for rel in learner_relationships(options) {
            learner_files.push(OutputFile::create(
                dir,
                &relationship_file(rel),
                gzip,
                &relationship_header(rel),
            )?);
        }
        Ok(AdminCsvWriter {
            dir: dir.to_path_buf(),
            gzip,
            options,
            learner_files,
        })
    }

    /// Copies the accepted rows of a formatted chunk, in order.
    pub fn write_chunk(&mut self, chunk: FormattedChunk, accepted: &[bool]) -> Result<(), OutputFileError> {
        for (file, buffer) in self.learner_files.iter_mut().zip(&chunk.files) {
            let bytes = buffer.bytes();
            if accepted.iter().all(|a| *a) {
                file.write(bytes)?;
                continue;
            }
            let mut start = 0;
            for (end, keep) in buffer.ends.iter().zip(accepted) {
                if *keep {
                    file.write(&bytes[start..*end])?;
                }
                start = *end;
            }
        }
        Ok(())
    }

    /// Writes the shared entities, the import script and the schema file.
    pub fn finish(self, entities: &Entities) -> Result<Vec<PathBuf>, OutputFileError> {
        let mut written: Vec<PathBuf> = Vec::new();
        for file in self.learner_files {
            written.push(file.finish()?);
        }
        let mut node = |label: Label, rows: Vec<Vec<String>>| -> Result<(), OutputFileError> {
            let mut file = OutputFile::create(&self.dir, &node_file(label), self.gzip, &node_header(label))?;
            file.write_rows(rows.iter().map(|row| row.iter().map(String::as_str)))?;
            written.push(file.finish()?);
            Ok(())
        };
        let num = |v: Option<f64>| v.map(|n| n.to_string()).unwrap_or_default();
        node(
            Label::Country,
            sorted(
                entities
                    .countries
                    .iter()
                    .map(|(code, c)| vec![code.clone(), c.name.clone(), num(c.latitude), num(c.longitude)]),
            ),
        )?;
        node(
            Label::City,
            sorted(entities.cities.iter().map(|(id, c)| {
                vec![
                    id.clone(),
                    c.name.clone(),
                    c.country_code.clone(),
                    num(c.latitude),
                    num(c.longitude),
                ]
            })),
        )?;
        node(
            Label::Program,
            sorted(
                entities
                    .programs
                    .iter()
                    .map(|(id, name)| vec![id.clone(), name.clone().unwrap_or_default(), id.clone()]),
            ),
        )?;
        for (label, map) in [
            (Label::Skill, &entities.skills),
            (Label::Company, &entities.companies),
            (Label::Institution, &entities.institutions),
        ] {
            node(
                label,
                sorted(map.iter().map(|(id, name)| vec![id.clone(), name.clone()])),
            )?;
        }
        node(
            Label::LearningState,
            LEARNING_STATES.iter().map(|s| vec![s.to_string()]).collect(),
        )?;
        node(
            Label::ProfessionalStatus,
            PROFESSIONAL_STATUSES
                .iter()
                .map(|s| vec![s.to_string()])
                .collect(),
        )?;

        let rel = RelType::InCountry;
        let mut file = OutputFile::create(
            &self.dir,
            &relationship_file(rel),
            self.gzip,
            &relationship_header(rel),
        )?;
        let pairs = sorted_pairs(
            entities
                .cities
                .iter()
                .map(|(id, c)| (id.clone(), c.country_code.clone())),
        );
        file.write_rows(
            pairs
                .iter()
                .map(|(id, country)| [id.as_str(), country.as_str(), rel.name()]),
        )?;
        written.push(file.finish()?);

        let script = self.dir.join("import.sh");
        std::fs::write(&script, import_script(self.gzip, self.options))
            .map_err(|e| output_error(&script, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755));
        }
        let schema = self.dir.join("schema.cypher");
        std::fs::write(&schema, schema_cypher()).map_err(|e| output_error(&schema, e))?;
        written.push(script);
        written.push(schema);
        Ok(written)
    }
}

fn sorted(rows: impl Iterator<Item = Vec<String>>) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = rows.collect();
    rows.sort_unstable();
    rows
}

fn sorted_pairs(rows: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = rows.collect();
    rows.sort_unstable();
    rows
}

/// The `neo4j-admin database import full` arguments for an export folder,
/// each file named under `folder` (shell text: the script passes `"$here"/`,
/// the folder's absolute path; Neo4j 2026's importer refuses a bare file
/// name, "Unable to find the parent of the path").
pub fn import_arguments(gzip: bool, options: GraphOptions, folder: &str) -> Vec<String> {
    let ext = if gzip { ".csv.gz" } else { ".csv" };
    let mut args: Vec<String> = Label::ALL
        .iter()
        .map(|label| format!("--nodes={}={folder}{}{ext}", label.name(), node_file(*label)))
        .collect();
    let mut rels = learner_relationships(options);
    rels.push(RelType::InCountry);
    args.extend(rels.iter().map(|rel| {
        format!(
            "--relationships={}={folder}{}{ext}",
            rel.name(),
            relationship_file(*rel)
        )
    }));
    args.push("--multiline-fields=true".into());
    args.push("--ignore-empty-strings=true".into());
    args
}

fn import_script(gzip: bool, options: GraphOptions) -> String {
    let args = import_arguments(gzip, options, "\"$here\"/").join(" \\\n  ");
    format!(
        "#!/usr/bin/env bash\n\
         # Written by `learngraph export`. Imports these files into a new (or empty) and stopped\n\
         # Neo4j 5 or 2025+ database, then create the constraints and indexes with schema.cypher:\n\
         #   NEO4J_HOME=/path/to/neo4j DATABASE=neo4j ./import.sh\n\
         #   cypher-shell -d neo4j -f schema.cypher   (after starting the database)\n\
         set -euo pipefail\n\
         here=$(cd \"$(dirname \"$0\")\" && pwd -P)\n\
         \"${{NEO4J_HOME:-/var/lib/neo4j}}/bin/neo4j-admin\" database import full \"${{DATABASE:-neo4j}}\" \\\n  {args}\n"
    )
}

/// The constraints and indexes to create once the import is done.
pub fn schema_cypher() -> String {
    let mut out =
        String::from("// Written by `learngraph export`: run after `neo4j-admin database import`.\n");
    for label in Label::ALL {
        out.push_str(&cypher::unique_constraint(label));
        out.push_str(";\n");
    }
    for index in cypher::range_indexes() {
        out.push_str(&index);
        out.push_str(";\n");
    }
    out
}
