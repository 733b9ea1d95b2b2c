//! The session: connecting (and naming why a connection fails), the
//! driver replaced after a lost connection, every statement run through
//! [`super::retry`], and the plain reads other modules build on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::bolt::{Bolt, BoltError, ConnectOptions, Param, Row, ServerInfo, Statement};
use super::retry::{self, RetryPolicy, with_retry};
use super::{Neo4jSink, SinkError, failure, params};
use crate::config::Config;
use crate::graph::questions::{Answer, Arg, Question};

/// The driver's settings, from the validated configuration.
pub(super) fn connect_options(config: &Config) -> ConnectOptions {
    let neo4j = &config.neo4j;
    ConnectOptions {
        uri: neo4j.uri.clone(),
        user: neo4j.user.clone(),
        password: neo4j.password.expose().to_string(),
        database: neo4j.database.clone(),
        max_connection_pool_size: neo4j.max_connection_pool_size,
        query_timeout: Duration::from_secs(neo4j.query_timeout_seconds),
        // Connecting never waits longer than a query would.
        connect_timeout: Duration::from_secs(neo4j.connect_timeout_seconds.min(neo4j.query_timeout_seconds)),
        trusted_ca: neo4j.trusted_ca.clone(),
    }
}

/// Names a failure to connect by the server's code, or by what the driver
/// saw when there is none.
pub(super) fn classify_connect_error(config: &Config, error: BoltError) -> SinkError {
    let detail = failure::describe(&error);
    let code = error.server_code().unwrap_or_default();
    if code.starts_with("Neo.ClientError.Security") {
        SinkError::Authentication {
            user: config.neo4j.user.clone(),
            detail,
        }
    } else if code.contains("DatabaseNotFound")
        || (code.is_empty() || code.contains("Database"))
            && detail.to_lowercase().contains("database")
            && detail.contains("does not exist")
    {
        SinkError::UnknownDatabase {
            database: config.neo4j.database.clone(),
            detail,
        }
    } else {
        SinkError::Unreachable {
            uri: config.neo4j.uri.clone(),
            detail,
        }
    }
}

impl Neo4jSink {
    /// Connects and checks the connection with a trivial query, so that a
    /// wrong address, certificate, password or database name fails here,
    /// clearly. Logs who answered.
    pub async fn connect(config: &Config) -> Result<Self, SinkError> {
        let connect = connect_options(config);
        let bolt = Bolt::open(&connect).map_err(|e| SinkError::Unreachable {
            uri: config.neo4j.uri.clone(),
            detail: failure::describe(&e),
        })?;
        let server = bolt
            .server_info()
            .await
            .map_err(|e| classify_connect_error(config, e))?;
        tracing::info!(
            server = %server.agent,
            bolt = %format!("{}.{}", server.protocol.0, server.protocol.1),
            writer = %server.address,
            "Connected"
        );
        Ok(Neo4jSink {
            bolt: Arc::new(tokio::sync::RwLock::new(bolt)),
            connect: Arc::new(connect),
            reconnect: Arc::new(AtomicBool::new(false)),
            policy: RetryPolicy::new(Duration::from_secs(config.neo4j.max_retry_seconds)),
            options: config.graph,
            rewrite_unchanged: false,
            retries: Arc::new(AtomicU64::new(0)),
            splits: Arc::new(AtomicU64::new(0)),
            server,
        })
    }

    /// From now on phase 2 writes every learner as changed: the relationships
    /// a graph option turned on are then written for learners whose row did
    /// not change (an unchanged one keeps its history marks: it is written
    /// as a reverted change, see [`super::cypher::update_learners`]).
    pub fn rewrite_every_learner(&mut self) {
        self.rewrite_unchanged = true;
    }

    /// Who answered at connect time: agent, Bolt version, writer address.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// The driver for the next attempt: a fresh one after a lost connection.
    pub(super) async fn bolt(&self) -> Bolt {
        if self.reconnect.swap(false, Ordering::SeqCst) {
            let mut current = self.bolt.write().await;
            match current.reopen(&self.connect) {
                Ok(fresh) => *current = fresh,
                Err(error) => {
                    self.reconnect.store(true, Ordering::SeqCst);
                    tracing::warn!(error = %failure::describe(&error), "Cannot connect again yet");
                }
            }
        }
        self.bolt.read().await.clone()
    }

    /// Whether the server still answers a trivial query on a new
    /// connection, asked twice a second apart: a failure while the server is
    /// shutting down is a lost connection, not a broken statement.
    pub(super) async fn server_answers(&self) -> bool {
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let Ok(probe) = Bolt::open(&self.connect) else {
                return false;
            };
            match tokio::time::timeout(Duration::from_secs(5), probe.server_info()).await {
                Ok(Ok(_)) => {}
                _ => return false,
            }
        }
        true
    }

    /// Runs `attempt` on the current driver until it succeeds, fails for
    /// good, or the retry time is up. Only errors [`retry::is_retriable`]
    /// names are retried; a lost connection also gets a fresh driver.
    pub async fn retrying<T, F, Fut>(&self, what: &str, attempt: F) -> Result<T, SinkError>
    where
        F: Fn(Bolt) -> Fut,
        Fut: std::future::Future<Output = Result<T, BoltError>>,
    {
        let attempt = &attempt;
        with_retry(
            self.policy,
            || async move {
                match attempt(self.bolt().await).await {
                    Err(refused @ BoltError::GuardRefused(_)) => Err(refused),
                    // Any failure the moment the server stops answering is a
                    // lost connection, whatever the server said on its way down.
                    Err(error) if !retry::is_retriable(&error) && !self.server_answers().await => {
                        tracing::warn!(
                            error = %failure::describe(&error),
                            "The server failed and stopped answering: treating it as a lost connection"
                        );
                        Err(BoltError::Abandoned)
                    }
                    other => other,
                }
            },
            |error, wait| {
                self.retries.fetch_add(1, Ordering::Relaxed);
                if retry::needs_new_connection(error) {
                    self.reconnect.store(true, Ordering::SeqCst);
                }
                tracing::warn!(what, error = %failure::describe(error), wait_ms = wait.as_millis() as u64, "Retrying after a transient error");
            },
        )
        .await
        .map_err(|source| match source {
            BoltError::GuardRefused(reason) => SinkError::LockLost { reason },
            source => SinkError::Query {
                what: what.to_string(),
                source,
            },
        })
    }

    /// Transient errors retried so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Phase-2 batches split so far because the server refused them for
    /// its transaction memory limit.
    pub fn splits(&self) -> u64 {
        self.splits.load(Ordering::Relaxed)
    }

    /// Runs one write statement in its own transaction, with retries.
    pub(super) async fn write(
        &self,
        what: &str,
        statement: &str,
        name: &str,
        rows: Param,
    ) -> Result<(), SinkError> {
        self.retrying(what, |bolt| {
            let statement = Statement::new(what, statement).param(name, rows.clone());
            async move { bolt.write(vec![statement]).await }
        })
        .await
    }

    /// Runs a write statement that returns rows (a batch of deletes and
    /// its count) in its own guarded transaction, with retries.
    pub(super) async fn write_returning(
        &self,
        statement: &str,
        params: Vec<(&str, Param)>,
    ) -> Result<Vec<Row>, SinkError> {
        let what: String = statement.chars().take(60).collect();
        self.retrying(&what, |bolt| {
            let mut q = Statement::new(&what, statement);
            for (name, value) in &params {
                q = q.param(name, value.clone());
            }
            async move { bolt.write_returning(q).await }
        })
        .await
    }

    /// Runs a read statement and returns its rows.
    pub async fn read(&self, statement: &str, params: Vec<(&str, Param)>) -> Result<Vec<Row>, SinkError> {
        let what: String = statement.chars().take(60).collect();
        self.retrying(&what, |bolt| {
            let mut q = Statement::new(&what, statement);
            for (name, value) in &params {
                q = q.param(name, value.clone());
            }
            async move { bolt.read(q).await }
        })
        .await
    }

    /// Answers one question of the catalogue with its bound arguments, in
    /// a transaction that is rolled back, with retries.
    pub async fn ask(&self, question: &Question, args: &[(String, Arg)]) -> Result<Answer, SinkError> {
        let statement = Statement::new(question.name, &question.cypher).params(
            args.iter()
                .map(|(name, value)| (name.clone(), params::arg(value))),
        );
        let (columns, rows) = self
            .retrying(question.name, |bolt| {
                let statement = statement.clone();
                async move { bolt.answer(statement).await }
            })
            .await?;
        Ok(Answer { columns, rows })
    }

    /// Runs a read and calls `each` with every row `convert` keeps, in
    /// batches of 10,000 handed over from the driver's thread as they
    /// arrive: the answer is never all in memory. Returns how many rows
    /// were kept. One attempt: a failure is an error before anything is
    /// written.
    pub(super) async fn stream_rows<T: Send + 'static>(
        &self,
        what: &str,
        statement: Statement,
        convert: impl Fn(&Row) -> Option<T> + Send + 'static,
        mut each: impl FnMut(T),
    ) -> Result<u64, SinkError> {
        let (sender, mut batches) = tokio::sync::mpsc::channel(4);
        let bolt = self.bolt().await;
        let reading = bolt.read_in_batches(statement, 10_000, convert, sender);
        tokio::pin!(reading);
        let mut read_done = false;
        let mut kept = 0u64;
        loop {
            tokio::select! {
                batch = batches.recv() => match batch {
                    Some(batch) => {
                        kept += batch.len() as u64;
                        batch.into_iter().for_each(&mut each);
                    }
                    // The reading thread is done and every batch is in.
                    None => break,
                },
                read = &mut reading, if !read_done => {
                    read_done = true;
                    // A failed or timed-out read stops here: dropping the
                    // receiver stops a reading thread that still runs.
                    read.map_err(|source| SinkError::Query {
                        what: what.to_string(),
                        source,
                    })?;
                }
            }
        }
        if !read_done {
            // Every batch is in; the read's own answer says whether that
            // was all of them.
            reading.await.map_err(|source| SinkError::Query {
                what: what.to_string(),
                source,
            })?;
        }
        Ok(kept)
    }

    pub(super) async fn count(&self, statement: &str) -> Result<u64, SinkError> {
        let rows = self.read(statement, Vec::new()).await?;
        Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0).max(0) as u64)
    }
}
