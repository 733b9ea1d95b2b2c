//! The one place that talks to the driver: the `neo4j` crate (Bolt 4.4 and
//! 5.x, cluster routing, TLS with system, custom or any certificates), put
//! behind a small async front.
//!
//! The driver's API blocks, so each call runs on a thread of its own and
//! the caller awaits its answer against a deadline
//! (`neo4j.query_timeout_seconds`). A call past its deadline is abandoned:
//! its thread may stay blocked on a dead socket, but the load goes on with
//! a fresh driver (see [`BoltError::needs_new_connection`]); the server is
//! also told the same deadline, so it ends the transaction on its side.
//!
//! Every call is routed to the writer the server names (for `neo4j://` and
//! `neo4j+s://`), reads included: after a write, a read on the same member
//! sees it without bookmarks.
//!
//! The server's notifications (deprecations, performance warnings) are
//! logged once per statement kind and code, not once per batch.

// The driver's own API returns its large error type by value (it allows
// this lint itself); the closures here hand it on unchanged.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use neo4j::driver::Record;
use neo4j::driver::auth::AuthToken;
use neo4j::driver::notification::NotificationFilter;
use neo4j::driver::{ConnectionConfig, Driver, DriverConfig, KeepAliveConfig, RoutingControl};
use neo4j::session::SessionConfig;
use neo4j::summary::{Notification, Plan, Severity, Summary, SummaryQueryType};
use neo4j::transaction::TransactionTimeout;
use neo4j::{Neo4jError, ValueReceive};

use crate::graph::records::Value;

pub use neo4j::ValueSend as Param;

/// What a driver needs to connect: the validated `neo4j.*` settings.
pub struct ConnectOptions {
    pub uri: String,
    pub user: String,
    /// Never printed.
    pub password: String,
    pub database: String,
    pub max_connection_pool_size: usize,
    /// The deadline of each call, and of the server's transaction.
    pub query_timeout: Duration,
    /// The deadline of connecting (TCP, TLS, the Bolt handshake and a
    /// first trivial query).
    pub connect_timeout: Duration,
    /// A PEM file of CA certificates to trust instead of the system's.
    pub trusted_ca: Option<PathBuf>,
}

/// A statement, its parameters, and the kind of statement it is (what
/// its notifications are logged under).
#[derive(Clone, Debug)]
pub struct Statement {
    pub kind: Arc<str>,
    pub text: Arc<str>,
    pub params: HashMap<String, Param>,
}

/// Every statement's text passes here on its way to the server, traced
/// (target `learngraph::cypher`, level trace): tests/cypher_lint.rs holds
/// what real runs send against the catalogue Neo4j's front end lints.
fn sent<'a>(kind: &str, text: &'a str) -> &'a str {
    tracing::trace!(target: "learngraph::cypher", kind, text, "Cypher sent");
    text
}

impl Statement {
    fn sent(&self) -> &str {
        sent(&self.kind, &self.text)
    }

    pub fn new(kind: &str, text: &str) -> Self {
        Statement {
            kind: Arc::from(kind),
            text: Arc::from(text),
            params: HashMap::new(),
        }
    }

    pub fn param(mut self, name: &str, value: Param) -> Self {
        self.params.insert(name.to_string(), value);
        self
    }

    pub fn params(mut self, params: impl IntoIterator<Item = (String, Param)>) -> Self {
        self.params.extend(params);
        self
    }
}

/// One row of a read, its columns by name.
#[derive(Debug)]
pub struct Row(Record);

impl Row {
    pub fn str(&self, column: &str) -> Option<String> {
        match self.0.value(column)? {
            ValueReceive::String(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn int(&self, column: &str) -> Option<i64> {
        match self.0.value(column)? {
            ValueReceive::Integer(n) => Some(*n),
            _ => None,
        }
    }

    pub fn bool(&self, column: &str) -> Option<bool> {
        match self.0.value(column)? {
            ValueReceive::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// A column as a loader value; `None` when it is null or of a kind the
    /// loader never writes.
    pub fn value(&self, column: &str) -> Option<Value> {
        loader_value(self.0.value(column)?)
    }

    /// A map column's entries as loader values, sorted by name; nulls and
    /// values of other kinds are left out.
    pub fn map(&self, column: &str) -> Option<Vec<(String, Value)>> {
        let ValueReceive::Map(map) = self.0.value(column)? else {
            return None;
        };
        let mut entries: Vec<(String, Value)> = map
            .iter()
            .filter_map(|(name, value)| Some((name.clone(), loader_value(value)?)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Some(entries)
    }

    /// Every value, in column order, as JSON ([`json_value`]).
    pub fn to_json(&self) -> Vec<serde_json::Value> {
        self.0.values().map(json_value).collect()
    }

    pub fn date(&self, column: &str) -> Option<NaiveDate> {
        match self.0.value(column)? {
            ValueReceive::Date(d) => Some(*d),
            _ => None,
        }
    }
}

/// A value as the loader writes it; `None` for a null or a kind it never
/// writes.
fn loader_value(value: &ValueReceive) -> Option<Value> {
    Some(match value {
        ValueReceive::String(s) => Value::Str(s.clone()),
        ValueReceive::Integer(n) => Value::Int(*n),
        ValueReceive::Float(n) => Value::Float(*n),
        ValueReceive::Boolean(b) => Value::Bool(*b),
        ValueReceive::Date(d) => Value::Date(*d),
        _ => return None,
    })
}

/// A value as JSON: dates as `yyyy-mm-dd`, nodes and relationships as
/// their properties, other temporal and spatial values as their text.
fn json_value(value: &ValueReceive) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        ValueReceive::Null => Json::Null,
        ValueReceive::Boolean(b) => Json::Bool(*b),
        ValueReceive::Integer(n) => Json::from(*n),
        ValueReceive::Float(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        ValueReceive::String(s) => Json::String(s.clone()),
        ValueReceive::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
        ValueReceive::List(items) => Json::Array(items.iter().map(json_value).collect()),
        ValueReceive::Map(map) => map_value(map),
        ValueReceive::Node(node) => map_value(&node.properties),
        ValueReceive::Relationship(rel) => map_value(&rel.properties),
        other => Json::String(format!("{other:?}")),
    }
}

fn map_value(map: &HashMap<String, ValueReceive>) -> serde_json::Value {
    serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), json_value(v))).collect())
}

/// Runs one of the guard's statements (`check` or `fence`) in `tx`: the
/// refusal when it says the lock is not held.
fn guard_refusal(
    tx: &neo4j::transaction::Transaction,
    guard: &WriteGuard,
    statement: &Statement,
) -> Result<Option<String>, Neo4jError> {
    let mut stream = tx
        .query(statement.sent())
        .with_parameters(&statement.params)
        .run()?;
    let held = stream
        .by_ref()
        .next()
        .transpose()?
        .and_then(|record| Row(record).bool("held"))
        .unwrap_or(false);
    stream.consume()?;
    Ok((!held).then(|| guard.refused.clone()))
}

/// How a transaction ends once its work is done.
#[derive(Clone, Copy)]
enum Ending {
    Commit,
    RollBack,
}

/// What `EXPLAIN` says of a statement.
#[derive(Clone, Debug)]
pub struct Explained {
    pub query_type: Option<SummaryQueryType>,
    pub plan: Option<Plan>,
}

/// Who answered: the server's agent string, the Bolt version agreed and the
/// member that served the call (the writer, under routing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    pub agent: String,
    pub protocol: (u8, u8),
    pub address: String,
}

impl ServerInfo {
    /// Neo4j itself, not a server that speaks Bolt for compatibility (whose
    /// agent also begins with `Neo4j/`).
    pub fn is_neo4j(&self) -> bool {
        crate::config::is_neo4j(&self.agent)
    }
}

/// Which limit cut a read-only answer short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    Rows,
    Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum BoltError {
    #[error(transparent)]
    Driver(Box<Neo4jError>),
    #[error("the server did not answer within {} s (neo4j.query_timeout_seconds)", .0.as_secs())]
    TimedOut(Duration),
    #[error(
        "the server accepted no Bolt connection within {} s (neo4j.connect_timeout_seconds): it does not answer the \
         handshake",
        .0.as_secs()
    )]
    ConnectTimedOut(Duration),
    #[error("the database call ended without an answer")]
    Abandoned,
    #[error("{0}")]
    Config(String),
    /// The write guard refused the transaction: the run no longer holds
    /// the load lock (see [`WriteGuard`]).
    #[error("{0}")]
    GuardRefused(String),
}

impl From<Neo4jError> for BoltError {
    fn from(error: Neo4jError) -> Self {
        BoltError::Driver(Box::new(error))
    }
}

impl BoltError {
    /// The driver's own error, when it is one.
    pub fn driver(&self) -> Option<&Neo4jError> {
        match self {
            BoltError::Driver(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the connection the call used is gone or cannot be trusted,
    /// so that the next attempt needs a fresh driver.
    pub fn needs_new_connection(&self) -> bool {
        matches!(
            self,
            BoltError::TimedOut(_) | BoltError::ConnectTimedOut(_) | BoltError::Abandoned
        ) || matches!(
            self.driver(),
            // After a reply that does not fit its request, the connection's
            // place in the conversation is unknown: it is not used again.
            Some(Neo4jError::Disconnect { .. } | Neo4jError::ProtocolError { .. })
        )
    }

    /// The server's status code, when the server sent one.
    pub fn server_code(&self) -> Option<&str> {
        match self.driver()? {
            Neo4jError::ServerError { error, .. } => Some(error.code()),
            _ => None,
        }
    }

    /// The server's message, when the server sent one.
    pub fn server_message(&self) -> Option<&str> {
        match self.driver()? {
            Neo4jError::ServerError { error, .. } => Some(error.message()),
            _ => None,
        }
    }
}

/// A driver with its deadline and its record of notifications already
/// logged. Cheap to clone; clones share the driver.
#[derive(Clone)]
pub struct Bolt {
    driver: Arc<Driver>,
    database: Arc<String>,
    timeout: Duration,
    connect_timeout: Duration,
    notified: Arc<Notified>,
    guard: Arc<Mutex<Option<WriteGuard>>>,
}

/// A condition every write transaction checks before it writes anything:
/// the load lock still being this run's. It fails without asking the
/// server once its deadline has passed (the run has not confirmed its hold
/// for too long), and otherwise runs `check` (a statement returning one
/// row with a boolean `held`) first in the transaction, rolling back if it
/// is not held. Reads, and writes on [`Bolt::write_unguarded`], skip it.
#[derive(Clone, Debug)]
pub struct WriteGuard {
    /// Run first in each write transaction: `held`, or nothing is written.
    pub check: Statement,
    /// Run last in each write transaction, where the server can make it a
    /// fence (Neo4j): `held`, or the transaction is rolled back.
    pub fence: Option<Statement>,
    /// After this instant nothing is written.
    pub deadline: std::time::Instant,
    /// Why a write past the deadline is refused.
    pub expired: String,
    /// Why a write is refused when `check` says not held.
    pub refused: String,
}

/// The (statement kind, notification code) pairs already logged.
#[derive(Default)]
struct Notified(Mutex<HashSet<(String, String)>>);

impl Notified {
    /// Whether this pair is seen for the first time (and so is logged).
    fn first(&self, kind: &str, code: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((kind.to_string(), code.to_string()))
    }
}

impl Bolt {
    /// A driver for `options`. Connects lazily: the first call does.
    pub fn open(options: &ConnectOptions) -> Result<Self, BoltError> {
        let mut connection: ConnectionConfig = options
            .uri
            .parse()
            .map_err(|e| BoltError::Config(format!("neo4j.uri {:?} cannot be used: {e}", options.uri)))?;
        if let Some(ca) = &options.trusted_ca {
            connection = connection.with_encryption_trust_custom_cas(&[ca]).map_err(|e| {
                BoltError::Config(format!("neo4j.trusted_ca {}: {}", ca.display(), e.message))
            })?;
        }
        let timeout = options.query_timeout;
        let config = DriverConfig::new()
            .with_auth(Arc::new(AuthToken::new_basic_auth(
                &options.user,
                &options.password,
            )))
            .with_max_connection_pool_size(options.max_connection_pool_size)
            .with_connection_timeout(options.connect_timeout)
            // The driver's own bound is a backstop behind ours (the call
            // and connect deadlines): were it equal, a silent server's
            // error would race between "connection lost" and the deadline
            // that names its setting.
            .with_connection_acquisition_timeout(timeout + options.connect_timeout)
            .with_keep_alive(KeepAliveConfig::CustomTime(Duration::from_secs(60)))
            .with_notification_filter(NotificationFilter::default())
            .with_fetch_size(1_000)
            .map_err(|e| BoltError::Config(e.to_string()))?;
        Ok(Bolt {
            driver: Arc::new(Driver::new(connection, config)),
            database: Arc::new(options.database.clone()),
            timeout,
            connect_timeout: options.connect_timeout,
            notified: Arc::new(Notified::default()),
            guard: Arc::new(Mutex::new(None)),
        })
    }

    /// A fresh driver with the same settings, for after a lost connection.
    pub fn reopen(&self, options: &ConnectOptions) -> Result<Self, BoltError> {
        let fresh = Bolt::open(options)?;
        Ok(Bolt {
            notified: self.notified.clone(),
            guard: self.guard.clone(),
            ..fresh
        })
    }

    /// Sets (or, with `None`, lifts) the condition every later write of
    /// this driver and its clones checks first.
    pub fn set_guard(&self, guard: Option<WriteGuard>) {
        *self.guard.lock().unwrap_or_else(|p| p.into_inner()) = guard;
    }

    /// Moves the guard's deadline to `deadline`, if a guard is set.
    pub fn extend_guard(&self, deadline: std::time::Instant) {
        if let Some(guard) = self.guard.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            guard.deadline = deadline;
        }
    }

    /// The guard in force, or a refusal when its deadline has passed.
    fn current_guard(&self) -> Result<Option<WriteGuard>, BoltError> {
        let guard = self.guard.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match guard {
            Some(guard) if std::time::Instant::now() > guard.deadline => {
                Err(BoltError::GuardRefused(guard.expired))
            }
            other => Ok(other),
        }
    }

    /// Runs `statements` in one write transaction, committed at the end,
    /// after the write guard (if one is set) says the run may write.
    pub async fn write(&self, statements: Vec<Statement>) -> Result<(), BoltError> {
        let guard = self.current_guard()?;
        self.write_guarded(guard, statements).await
    }

    /// [`write_checked`](Self::write_checked) under `guard`, a failure
    /// [`explained`](Self::explained).
    async fn write_guarded(
        &self,
        guard: Option<WriteGuard>,
        statements: Vec<Statement>,
    ) -> Result<(), BoltError> {
        let written = self.write_checked(guard.clone(), statements).await;
        self.explained(guard, written).await
    }

    /// Runs schema statements (constraints, indexes) under the guard's
    /// check but not its fence: Neo4j runs no write in a transaction that
    /// changed the schema, and a schema statement in flight when the lock
    /// is broken is harmless (each is `IF NOT EXISTS`).
    pub async fn write_schema(&self, statements: Vec<Statement>) -> Result<(), BoltError> {
        let guard = self
            .current_guard()?
            .map(|guard| WriteGuard { fence: None, ..guard });
        self.write_guarded(guard, statements).await
    }

    /// A failed guarded write, explained: when the lock was lost while the
    /// transaction ran (another run wrote the same learners first, say), the
    /// loss is the cause to report, not the duplicate it caused.
    async fn explained<T>(
        &self,
        guard: Option<WriteGuard>,
        result: Result<T, BoltError>,
    ) -> Result<T, BoltError> {
        let (Err(error), Some(guard)) = (&result, guard) else {
            return result;
        };
        if matches!(error, BoltError::GuardRefused(_)) {
            return result;
        }
        let check = guard.check.clone();
        match self.read(check).await {
            Ok(rows) if !rows.first().and_then(|r| r.bool("held")).unwrap_or(false) => {
                Err(BoltError::GuardRefused(guard.refused))
            }
            _ => result,
        }
    }

    /// [`write`](Self::write) whatever the guard says: a run's record of
    /// its own end, which it writes even when it lost the lock.
    pub async fn write_unguarded(&self, statements: Vec<Statement>) -> Result<(), BoltError> {
        self.write_checked(None, statements).await
    }

    /// Runs one write statement that returns rows (a batch of deletes and
    /// its count) under the guard, and collects its rows.
    pub async fn write_returning(&self, statement: Statement) -> Result<Vec<Row>, BoltError> {
        let guard = self.current_guard()?;
        let written = self.write_returning_checked(guard.clone(), statement).await;
        self.explained(guard, written).await
    }

    async fn write_returning_checked(
        &self,
        guard: Option<WriteGuard>,
        statement: Statement,
    ) -> Result<Vec<Row>, BoltError> {
        let refused = self
            .call(move |bolt| {
                bolt.in_guarded_transaction(guard.as_ref(), |tx| {
                    let mut stream = tx
                        .query(statement.sent())
                        .with_parameters(&statement.params)
                        .run()?;
                    let rows = stream
                        .by_ref()
                        .map(|record| record.map(Row))
                        .collect::<Result<Vec<_>, _>>()?;
                    stream.consume()?;
                    Ok(rows)
                })
            })
            .await?;
        refused.map_err(BoltError::GuardRefused)
    }

    async fn write_checked(
        &self,
        guard: Option<WriteGuard>,
        statements: Vec<Statement>,
    ) -> Result<(), BoltError> {
        let summaries = self
            .call(move |bolt| {
                bolt.in_guarded_transaction(guard.as_ref(), |tx| {
                    let mut summaries = Vec::with_capacity(statements.len());
                    for statement in &statements {
                        let stream = tx
                            .query(statement.sent())
                            .with_parameters(&statement.params)
                            .run()?;
                        if let Some(summary) = stream.consume()? {
                            summaries.push((statement.kind.clone(), summary));
                        }
                    }
                    Ok(summaries)
                })
            })
            .await?
            .map_err(BoltError::GuardRefused)?;
        for (kind, summary) in &summaries {
            self.log_notifications(kind, summary);
        }
        Ok(())
    }

    /// Runs one read statement and sends its rows, each turned into a `T`
    /// by `convert` (rows it turns into nothing are dropped), through
    /// `batches`, `batch` at a time, as they arrive: memory holds a few
    /// batches, not the whole answer (1.6 million learners, say).
    pub async fn read_in_batches<T: Send + 'static>(
        &self,
        statement: Statement,
        batch: usize,
        convert: impl Fn(&Row) -> Option<T> + Send + 'static,
        batches: tokio::sync::mpsc::Sender<Vec<T>>,
    ) -> Result<(), BoltError> {
        self.read_rows(statement, Ending::Commit, move |_, rows| {
            let mut values = Vec::with_capacity(batch);
            for row in rows {
                values.extend(convert(&row?));
                if values.len() == batch {
                    let full = std::mem::replace(&mut values, Vec::with_capacity(batch));
                    if batches.blocking_send(full).is_err() {
                        // The receiver stopped listening: it failed.
                        return Ok(());
                    }
                }
            }
            if !values.is_empty() {
                let _ = batches.blocking_send(values);
            }
            Ok(())
        })
        .await
    }

    /// Runs one write statement in a write transaction that is then rolled
    /// back: whether this user may write here, with nothing written.
    pub async fn write_rolled_back(&self, statement: Statement) -> Result<(), BoltError> {
        self.call(move |bolt| {
            bolt.in_transaction_ending(Ending::RollBack, |tx| {
                tx.query(statement.sent())
                    .with_parameters(&statement.params)
                    .run()?
                    .consume()
                    .map(drop)
            })
        })
        .await
    }

    /// Runs one statement in a transaction that is then rolled back, and
    /// returns its columns and rows as JSON values: an analyst's question,
    /// which can change nothing whatever its text says.
    pub async fn answer(
        &self,
        statement: Statement,
    ) -> Result<(Vec<String>, Vec<Vec<serde_json::Value>>), BoltError> {
        self.read_rows(statement, Ending::RollBack, |columns, rows| {
            let rows = rows
                .map(|row| row.map(|row| row.to_json()))
                .collect::<Result<_, Neo4jError>>()?;
            Ok((columns, rows))
        })
        .await
    }

    /// Runs one read statement and collects its rows.
    pub async fn read(&self, statement: Statement) -> Result<Vec<Row>, BoltError> {
        self.read_rows(statement, Ending::Commit, |_, rows| rows.collect())
            .await
    }

    /// Runs one read statement in a transaction that ends as `ending`
    /// says, hands its columns and its rows to `take` as they arrive, and
    /// logs the server's notifications: the one read path.
    async fn read_rows<T: Send + 'static>(
        &self,
        statement: Statement,
        ending: Ending,
        take: impl FnOnce(Vec<String>, &mut dyn Iterator<Item = Result<Row, Neo4jError>>) -> Result<T, Neo4jError>
        + Send
        + 'static,
    ) -> Result<T, BoltError> {
        let kind = statement.kind.clone();
        let (taken, summary) = self
            .call(move |bolt| {
                bolt.in_transaction_ending(ending, |tx| {
                    let mut stream = tx
                        .query(statement.sent())
                        .with_parameters(&statement.params)
                        .run()?;
                    let columns = stream.keys().iter().map(|k| k.to_string()).collect();
                    let taken = take(columns, &mut stream.by_ref().map(|record| record.map(Row)))?;
                    Ok((taken, stream.consume()?))
                })
            })
            .await?;
        if let Some(summary) = &summary {
            self.log_notifications(&kind, summary);
        }
        Ok(taken)
    }

    /// Who answers a trivial query sent the way writes are sent.
    /// Who answers, within the connect deadline: the first call of a
    /// driver, so that a server that never finishes the handshake fails as
    /// soon as a connection attempt would.
    pub async fn server_info(&self) -> Result<ServerInfo, BoltError> {
        let summary = self
            .call_within(self.connect_timeout, BoltError::ConnectTimedOut, |bolt| {
                bolt.in_transaction(|tx| {
                    let stream = tx.query(sent("probe", super::cypher::PROBE)).run()?;
                    stream.consume()
                })
            })
            .await?;
        let summary = summary.ok_or(BoltError::Abandoned)?;
        let info = &summary.server_info;
        Ok(ServerInfo {
            agent: info.server_agent.to_string(),
            protocol: info.protocol_version,
            address: format!("{}:{}", info.address.host(), info.address.port()),
        })
    }

    /// Runs `work` in a transaction routed to the writer, on this thread,
    /// and commits it.
    fn in_transaction<T>(
        &self,
        work: impl FnOnce(&neo4j::transaction::Transaction) -> Result<T, Neo4jError>,
    ) -> Result<T, Neo4jError> {
        self.in_transaction_ending(Ending::Commit, work)
    }

    /// Runs `body` on a transaction routed to the writer, on this thread,
    /// with the server-side timeout of every call: `body` commits or rolls
    /// it back.
    fn in_write_transaction<T>(
        &self,
        body: impl FnOnce(neo4j::transaction::Transaction) -> Result<T, Neo4jError>,
    ) -> Result<T, Neo4jError> {
        let mut session = self
            .driver
            .session(SessionConfig::new().with_database(self.database.clone()));
        let mut builder = session.transaction().with_routing_control(RoutingControl::Write);
        if let Some(timeout) = TransactionTimeout::from_millis(self.timeout.as_millis() as i64) {
            builder = builder.with_transaction_timeout(timeout);
        }
        builder.run(body)
    }

    /// Runs `work` in a transaction routed to the writer and ends it as
    /// `ending` says.
    fn in_transaction_ending<T>(
        &self,
        ending: Ending,
        work: impl FnOnce(&neo4j::transaction::Transaction) -> Result<T, Neo4jError>,
    ) -> Result<T, Neo4jError> {
        self.in_write_transaction(|tx| {
            let value = work(&tx)?;
            match ending {
                Ending::Commit => tx.commit()?,
                Ending::RollBack => tx.rollback()?,
            }
            Ok(value)
        })
    }

    /// Runs `work` in a write transaction between the guard's check and
    /// its fence (when there is a guard): committed when both say the lock
    /// is held, rolled back with the refusal when either does not.
    fn in_guarded_transaction<T>(
        &self,
        guard: Option<&WriteGuard>,
        work: impl FnOnce(&neo4j::transaction::Transaction) -> Result<T, Neo4jError>,
    ) -> Result<Result<T, String>, Neo4jError> {
        let refusal =
            |tx: &neo4j::transaction::Transaction, statement: Option<&Statement>| match (guard, statement) {
                (Some(guard), Some(statement)) => guard_refusal(tx, guard, statement),
                _ => Ok(None),
            };
        self.in_write_transaction(|tx| {
            if let Some(refused) = refusal(&tx, guard.map(|g| &g.check))? {
                tx.rollback()?;
                return Ok(Err(refused));
            }
            let value = work(&tx)?;
            if let Some(refused) = refusal(&tx, guard.and_then(|g| g.fence.as_ref()))? {
                tx.rollback()?;
                return Ok(Err(refused));
            }
            tx.commit()?;
            Ok(Ok(value))
        })
    }

    /// Runs `work` in a read-access transaction (the server refuses any
    /// write in it) with the server-side `timeout`, then rolls it back.
    fn in_read_transaction<T>(
        &self,
        timeout: Duration,
        work: impl FnOnce(&neo4j::transaction::Transaction) -> Result<T, Neo4jError>,
    ) -> Result<T, Neo4jError> {
        let mut session = self
            .driver
            .session(SessionConfig::new().with_database(self.database.clone()));
        let mut builder = session.transaction().with_routing_control(RoutingControl::Read);
        if let Some(timeout) = TransactionTimeout::from_millis(timeout.as_millis() as i64) {
            builder = builder.with_transaction_timeout(timeout);
        }
        builder.run(|tx| {
            let value = work(&tx)?;
            tx.rollback()?;
            Ok(value)
        })
    }

    /// What the server says `statement` would do, without running it: the
    /// query type and the plan of `EXPLAIN`, in a read-access transaction.
    pub async fn explain(&self, statement: Statement, timeout: Duration) -> Result<Explained, BoltError> {
        self.call_within(timeout, BoltError::TimedOut, move |bolt| {
            bolt.in_read_transaction(timeout, |tx| {
                let mut stream = tx
                    .query(format!("EXPLAIN {}", statement.sent()))
                    .with_parameters(&statement.params)
                    .run()?;
                for record in stream.by_ref() {
                    record?;
                }
                let summary = stream.consume()?;
                Ok(Explained {
                    query_type: summary.as_ref().and_then(|s| s.query_type.clone()),
                    plan: summary.and_then(|s| s.plan),
                })
            })
        })
        .await
    }

    /// Runs `statement` in a read-access transaction that is rolled back,
    /// with the server-side `timeout`, and keeps at most `limit` rows as
    /// JSON values; `true` when the answer had more.
    pub async fn answer_read_only(
        &self,
        statement: Statement,
        (row_limit, byte_limit): (usize, usize),
        timeout: Duration,
    ) -> Result<(Vec<String>, Vec<Vec<serde_json::Value>>, Option<Cut>), BoltError> {
        self.call_within(timeout, BoltError::TimedOut, move |bolt| {
            bolt.in_read_transaction(timeout, |tx| {
                let mut stream = tx
                    .query(statement.sent())
                    .with_parameters(&statement.params)
                    .run()?;
                let columns = stream.keys().iter().map(|k| k.to_string()).collect();
                let mut rows = Vec::new();
                let mut bytes = 0;
                let mut cut = None;
                for record in stream.by_ref() {
                    let row = Row(record?).to_json();
                    if rows.len() == row_limit {
                        cut = Some(Cut::Rows);
                        break;
                    }
                    bytes += serde_json::to_vec(&row).map_or(0, |json| json.len());
                    if bytes > byte_limit {
                        cut = Some(Cut::Bytes);
                        break;
                    }
                    rows.push(row);
                }
                Ok((columns, rows, cut))
            })
        })
        .await
    }

    /// Runs `work` on a thread of its own and waits for it until the
    /// deadline.
    async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Bolt) -> Result<T, Neo4jError> + Send + 'static,
    ) -> Result<T, BoltError> {
        self.call_within(self.timeout, BoltError::TimedOut, work).await
    }

    /// [`call`](Self::call) with its own deadline, and the error a call
    /// past it becomes.
    async fn call_within<T: Send + 'static>(
        &self,
        deadline: Duration,
        timed_out: fn(Duration) -> BoltError,
        work: impl FnOnce(&Bolt) -> Result<T, Neo4jError> + Send + 'static,
    ) -> Result<T, BoltError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let bolt = self.clone();
        std::thread::Builder::new()
            .name("learngraph-bolt".to_string())
            .spawn(move || {
                let _ = answer.send(work(&bolt));
            })
            .map_err(|e| BoltError::Config(format!("cannot start a database thread: {e}")))?;
        match tokio::time::timeout(deadline, answered).await {
            Ok(Ok(result)) => result.map_err(BoltError::from),
            Ok(Err(_)) => Err(BoltError::Abandoned),
            Err(_) => Err(timed_out(deadline)),
        }
    }

    /// Logs each notification the first time its statement kind and code
    /// are seen.
    fn log_notifications(&self, kind: &str, summary: &Summary) {
        for notification in &summary.notifications {
            if self.notified.first(kind, &notification.code) {
                log_notification(kind, notification);
            }
        }
    }
}

/// Notifications that say what the loader expects, logged at debug level,
/// not to the user: the schema is created `IF NOT EXISTS` at every load (so
/// Neo4j notes each constraint and index that exists), and on an empty or
/// young graph the statements name labels, types and properties it does not
/// hold yet. A misspelt name is caught by the tests instead (the Cypher
/// lint, the planner test, the read-back of every property).
const EXPECTED_NOTIFICATIONS: [&str; 5] = [
    "Neo.ClientNotification.Schema.IndexOrConstraintAlreadyExists",
    "Neo.ClientNotification.Schema.IndexOrConstraintDoesNotExist",
    "Neo.ClientNotification.Statement.UnknownLabelWarning",
    "Neo.ClientNotification.Statement.UnknownRelationshipTypeWarning",
    "Neo.ClientNotification.Statement.UnknownPropertyKeyWarning",
];

fn log_notification(kind: &str, n: &Notification) {
    if EXPECTED_NOTIFICATIONS.contains(&n.code.as_str()) {
        tracing::debug!(statement = kind, code = %n.code, "The server notes: {}", n.description);
        return;
    }
    match n.severity {
        Severity::Warning => tracing::warn!(
            statement = kind,
            code = %n.code,
            title = %n.title,
            "The server warns: {} (logged once per statement kind)",
            n.description
        ),
        _ => tracing::info!(
            statement = kind,
            code = %n.code,
            title = %n.title,
            "The server notes: {} (logged once per statement kind)",
            n.description
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_is_logged_once_per_statement_kind_and_code() {
        let notified = Notified::default();
        let code = "Neo.ClientNotification.Statement.FeatureDeprecationWarning";
        assert!(notified.first("phase 2 create", code));
        assert!(
            !notified.first("phase 2 create", code),
            "logged again for the next batch"
        );
        assert!(
            notified.first("phase 2 update", code),
            "another statement kind is logged"
        );
        assert!(notified.first(
            "phase 2 create",
            "Neo.ClientNotification.Statement.CartesianProduct"
        ));
    }

    fn options(uri: &str, trusted_ca: Option<PathBuf>) -> ConnectOptions {
        ConnectOptions {
            uri: uri.to_string(),
            user: "u".into(),
            password: "p".into(),
            database: "d".into(),
            max_connection_pool_size: 2,
            query_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            trusted_ca,
        }
    }

    #[test]
    fn a_uri_or_ca_file_the_driver_cannot_use_is_refused_before_connecting() {
        let Err(error) = Bolt::open(&options("http://host:7687", None)) else {
            panic!("an http URI was accepted")
        };
        assert!(error.to_string().contains("neo4j.uri"), "{error}");
        let Err(error) = Bolt::open(&options("bolt+s://host:7687", Some("/nonexistent/ca.pem".into())))
        else {
            panic!("a missing CA file was accepted")
        };
        assert!(error.to_string().contains("neo4j.trusted_ca"), "{error}");
        assert!(!error.needs_new_connection());
        assert!(Bolt::open(&options("neo4j+ssc://host:7687", None)).is_ok());
    }
}
