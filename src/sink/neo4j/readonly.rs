//! Cypher an analyst (or an analyst's assistant) wrote, run so that it can
//! change nothing and cost little: safe by construction, not by a keyword
//! list. The statement is first explained by the server, in a read-access
//! transaction: the server parses it (one statement only, or it refuses),
//! says what kind of query it is, and plans it. Only a read query whose
//! plan holds no refused operator (`LOAD CSV`, administration, `SHOW` and
//! `TERMINATE` commands, writes, `CALL ... IN TRANSACTIONS`) and no
//! procedure outside [`ALLOWED_PROCEDURES`] runs, again in a read-access
//! transaction (the server refuses any write in it) that is rolled back,
//! under a server-side deadline, with a row limit.

use std::time::Duration;

pub use super::bolt::Cut;
use super::bolt::{BoltError, Param, Statement};
use super::{Neo4jSink, failure};
use neo4j::summary::{Plan, SummaryQueryType};

/// Procedures a read-only statement may call: the schema's own listings.
pub const ALLOWED_PROCEDURES: [&str; 6] = [
    "db.labels",
    "db.relationshipTypes",
    "db.propertyKeys",
    "db.schema.visualization",
    "db.schema.nodeTypeProperties",
    "db.schema.relTypeProperties",
];

/// Plan operators (by name, before `@`) that no read-only statement may
/// hold, by prefix, and why.
const REFUSED_OPERATORS: [(&str, &str); 14] = [
    ("LoadCSV", "LOAD CSV reads files from the server or the network"),
    ("Show", "SHOW commands read the server's administration"),
    ("Terminate", "TERMINATE ends other users' transactions"),
    ("Create", "it writes"),
    ("Merge", "it writes"),
    ("Set", "it writes"),
    ("Remove", "it writes"),
    ("Delete", "it writes"),
    ("DetachDelete", "it writes"),
    ("Foreach", "FOREACH writes"),
    ("TransactionApply", "CALL ... IN TRANSACTIONS commits on its own"),
    (
        "TransactionForeach",
        "CALL ... IN TRANSACTIONS commits on its own",
    ),
    ("SystemProcedureCall", "it calls an administration procedure"),
    ("AdministrationCommand", "it is an administration command"),
];

/// A read-only statement and its bounds.
#[derive(Clone, Debug)]
pub struct ReadOnlyQuery {
    pub text: String,
    pub params: Vec<(String, Param)>,
    /// At most this many rows come back; the answer says when it was cut.
    pub row_limit: usize,
    /// At most this many bytes of rows (as JSON) come back: a few rows of
    /// huge values are cut as many small ones are.
    pub byte_limit: usize,
    /// The server ends the transaction past this; so does the client.
    pub deadline: Duration,
}

/// The rows of a read-only statement.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadOnlyAnswer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Why the answer holds fewer rows than the statement returned.
    pub cut: Option<Cut>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadOnlyError {
    #[error("refused: {0}; nothing ran")]
    Refused(String),
    #[error("the server refused the statement: {0}")]
    Invalid(String),
    #[error("the statement ran past its deadline of {} s and was stopped; narrow it (a LIMIT, a WHERE)", .0.as_secs())]
    TimedOut(Duration),
    #[error("the database did not answer: {0}")]
    Unavailable(String),
}

/// One plan operator, as the policy reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    /// The operator's name without its runtime (`ProcedureCall`).
    pub name: String,
    /// What the plan says of it (a procedure call's signature, say).
    pub details: String,
}

impl Operator {
    fn all_of(plan: &Plan, out: &mut Vec<Operator>) {
        let details = match plan.args.get("Details") {
            Some(neo4j::ValueReceive::String(text)) => text.clone(),
            _ => String::new(),
        };
        let name = plan.op_type.split('@').next().unwrap_or_default().to_string();
        out.push(Operator { name, details });
        for child in &plan.children {
            Operator::all_of(child, out);
        }
    }
}

/// The kind of query the server says a statement is, as a word.
fn kind_of(query_type: Option<&SummaryQueryType>) -> &'static str {
    match query_type {
        Some(SummaryQueryType::Read) => "read",
        Some(SummaryQueryType::Write) => "write",
        Some(SummaryQueryType::ReadWrite) => "read-write",
        Some(SummaryQueryType::Schema) => "schema",
        _ => "unknown",
    }
}

/// Why a statement the server explained as `kind` with these operators may
/// not run, if it may not.
pub fn refusal(kind: &str, operators: &[Operator]) -> Option<String> {
    if kind != "read" {
        return Some(format!(
            "the server says this is a {kind} query; only reads run here"
        ));
    }
    for operator in operators {
        if let Some((_, why)) = REFUSED_OPERATORS
            .iter()
            .find(|(prefix, _)| operator.name.starts_with(prefix))
        {
            return Some(format!("its plan holds {} ({why})", operator.name));
        }
        if operator.name.contains("ProcedureCall") {
            let procedure = operator
                .details
                .split('(')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            if !ALLOWED_PROCEDURES.contains(&procedure.as_str()) {
                return Some(format!(
                    "it calls the procedure {procedure}, which is not one of {}",
                    ALLOWED_PROCEDURES.join(", ")
                ));
            }
        }
    }
    None
}

impl Neo4jSink {
    /// Explains `query`, refuses it unless it is a plain read, then runs
    /// it in a read-access transaction that is rolled back. One attempt:
    /// an analyst's statement is not retried behind their back.
    pub async fn read_only(&self, query: &ReadOnlyQuery) -> Result<ReadOnlyAnswer, ReadOnlyError> {
        let statement = Statement::new("read-only statement", &query.text).params(query.params.clone());
        let bolt = self.bolt().await;
        let explained = bolt
            .explain(statement.clone(), query.deadline)
            .await
            .map_err(|e| answered(e, query.deadline))?;
        let mut operators = Vec::new();
        if let Some(plan) = &explained.plan {
            Operator::all_of(plan, &mut operators);
        }
        if let Some(why) = refusal(kind_of(explained.query_type.as_ref()), &operators) {
            return Err(ReadOnlyError::Refused(why));
        }
        let (columns, rows, cut) = bolt
            .answer_read_only(statement, (query.row_limit, query.byte_limit), query.deadline)
            .await
            .map_err(|e| answered(e, query.deadline))?;
        Ok(ReadOnlyAnswer { columns, rows, cut })
    }
}

/// A failed read-only call in the analyst's terms.
fn answered(error: BoltError, deadline: Duration) -> ReadOnlyError {
    if matches!(error, BoltError::TimedOut(_)) {
        return ReadOnlyError::TimedOut(deadline);
    }
    match error.server_message() {
        Some(message) if message.contains("TransactionTimedOut") || message.contains("timed out") => {
            ReadOnlyError::TimedOut(deadline)
        }
        Some(_) if error.needs_new_connection() => ReadOnlyError::Unavailable(failure::describe(&error)),
        Some(message) => ReadOnlyError::Invalid(message.to_string()),
        None => ReadOnlyError::Unavailable(failure::describe(&error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str, details: &str) -> Operator {
        Operator {
            name: name.to_string(),
            details: details.to_string(),
        }
    }

    #[test]
    fn only_a_plain_read_runs() {
        let read = [op("ProduceResults", ""), op("NodeByLabelScan", "l:Learner")];
        assert_eq!(refusal("read", &read), None);
        for kind in ["write", "read-write", "schema", "unknown"] {
            assert!(refusal(kind, &read).expect("refused").contains(kind));
        }
    }

    #[test]
    fn refused_operators_are_named_with_the_reason() {
        for (name, word) in [
            ("LoadCSV", "LOAD CSV"),
            ("ShowTransactions", "SHOW"),
            ("TerminateTransactions", "TERMINATE"),
            ("TransactionForeach", "IN TRANSACTIONS"),
            ("Foreach", "FOREACH"),
        ] {
            let why = refusal("read", &[op("ProduceResults", ""), op(name, "")]).expect("refused");
            assert!(why.contains(name) && why.contains(word), "{why}");
        }
    }

    #[test]
    fn only_the_schema_listings_may_be_called() {
        let allowed = [op("ProcedureCall", "db.labels() :: (label :: STRING)")];
        assert_eq!(refusal("read", &allowed), None);
        let other = [op("ProcedureCall", "dbms.listConfig(\"\") :: (name :: STRING)")];
        assert!(
            refusal("read", &other)
                .expect("refused")
                .contains("dbms.listConfig")
        );
        let eager = [op("EagerProcedureCall", "db.createLabel(\"X\")")];
        assert!(
            refusal("read", &eager)
                .expect("refused")
                .contains("db.createLabel")
        );
    }
}
