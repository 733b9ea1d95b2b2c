//! The analysts' catalogue: named, parameterised, read-only questions about
//! the graph, each a Cypher file in the repository's `questions/` folder
//! that an analyst can read and copy. The binary carries them compiled in.
//!
//! A file starts with a comment header: its first line is the title, the
//! next lines the description, and `// param NAME: TYPE [MIN..MAX] [= DEFAULT]  text`
//! lines declare its parameters (a parameter without a default is
//! required; `= null` makes it optional). Every question also takes
//! `$includeMissing`: the latest snapshot's view leaves out learners marked
//! missing unless it is `true`.

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::Serialize;

/// The parameter every question takes: whether learners marked missing
/// by a later snapshot count.
pub const INCLUDE_MISSING: &str = "includeMissing";

/// The question files, by name (the file name without `.cypher`).
const FILES: [(&str, &str); 9] = [
    (
        "learners-per-country",
        include_str!("../../questions/learners-per-country.cypher"),
    ),
    (
        "program-completion",
        include_str!("../../questions/program-completion.cypher"),
    ),
    (
        "graduate-employment",
        include_str!("../../questions/graduate-employment.cypher"),
    ),
    (
        "time-to-first-job",
        include_str!("../../questions/time-to-first-job.cypher"),
    ),
    ("top-skills", include_str!("../../questions/top-skills.cypher")),
    (
        "top-skills-employed-graduates",
        include_str!("../../questions/top-skills-employed-graduates.cypher"),
    ),
    (
        "learner-journey",
        include_str!("../../questions/learner-journey.cypher"),
    ),
    (
        "state-transitions",
        include_str!("../../questions/state-transitions.cypher"),
    ),
    (
        "population-over-time",
        include_str!("../../questions/population-over-time.cypher"),
    ),
];

/// The type of a parameter, as its file declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Integer,
    Float,
    String,
    Date,
    Boolean,
}

impl Kind {
    fn parse(word: &str) -> Option<Kind> {
        Some(match word {
            "integer" => Kind::Integer,
            "float" => Kind::Float,
            "string" => Kind::String,
            "date" => Kind::Date,
            "boolean" => Kind::Boolean,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Integer => "an integer",
            Kind::Float => "a number",
            Kind::String => "a text",
            Kind::Date => "a date (yyyy-mm-dd)",
            Kind::Boolean => "true or false",
        }
    }
}

/// A parameter's value, typed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    Null,
    Integer(i64),
    Float(f64),
    String(String),
    Date(NaiveDate),
    Boolean(bool),
}

impl Arg {
    fn parse(kind: Kind, text: &str) -> Option<Arg> {
        if text == "null" {
            return Some(Arg::Null);
        }
        Some(match kind {
            Kind::Integer => Arg::Integer(text.parse().ok()?),
            Kind::Float => Arg::Float(text.parse().ok().filter(|n: &f64| n.is_finite())?),
            Kind::String => Arg::String(text.to_string()),
            Kind::Date => Arg::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?),
            Kind::Boolean => Arg::Boolean(text.parse().ok()?),
        })
    }
}

/// A declared parameter.
#[derive(Clone, Debug, Serialize)]
pub struct Parameter {
    pub name: String,
    pub kind: Kind,
    /// `None`: required.
    pub default: Option<Arg>,
    pub help: String,
    /// The bounds of an integer, as declared (`integer 1..10000`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
}

/// One question of the catalogue.
#[derive(Clone, Debug, Serialize)]
pub struct Question {
    pub name: &'static str,
    pub title: String,
    pub description: String,
    pub parameters: Vec<Parameter>,
    /// The Cypher statement, the header left out.
    pub cypher: String,
    /// The whole file, as an analyst reads it.
    #[serde(skip)]
    pub file: &'static str,
}

/// An answer: its columns in the statement's order and its rows, values
/// as JSON (dates as `yyyy-mm-dd` text).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// One question answered: what was asked, with which values, and the answer.
#[derive(Debug, Serialize)]
pub struct Answered {
    pub question: &'static str,
    pub title: String,
    pub parameters: serde_json::Map<String, serde_json::Value>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub seconds: f64,
}

impl Answered {
    /// The value in `column` of `row`; null where there is none.
    pub fn value<'a>(&self, row: &'a [serde_json::Value], column: &str) -> &'a serde_json::Value {
        static NULL: serde_json::Value = serde_json::Value::Null;
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| row.get(i))
            .unwrap_or(&NULL)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QuestionError {
    #[error("there is no question named {name:?}; the catalogue has: {known}")]
    Unknown { name: String, known: String },
    #[error("{question} has no parameter {name:?}; it takes: {known}")]
    UnknownParameter {
        question: String,
        name: String,
        known: String,
    },
    #[error("{question} needs --param {name}=VALUE ({help})")]
    Missing {
        question: String,
        name: String,
        help: String,
    },
    #[error("--param {name}={value:?} is not {expected}")]
    BadValue {
        name: String,
        value: String,
        expected: &'static str,
    },
    #[error("--param {name}={value} is out of range: {question} takes {name} from {minimum} to {maximum}")]
    OutOfRange {
        question: String,
        name: String,
        value: i64,
        minimum: i64,
        maximum: i64,
    },
    #[error("--param {0:?} is not NAME=VALUE")]
    NotNameValue(String),
}

/// The catalogue, in the order the questions are listed.
pub fn catalogue() -> &'static [Question] {
    static CATALOGUE: LazyLock<Vec<Question>> = LazyLock::new(|| {
        FILES
            .iter()
            .map(|(name, file)| parse(name, file).unwrap_or_else(|e| panic!("questions/{name}.cypher: {e}")))
            .collect()
    });
    &CATALOGUE
}

/// The question of this name.
pub fn find(name: &str) -> Result<&'static Question, QuestionError> {
    catalogue()
        .iter()
        .find(|q| q.name == name)
        .ok_or_else(|| QuestionError::Unknown {
            name: name.to_string(),
            known: catalogue().iter().map(|q| q.name).collect::<Vec<_>>().join(", "),
        })
}

/// Reads a file's header and statement. The files are compiled in, and a
/// unit test parses every one, so a mistake here fails the tests.
fn parse(name: &'static str, file: &'static str) -> Result<Question, String> {
    let mut header = Vec::new();
    let mut parameters = Vec::new();
    let mut cypher = String::new();
    for line in file.lines() {
        match line.strip_prefix("//") {
            Some(comment) if cypher.is_empty() => {
                let comment = comment.trim();
                if let Some(declaration) = comment.strip_prefix("param ") {
                    parameters.push(parse_parameter(declaration)?);
                } else {
                    header.push(comment.to_string());
                }
            }
            _ => {
                cypher.push_str(line);
                cypher.push('\n');
            }
        }
    }
    let title = header.first().cloned().ok_or("no title line")?;
    Ok(Question {
        name,
        title,
        description: header[1..].join(" "),
        parameters,
        cypher,
        file,
    })
}

/// `limit: integer = 20  how many` -> a parameter.
fn parse_parameter(declaration: &str) -> Result<Parameter, String> {
    let (name, rest) = declaration
        .split_once(':')
        .ok_or_else(|| format!("param line {declaration:?} has no `name: type`"))?;
    let rest = rest.trim_start();
    let (kind_word, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let kind = Kind::parse(kind_word).ok_or_else(|| format!("unknown parameter type {kind_word:?}"))?;
    let mut rest = rest.trim_start();
    let (mut minimum, mut maximum) = (None, None);
    if kind == Kind::Integer {
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if let Some((low, high)) = word.split_once("..") {
            minimum = Some(
                low.parse()
                    .map_err(|_| format!("bound {low:?} is not an integer"))?,
            );
            maximum = Some(
                high.parse()
                    .map_err(|_| format!("bound {high:?} is not an integer"))?,
            );
            rest = after.trim_start();
        }
    }
    let (default, help) = match rest.strip_prefix('=') {
        Some(after) => {
            let after = after.trim_start();
            let (value, help) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
            let value =
                Arg::parse(kind, value).ok_or_else(|| format!("default {value:?} is not {}", kind.name()))?;
            (Some(value), help)
        }
        None => (None, rest),
    };
    Ok(Parameter {
        name: name.trim().to_string(),
        kind,
        default,
        help: help.trim().to_string(),
        minimum,
        maximum,
    })
}

impl Question {
    /// The statement's parameters from `NAME=VALUE` pairs given by the
    /// user, the defaults for the rest, and `includeMissing`.
    pub fn bind(&self, given: &[String], include_missing: bool) -> Result<Vec<(String, Arg)>, QuestionError> {
        let mut values: Vec<(String, Option<Arg>)> = self
            .parameters
            .iter()
            .map(|p| (p.name.clone(), p.default.clone()))
            .collect();
        for pair in given {
            let (name, text) = pair
                .split_once('=')
                .ok_or_else(|| QuestionError::NotNameValue(pair.clone()))?;
            let Some(declared) = self.parameters.iter().position(|p| p.name == name) else {
                return Err(QuestionError::UnknownParameter {
                    question: self.name.to_string(),
                    name: name.to_string(),
                    known: self.parameter_names(),
                });
            };
            let parameter = &self.parameters[declared];
            // `null` is a value only where the question says it may be one
            // (an optional date): elsewhere the server would fail on it.
            let may_be_null = parameter.default == Some(Arg::Null);
            let value = Arg::parse(parameter.kind, text)
                .filter(|value| *value != Arg::Null || may_be_null)
                .ok_or_else(|| QuestionError::BadValue {
                    name: name.to_string(),
                    value: text.to_string(),
                    expected: parameter.kind.name(),
                })?;
            if let (Arg::Integer(n), Some(minimum), Some(maximum)) =
                (&value, parameter.minimum, parameter.maximum)
                && !(minimum..=maximum).contains(n)
            {
                return Err(QuestionError::OutOfRange {
                    question: self.name.to_string(),
                    name: name.to_string(),
                    value: *n,
                    minimum,
                    maximum,
                });
            }
            values[declared].1 = Some(value);
        }
        let mut bound = Vec::with_capacity(values.len() + 1);
        for (parameter, (name, value)) in self.parameters.iter().zip(values) {
            let value = value.ok_or_else(|| QuestionError::Missing {
                question: self.name.to_string(),
                name: name.clone(),
                help: parameter.help.clone(),
            })?;
            bound.push((name, value));
        }
        bound.push((INCLUDE_MISSING.to_string(), Arg::Boolean(include_missing)));
        Ok(bound)
    }

    /// Whether the question runs with no parameter given.
    pub fn needs_nothing(&self) -> bool {
        self.parameters.iter().all(|p| p.default.is_some())
    }

    fn parameter_names(&self) -> String {
        if self.parameters.is_empty() {
            return "no parameters".to_string();
        }
        self.parameters
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integer_out_of_its_declared_bounds_is_a_usage_error_before_any_query() {
        for question in catalogue() {
            for parameter in question.parameters.iter().filter(|p| p.kind == Kind::Integer) {
                let (Some(minimum), Some(maximum)) = (parameter.minimum, parameter.maximum) else {
                    panic!("{} declares {} without bounds", question.name, parameter.name);
                };
                for value in [minimum - 1, maximum + 1, i64::MIN, i64::MAX] {
                    let given = [format!("{}={value}", parameter.name)];
                    let error = question.bind(&given, false).expect_err("out of range");
                    assert!(matches!(error, QuestionError::OutOfRange { .. }), "{error}");
                    assert!(
                        error
                            .to_string()
                            .contains(&format!("from {minimum} to {maximum}")),
                        "{error}"
                    );
                }
                let given = [format!("{}={minimum}", parameter.name)];
                question.bind(&given, false).expect("in range");
            }
        }
    }

    #[test]
    fn every_file_parses_with_a_title_a_statement_and_its_parameters_declared() {
        assert_eq!(catalogue().len(), FILES.len());
        for question in catalogue() {
            assert!(!question.title.is_empty(), "{}", question.name);
            assert!(!question.description.is_empty(), "{}", question.name);
            assert!(question.cypher.contains("RETURN"), "{}", question.name);
            assert!(
                question.cypher.contains("$includeMissing"),
                "{} must honour the latest snapshot's view",
                question.name
            );
            let used: std::collections::BTreeSet<&str> = question
                .cypher
                .split('$')
                .skip(1)
                .map(|s| s.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or(""))
                .collect();
            let mut declared: std::collections::BTreeSet<&str> =
                question.parameters.iter().map(|p| p.name.as_str()).collect();
            declared.insert(INCLUDE_MISSING);
            assert_eq!(
                used, declared,
                "{}: parameters used and declared differ",
                question.name
            );
        }
    }

    #[test]
    fn questions_never_write() {
        for question in catalogue() {
            let upper = question.cypher.to_uppercase();
            for word in ["CREATE", "MERGE", "DELETE", "SET ", "REMOVE", "DETACH"] {
                assert!(!upper.contains(word), "{} contains {word}", question.name);
            }
        }
    }

    #[test]
    fn binding_takes_defaults_typed_values_and_refuses_what_does_not_fit() {
        let top = find("top-skills").expect("in the catalogue");
        assert_eq!(
            top.bind(&[], false).expect("defaults"),
            vec![
                ("limit".to_string(), Arg::Integer(20)),
                (INCLUDE_MISSING.to_string(), Arg::Boolean(false)),
            ]
        );
        assert_eq!(
            top.bind(&["limit=5".to_string()], true).expect("given")[0],
            ("limit".to_string(), Arg::Integer(5))
        );
        assert!(matches!(
            top.bind(&["limit=five".to_string()], false),
            Err(QuestionError::BadValue { .. })
        ));
        assert!(
            matches!(
                top.bind(&["limit=null".to_string()], false),
                Err(QuestionError::BadValue { .. })
            ),
            "a limit is never null"
        );
        assert!(matches!(
            top.bind(&["top=5".to_string()], false),
            Err(QuestionError::UnknownParameter { .. })
        ));
        assert!(matches!(
            top.bind(&["limit".to_string()], false),
            Err(QuestionError::NotNameValue(_))
        ));
        let journey = find("learner-journey").expect("in the catalogue");
        assert!(!journey.needs_nothing());
        let missing = journey.bind(&[], false).expect_err("learner is required");
        assert!(missing.to_string().contains("--param learner=VALUE"), "{missing}");
        let transitions = find("state-transitions").expect("in the catalogue");
        assert!(transitions.needs_nothing());
        assert_eq!(
            transitions
                .bind(&["from=2025-09-30".to_string()], false)
                .expect("a date")[0]
                .1,
            Arg::Date(NaiveDate::from_ymd_opt(2025, 9, 30).expect("a date"))
        );
        assert_eq!(
            transitions
                .bind(&["from=null".to_string()], false)
                .expect("an optional date may be null")[0]
                .1,
            Arg::Null
        );
        assert!(find("no-such-question").is_err());
    }
}
