//! `ask`: the analysts' questions of [`crate::graph::questions`] answered
//! by the database, each in a transaction that is rolled back.

use std::time::Instant;

use crate::config::Config;
use crate::graph::questions::{self, Answer, Answered, Arg, Question, QuestionError};
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

async fn answer(
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
