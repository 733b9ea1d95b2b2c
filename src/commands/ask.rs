//! `learngraph ask`: the analysts' catalogue of questions, answered by the
//! database as a table, JSON or CSV.

use anyhow::Context;

use crate::commands::{
    CONNECTING, ConfigArgs, Console, DatabaseArgs, Outcome, Shown, announce, print_report, write_stdout,
};
use crate::graph::questions::Answered;
use crate::graph::questions::{self, Arg, Question};
use crate::pipeline::ask::{ask, cell, table};
use crate::pipeline::outputs::spreadsheet_safe;

/// Answer one of the analysts' questions (each a Cypher file in the
/// repository's `questions/` folder), or list them when no name is given.
/// Read-only: each question runs in a transaction that is rolled back.
/// Learners marked missing by a later snapshot are left out unless
/// `--include-missing`.
#[derive(Debug, clap::Args)]
pub struct AskArgs {
    /// The question; leave it out to list the catalogue.
    pub question: Option<String>,
    /// A parameter of the question, NAME=VALUE (repeat for several).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Count learners that a later snapshot no longer holds.
    #[arg(long)]
    pub include_missing: bool,
    /// Print the answer as one JSON document.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the answer as CSV, a header line first.
    #[arg(long)]
    pub csv: bool,
    /// Print the question's Cypher file instead of answering it.
    #[arg(long, conflicts_with_all = ["json", "csv"])]
    pub cypher: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &AskArgs, console: Console) -> anyhow::Result<Outcome> {
    let Some(name) = &args.question else {
        print_catalogue(args.json)?;
        return Ok(Outcome::Success);
    };
    let question = questions::find(name)?;
    if args.cypher {
        write_stdout(question.file.as_bytes())?;
        return Ok(Outcome::Success);
    }
    let bound = question.bind(&args.params, args.include_missing)?;
    let config = args.config.load_connecting(&args.database)?;
    announce(
        &config,
        console,
        args.json || args.csv,
        Shown::Connection(&[CONNECTING]),
    );
    let answered = ask(&config, question, bound).await?;
    if args.json {
        write_stdout(format!("{}\n", serde_json::to_string_pretty(&answered)?).as_bytes())?;
    } else if args.csv {
        let mut csv = Vec::new();
        write_csv(&answered, &mut csv)?;
        write_stdout(&csv)?;
    } else {
        write_stdout(table(&answered).as_bytes())?;
    }
    Ok(Outcome::Success)
}

fn print_catalogue(json: bool) -> anyhow::Result<()> {
    let catalogue = questions::catalogue();
    print_report(json, &catalogue, || {
        let mut out = String::from("Questions (learngraph ask NAME [--param NAME=VALUE]...):\n");
        for question in catalogue {
            out.push_str(&format!("\n  {:<31} {}\n", question.name, question.title));
            out.push_str(&parameters_text(question));
        }
        out.push_str("\nEach is a Cypher file in questions/; `learngraph ask NAME --cypher` prints it.\n");
        out
    })
}

fn parameters_text(question: &Question) -> String {
    question
        .parameters
        .iter()
        .map(|p| {
            let default = match &p.default {
                None => "required".to_string(),
                // Its help says what the question takes in its place.
                Some(Arg::Null) => "optional".to_string(),
                Some(value) => format!("default {}", serde_json::to_string(value).unwrap_or_default()),
            };
            format!("  {:<31}   --param {}=...  {} ({default})\n", "", p.name, p.help)
        })
        .collect()
}

/// A value as a CSV field a spreadsheet opens as data: text that would run
/// as a formula is neutralized; numbers stay as they are.
fn csv_field(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => spreadsheet_safe(text).into_owned(),
        other => cell(other),
    }
}

fn write_csv(answered: &Answered, out: impl std::io::Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(&answered.columns)?;
    for row in &answered.rows {
        writer.write_record(row.iter().map(csv_field))?;
    }
    writer.flush().context("writing the answer to stdout")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered() -> Answered {
        Answered {
            question: "top-skills",
            title: "Top skills".into(),
            parameters: serde_json::Map::from_iter([("limit".to_string(), serde_json::json!(2))]),
            columns: vec!["skill".into(), "learners".into(), "since".into()],
            rows: vec![
                vec![
                    serde_json::json!("python, \"3\""),
                    serde_json::json!(12),
                    serde_json::Value::Null,
                ],
                vec![
                    serde_json::json!("sql"),
                    serde_json::json!(1.5),
                    serde_json::json!("2025-09-30"),
                ],
            ],
            seconds: 0.0,
        }
    }

    #[test]
    fn csv_quotes_what_needs_it_and_leaves_nulls_empty() {
        let mut out = Vec::new();
        write_csv(&answered(), &mut out).expect("writes");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "skill,learners,since\n\"python, \"\"3\"\"\",12,\n sql,1.5,2025-09-30\n".replace("\n ", "\n")
        );
    }

    #[test]
    fn the_table_shows_every_value_and_the_parameters() {
        let text = table(&answered());
        assert!(text.starts_with("Top skills  (limit=2)\n"), "{text}");
        for value in ["python, \"3\"", "12", "sql", "1.5", "2025-09-30", "2 rows"] {
            assert!(text.contains(value), "{value} in {text}");
        }
    }

    #[test]
    fn an_empty_answer_says_so_in_words_not_as_a_frame_around_nothing() {
        let mut empty = answered();
        empty.rows.clear();
        empty.columns.clear();
        let text = table(&empty);
        assert!(text.contains("No row answers it"), "{text}");
        assert!(!text.contains('─') && !text.contains("0 rows"), "{text}");
        let mut one = answered();
        one.rows.truncate(1);
        assert!(table(&one).contains("\n1 row in "), "{}", table(&one));
    }

    #[test]
    fn a_parameter_that_may_be_left_out_says_what_its_absence_means() {
        let transitions = questions::find("state-transitions").expect("a question");
        let text = parameters_text(transitions);
        assert!(!text.contains("null"), "{text}");
        assert!(
            text.contains("--param from=...") && text.contains("the snapshot before the latest"),
            "{text}"
        );
    }

    #[test]
    fn the_table_groups_digits_and_csv_keeps_plain_numbers() {
        let mut answered = answered();
        answered.rows[0][1] = serde_json::json!(1_234_567);
        let text = table(&answered);
        assert!(text.contains("1,234,567"), "{text}");
        let mut out = Vec::new();
        write_csv(&answered, &mut out).expect("writes");
        let csv = String::from_utf8(out).expect("utf-8");
        assert!(csv.contains(",1234567,"), "{csv}");
    }
}
