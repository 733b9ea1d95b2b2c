//! `ask`: the analysts' questions of [`crate::graph::questions`] answered
//! by the database, each in a transaction that is rolled back.

use std::time::Instant;

use crate::config::Config;
use crate::graph::questions::{self, Answer, Answered, Arg, Question, QuestionError};
use crate::pipeline::outputs::terminal_safe;
use crate::pipeline::text::grouped;
use crate::sink::neo4j::{Neo4jSink, SinkError};

#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error(transparent)]
    Question(#[from] QuestionError),
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// Answers `question` with its bound arguments ([`Question::bind`]).
pub async fn ask(
    config: &Config,
    question: &'static Question,
    args: Vec<(String, Arg)>,
) -> Result<Answered, AskError> {
    let sink = Neo4jSink::connect(config).await?;
    answer(&sink, question, args).await
}

/// Answers every question that needs no parameter, with its defaults: what
/// the HTML report shows.
pub async fn ask_all(config: &Config, include_missing: bool) -> Result<Vec<Answered>, AskError> {
    let sink = Neo4jSink::connect(config).await?;
    let mut out = Vec::new();
    for question in questions::catalogue().iter().filter(|q| q.needs_nothing()) {
        let args = question.bind(&[], include_missing)?;
        out.push(answer(&sink, question, args).await?);
    }
    Ok(out)
}

/// Answers `question` on a connected sink.
pub async fn answer(
    sink: &Neo4jSink,
    question: &'static Question,
    args: Vec<(String, Arg)>,
) -> Result<Answered, AskError> {
    let started = Instant::now();
    let Answer { columns, rows } = sink.ask(question, &args).await?;
    let parameters = args
        .into_iter()
        .map(|(name, value)| (name, serde_json::to_value(value).unwrap_or_default()))
        .collect();
    Ok(Answered {
        question: question.name,
        title: question.title.clone(),
        parameters,
        columns,
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// An answer as a table for a terminal: values from the graph escaped,
/// integers grouped, the parameters above and the row count below.
pub fn table(answered: &Answered) -> String {
    let parameters: Vec<String> = answered
        .parameters
        .iter()
        .map(|(name, value)| format!("{name}={}", terminal_safe(&cell(value))))
        .collect();
    let heading = format!("{}  ({})", answered.title, parameters.join(", "));
    if answered.rows.is_empty() {
        // Not a frame around nothing: some servers name no columns then.
        return format!(
            "{heading}\nNo row answers it: the graph holds nothing that fits (with these parameters). {:.2} s\n",
            answered.seconds
        );
    }
    let table = grid(&answered.columns, &answered.rows);
    let rows = match answered.rows.len() {
        1 => "1 row".to_string(),
        n => format!("{} rows", grouped(n)),
    };
    format!("{heading}\n{table}\n{rows} in {:.2} s\n", answered.seconds)
}

/// Columns and rows as a terminal table: values escaped, integers grouped
/// and to the right.
pub fn grid(columns: &[String], rows: &[Vec<serde_json::Value>]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(columns.iter().map(|c| terminal_safe(c)));
    for row in rows {
        table.add_row(row.iter().map(|value| {
            let text = match value.as_i64() {
                Some(n) => grouped(n).to_string(),
                None => terminal_safe(&cell(value)).into_owned(),
            };
            let cell = comfy_table::Cell::new(text);
            if value.is_number() {
                cell.set_alignment(comfy_table::CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    table
}

/// A JSON value as a table cell or CSV field: text without quotes, null as
/// nothing.
pub fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
