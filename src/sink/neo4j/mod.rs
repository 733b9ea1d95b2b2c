//! The online sink: a Neo4j-compatible database over Bolt (Neo4j 5 and
//! 2025.x, Aura, or the local ArcadeDB test server).
//!
//! One [`Neo4jSink`] holds the driver (its pool sized by
//! `neo4j.max_connection_pool_size`) and is shared by every writer task.
//! Each batch is one explicit transaction, retried as a whole on transient
//! errors only ([`retry`]). [`bolt`] is the one place that knows the driver;
//! `changes` compares a later snapshot's learners with what the graph holds.

pub mod bolt;
mod changes;
pub mod cypher;
pub mod failure;
pub mod lock;
pub mod params;
pub mod retry;

use std::collections::HashMap;

use chrono::NaiveDate;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::config::Config;
use crate::graph::counts::GraphOptions;
use crate::graph::model::{LEARNING_STATES, Label, PROFESSIONAL_STATUSES, RelType};
use crate::graph::properties::{Kind, node_properties};
use crate::graph::questions::{Answer, Arg, Question};
use crate::graph::records::{Entities, LearnerRecord, Props, Value};
use bolt::{Bolt, BoltError, ConnectOptions, Param, Row, ServerInfo, Statement};
use changes::{SnapshotChanges, read_existing, read_replaceable};
use retry::{RetryPolicy, with_retry};

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(
        "cannot reach the database at {uri}: {detail}; check that it runs and that neo4j.uri (or NEO4J_URI) is right \
         (for the local one: scripts/local-db start)"
    )]
    Unreachable { uri: String, detail: String },
    #[error(
        "the database refused user {user:?}: {detail}; check neo4j.user / neo4j.password (or NEO4J_USERNAME / NEO4J_PASSWORD)"
    )]
    Authentication { user: String, detail: String },
    #[error(
        "the database {database:?} does not exist on the server: {detail}; check neo4j.database (or NEO4J_DATABASE)"
    )]
    UnknownDatabase { database: String, detail: String },
    #[error(
        "another learngraph run holds the graph's load lock: {holder}, since {since} (last heartbeat {silent_seconds} s \
         ago); nothing was written. Wait for it to finish; if that run is gone (killed on another machine), its lock \
         is taken over once its heartbeat is {stale} s old, or at once with --break-lock",
        stale = lock::STALE_AFTER.as_secs()
    )]
    Locked {
        holder: String,
        since: String,
        silent_seconds: i64,
    },
    #[error("{what} failed: {}", failure::describe(.source))]
    Query {
        what: String,
        #[source]
        source: BoltError,
    },
}

impl SinkError {
    /// Whether the error means the database went away (so a resume can
    /// continue once it is back).
    pub fn is_connection_loss(&self) -> bool {
        match self {
            SinkError::Unreachable { detail, .. } => !failure::is_tls_failure(detail),
            SinkError::Query { source, .. } => retry::is_retriable(source),
            _ => false,
        }
    }
}

/// Whether the user may write (`ping`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteAccess {
    Granted,
    /// Refused, with the server's reason.
    Refused(String),
}

/// What phase 1 did: shared nodes written, and those the graph already
/// held exactly as the snapshot has them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntitiesWritten {
    pub written: u64,
    pub unchanged: u64,
}

/// Every shared node of the snapshot by label, as (key, properties), in the
/// order phase 1 writes them (countries before the cities that link to
/// them).
fn shared_nodes(entities: &Entities) -> Vec<(Label, Vec<(String, Props)>)> {
    fn named<'a>(map: impl IntoIterator<Item = (&'a String, &'a String)>) -> Vec<(String, Props)> {
        map.into_iter()
            .map(|(id, name)| {
                let mut props = Props::default();
                props.str("name", Some(name.clone()));
                (id.clone(), props)
            })
            .collect()
    }
    let countries = entities
        .countries
        .iter()
        .map(|(code, c)| {
            let mut props = Props::default();
            props.str("name", Some(c.name.clone()));
            props.float("latitude", c.latitude);
            props.float("longitude", c.longitude);
            (code.clone(), props)
        })
        .collect();
    let cities = entities
        .cities
        .iter()
        .map(|(id, c)| {
            let mut props = Props::default();
            props.str("name", Some(c.name.clone()));
            props.str("countryCode", Some(c.country_code.clone()));
            props.float("latitude", c.latitude);
            props.float("longitude", c.longitude);
            (id.clone(), props)
        })
        .collect();
    let programs = entities
        .programs
        .iter()
        .map(|(code, name)| {
            let mut props = Props::default();
            props.str("name", name.clone());
            props.str("cohortCode", Some(code.clone()));
            (code.clone(), props)
        })
        .collect();
    let states = |names: &[&str]| -> Vec<(String, Props)> {
        names.iter().map(|s| (s.to_string(), Props::default())).collect()
    };
    vec![
        (Label::Country, countries),
        (Label::City, cities),
        (Label::Skill, named(&entities.skills)),
        (Label::Company, named(&entities.companies)),
        (Label::Institution, named(&entities.institutions)),
        (Label::Program, programs),
        (Label::LearningState, states(&LEARNING_STATES)),
        (Label::ProfessionalStatus, states(&PROFESSIONAL_STATUSES)),
    ]
}

/// Whether a node's `values` as read (one per property of `names`, in
/// that order) already equal every property of `props`: then writing
/// `props` onto it (`SET n += props`) would change nothing.
fn graph_holds(props: &Props, names: &[(&str, Kind)], values: &[Option<Value>]) -> bool {
    props.0.iter().all(|(name, value)| {
        let column = names.iter().position(|(n, _)| n == name);
        column.and_then(|c| values.get(c)?.as_ref()) == Some(value)
    })
}

/// Server codes that mean "you may not write here": missing privileges, a
/// read-only member of a cluster, a read-only access mode.
fn is_write_refusal(code: Option<&str>) -> bool {
    code.is_some_and(|code| {
        code.starts_with("Neo.ClientError.Security.")
            || code == "Neo.ClientError.Cluster.NotALeader"
            || code == "Neo.ClientError.Statement.AccessMode"
    })
}

/// The shared driver and its counters.
#[derive(Clone)]
pub struct Neo4jSink {
    /// The driver; replaced by a fresh one after a lost connection (a
    /// restarted server invalidates the sessions of the old pool).
    bolt: Arc<tokio::sync::RwLock<Bolt>>,
    /// How to connect again. Holds the password: never printed.
    connect: Arc<ConnectOptions>,
    /// Set when the next attempt must start from a fresh driver.
    reconnect: Arc<AtomicBool>,
    policy: RetryPolicy,
    options: GraphOptions,
    retries: Arc<AtomicU64>,
    server: ServerInfo,
}

/// The driver's settings, from the validated configuration.
fn connect_options(config: &Config) -> ConnectOptions {
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
fn classify_connect_error(config: &Config, error: BoltError) -> SinkError {
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
            retries: Arc::new(AtomicU64::new(0)),
            server,
        })
    }

    /// Who answered at connect time: agent, Bolt version, writer address.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// The driver for the next attempt: a fresh one after a lost connection.
    async fn bolt(&self) -> Bolt {
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
    async fn server_answers(&self) -> bool {
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
        .map_err(|source| SinkError::Query {
            what: what.to_string(),
            source,
        })
    }

    /// Transient errors retried so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Runs one write statement in its own transaction, with retries.
    async fn write(&self, what: &str, statement: &str, name: &str, rows: Param) -> Result<(), SinkError> {
        self.retrying(what, |bolt| {
            let statement = Statement::new(what, statement).param(name, rows.clone());
            async move { bolt.write(vec![statement]).await }
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

    /// Phase 0: constraints and indexes, idempotently.
    pub async fn create_schema(&self) -> Result<usize, SinkError> {
        let mut statements: Vec<String> = Label::ALL.iter().map(|l| cypher::unique_constraint(*l)).collect();
        statements.extend(cypher::range_indexes());
        for statement in &statements {
            self.retrying(statement, |bolt| async move {
                bolt.write(vec![Statement::new("schema", statement)]).await
            })
            .await?;
        }
        Ok(statements.len())
    }

    /// Phase 1: the shared entities, each label in batches of `batch_size`
    /// on up to `workers` concurrent transactions. A node the graph already
    /// holds with the same properties (a later snapshot's, mostly) is not
    /// written again: each label's nodes are read once, streamed, and
    /// compared first, so phase 1 costs what changed, not the snapshot.
    pub async fn write_entities(
        &self,
        entities: &Entities,
        batch_size: usize,
        workers: usize,
    ) -> Result<EntitiesWritten, SinkError> {
        let mut result = EntitiesWritten::default();
        for (label, nodes) in shared_nodes(entities) {
            let total = nodes.len() as u64;
            let nodes = self.changed_nodes(label, nodes).await?;
            result.written += nodes.len() as u64;
            result.unchanged += total - nodes.len() as u64;
            let rows = nodes
                .iter()
                .map(|(key, props)| params::entity(key, params::props(props)))
                .collect();
            self.write_batches(
                &format!("phase 1 {}", label.name()),
                &cypher::merge_nodes(label),
                rows,
                batch_size,
                workers,
            )
            .await?;
        }
        let in_country = self
            .changed_city_links(entities)
            .await?
            .into_iter()
            .map(|(city, country)| {
                params::map([
                    ("key", params::string(city)),
                    ("country", params::string(country)),
                ])
            })
            .collect();
        self.write_batches(
            "phase 1 IN_COUNTRY",
            cypher::MERGE_IN_COUNTRY,
            in_country,
            batch_size,
            workers,
        )
        .await?;
        Ok(result)
    }

    /// `nodes` without those the graph already holds with every one of
    /// their properties equal (a property the snapshot lacks is never
    /// removed, so it does not count).
    async fn changed_nodes(
        &self,
        label: Label,
        nodes: Vec<(String, Props)>,
    ) -> Result<Vec<(String, Props)>, SinkError> {
        let names = node_properties(label);
        let mut same = vec![false; nodes.len()];
        {
            let slots: rustc_hash::FxHashMap<&str, usize> = nodes
                .iter()
                .enumerate()
                .map(|(slot, (key, _))| (key.as_str(), slot))
                .collect();
            let what = format!("reading the graph's {} nodes", label.name());
            let statement = Statement::new(&what, &cypher::shared_node_values(label));
            let read_values = move |row: &Row| {
                let values: Vec<Option<Value>> = names.iter().map(|(name, _)| row.value(name)).collect();
                Some((row.str("k")?, values))
            };
            self.stream_rows(&what, statement, read_values, |(key, values)| {
                if let Some(&slot) = slots.get(key.as_str()) {
                    same[slot] = graph_holds(&nodes[slot].1, names, &values);
                }
            })
            .await?;
        }
        Ok(nodes
            .into_iter()
            .zip(same)
            .filter_map(|(node, same)| (!same).then_some(node))
            .collect())
    }

    /// Each City's `IN_COUNTRY` link, as (city id, country code), unless
    /// the graph already has that very link.
    async fn changed_city_links<'a>(
        &self,
        entities: &'a Entities,
    ) -> Result<Vec<(&'a str, &'a str)>, SinkError> {
        // City id -> the countries the graph links it to.
        let mut linked: HashMap<String, Vec<String>> = HashMap::new();
        let what = "reading the graph's IN_COUNTRY links";
        self.stream_rows(
            what,
            Statement::new(what, cypher::CITY_COUNTRIES),
            |row| Some((row.str("k")?, row.str("country")?)),
            |(city, country)| linked.entry(city).or_default().push(country),
        )
        .await?;
        Ok(entities
            .cities
            .iter()
            .filter(|(id, city)| {
                !linked
                    .get(id.as_str())
                    .is_some_and(|countries| countries.contains(&city.country_code))
            })
            .map(|(id, city)| (id.as_str(), city.country_code.as_str()))
            .collect())
    }

    /// Writes `rows` in batches, `workers` at a time.
    async fn write_batches(
        &self,
        what: &str,
        statement: &str,
        rows: Vec<Param>,
        batch_size: usize,
        workers: usize,
    ) -> Result<(), SinkError> {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(workers.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<Param> = rows.by_ref().take(batch_size).collect();
            let permit = semaphore
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let sink = self.clone();
            let (what, statement) = (what.to_string(), statement.to_string());
            tasks.spawn(async move {
                let result = sink.write(&what, &statement, "rows", params::list(batch)).await;
                drop(permit);
                result
            });
            while let Some(done) = tasks.try_join_next() {
                done.expect("writer task panicked")?;
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("writer task panicked")?;
        }
        Ok(())
    }

    /// Whether any Learner node exists: if none does when phase 2 starts, a
    /// batch's learners can only be in the graph if an earlier attempt of
    /// that same batch committed (keys are unique across batches).
    pub async fn has_learners(&self) -> Result<bool, SinkError> {
        Ok(!self.read(cypher::ANY_LEARNER, Vec::new()).await?.is_empty())
    }

    /// Phase 2: one batch of learners, as one retried unit. When the graph
    /// may already hold some of them (`learners.prepared` is `None`), and on
    /// every retry, the batch first reads which exist and compares their
    /// fingerprints: new learners are created, changed ones updated as a
    /// later snapshot (see [`cypher::update_learners`]), unchanged ones left
    /// alone, all in one transaction. Retrying the whole unit means a commit
    /// whose answer was lost is never written twice. Otherwise the first
    /// attempt sends the parameters prepared ahead, while the previous batch
    /// was being written.
    pub async fn write_learners(&self, learners: LearnerBatch<'_>) -> Result<BatchWritten, SinkError> {
        let create = cypher::create_learners(self.options);
        let update = cypher::update_learners(self.options);
        let prepared = std::sync::Mutex::new(learners.prepared);
        let options = self.options;
        let load_date = learners.load_date;
        self.retrying("phase 2 learners", |bolt| {
            let ahead = prepared.lock().unwrap_or_else(|p| p.into_inner()).take();
            let (create, update, records) = (&create, &update, learners.records);
            async move {
                if let Some(ahead) = ahead {
                    bolt.write(vec![
                        Statement::new(CREATE, create)
                            .params(ahead.params)
                            .param("snapshot", params::date(load_date)),
                    ])
                    .await?;
                    return Ok(BatchWritten {
                        created: records.len() as u64,
                        relationships: ahead.relationships,
                        ..BatchWritten::default()
                    });
                }
                let existing = read_existing(&bolt, records).await?;
                let mut written = BatchWritten::default();
                let mut new = Vec::new();
                let mut changed = Vec::new();
                for (record, rels) in records {
                    match existing.get(&record.key) {
                        None => new.push((*record, *rels)),
                        Some(before) if before.same_as(record) => written.unchanged += 1,
                        Some(before) => changed.push((*record, before)),
                    }
                }
                let held = if changed.is_empty() {
                    HashMap::new()
                } else {
                    read_replaceable(&bolt, options, changed.iter().map(|(r, _)| r.key.as_str())).await?
                };
                let mut changes = SnapshotChanges::new(options);
                for (record, before) in changed {
                    changes.add(record, before, held.get(&record.key), learners.load_date);
                }
                let mut statements = Vec::new();
                if !new.is_empty() {
                    let prepared = PreparedLearners::new(&new);
                    statements.push(
                        Statement::new(CREATE, create)
                            .params(prepared.params)
                            .param("snapshot", params::date(load_date)),
                    );
                    written.created = new.len() as u64;
                    written.relationships += prepared.relationships;
                }
                if !changes.records.is_empty() {
                    let refs: Vec<&LearnerRecord> = changes.records.iter().collect();
                    for (list, learners) in &changes.replace {
                        tracing::debug!(
                            kind = list,
                            learners = learners.len(),
                            "phase 2: relationships replaced"
                        );
                    }
                    let replace = changes
                        .replace
                        .into_iter()
                        .map(|(list, learners)| (format!("{list}Replace"), params::list(learners)));
                    statements.push(
                        Statement::new(UPDATE, update)
                            .params(params::learner_batch(&refs))
                            .param("snapshot", params::date(load_date))
                            .params(replace)
                            .param("closeLearning", params::list(changes.close_learning))
                            .param("closeProfessional", params::list(changes.close_professional)),
                    );
                    written.updated = changes.records.len() as u64;
                    written.relationships += changes.relationships;
                    written.transitions = changes.transitions;
                }
                if !statements.is_empty() {
                    bolt.write(statements).await?;
                }
                Ok(written)
            }
        })
        .await
    }

    /// Calls `each` with the key and the `sourceHash` (if it has one) of
    /// every learner the latest snapshot holds (not marked missing),
    /// streamed: they are never all in memory. Returns how many.
    pub async fn for_each_present_learner(
        &self,
        mut each: impl FnMut(String, Option<i64>),
    ) -> Result<u64, SinkError> {
        let what = "reading the present learners' keys";
        self.stream_rows(
            what,
            Statement::new(what, cypher::PRESENT_LEARNER_KEYS),
            |row| Some((row.str("k")?, row.int("h"))),
            |(key, hash)| each(key, hash),
        )
        .await
    }

    /// Calls `each` with the key of every learner marked missing, streamed.
    /// Returns how many.
    pub async fn for_each_missing_learner(&self, each: impl FnMut(String)) -> Result<u64, SinkError> {
        let what = "reading the missing learners' keys";
        self.stream_rows(
            what,
            Statement::new(what, cypher::MISSING_LEARNER_KEYS),
            |row| row.str("k"),
            each,
        )
        .await
    }

    /// Runs a read and calls `each` with every row `convert` keeps, in
    /// batches of 10,000 handed over from the driver's thread as they
    /// arrive: the answer is never all in memory. Returns how many rows
    /// were kept. One attempt: a failure is an error before anything is
    /// written.
    async fn stream_rows<T: Send + 'static>(
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

    /// Marks learners as missing from the snapshot of `date`, in batches.
    pub async fn mark_missing(
        &self,
        keys: &[String],
        date: NaiveDate,
        batch: usize,
    ) -> Result<(), SinkError> {
        for chunk in keys.chunks(batch.max(1)) {
            let keys = params::list(chunk.iter().map(|k| params::string(k)).collect());
            self.retrying("marking missing learners", |bolt| {
                let q = Statement::new("marking missing learners", cypher::MARK_MISSING)
                    .param("keys", keys.clone())
                    .param("date", params::date(date));
                async move { bolt.write(vec![q]).await }
            })
            .await?;
        }
        Ok(())
    }

    /// What the load of the snapshot of `date` did to learners, counted
    /// from the marks it left in the graph: (created, changed or brought
    /// back, marked missing).
    pub async fn snapshot_learners(&self, date: NaiveDate) -> Result<(u64, u64, u64), SinkError> {
        let mut counts = [0u64; 3];
        for (count, statement) in counts.iter_mut().zip([
            cypher::SNAPSHOT_LEARNERS_NEW,
            cypher::SNAPSHOT_LEARNERS_CHANGED,
            cypher::SNAPSHOT_LEARNERS_MISSING,
        ]) {
            let rows = self.read(statement, vec![("date", params::date(date))]).await?;
            *count = rows.first().and_then(|r| r.int("n")).unwrap_or(0).max(0) as u64;
        }
        Ok((counts[0], counts[1], counts[2]))
    }

    /// Records a loaded snapshot: its date and what the load did.
    pub async fn record_snapshot(&self, date: NaiveDate, props: &Props) -> Result<(), SinkError> {
        let props = Param::Map(params::props(props));
        self.retrying("recording the snapshot", |bolt| {
            let q = Statement::new("recording the snapshot", cypher::RECORD_SNAPSHOT)
                .param("date", params::date(date))
                .param("props", props.clone());
            async move { bolt.write(vec![q]).await }
        })
        .await
    }

    /// Records a load (or what it did, at its end) under its id.
    pub async fn record_load_run(&self, id: &str, props: &Props) -> Result<(), SinkError> {
        let props = Param::Map(params::props(props));
        self.retrying("recording the load", |bolt| {
            let q = Statement::new("recording the load", cypher::RECORD_LOAD_RUN)
                .param("id", params::string(id))
                .param("props", props.clone());
            async move { bolt.write(vec![q]).await }
        })
        .await
    }

    /// Relationships of the learners `keys`, per type, as a count table
    /// keyed like [`counts`](Self::counts) or, with `latest_view`, like
    /// [`latest_snapshot_counts`](Self::latest_snapshot_counts).
    pub async fn learner_relationship_counts(
        &self,
        keys: &[String],
        latest_view: bool,
    ) -> Result<crate::graph::counts::GraphCounts, SinkError> {
        use crate::graph::counts::{CURRENT_LEARNING_STATE, CURRENT_PROFESSIONAL_STATUS};
        let mut counts = crate::graph::counts::GraphCounts::default();
        let rows = self
            .read(
                cypher::LEARNER_RELATIONSHIPS,
                vec![
                    (
                        "keys",
                        params::list(keys.iter().map(|k| params::string(k)).collect()),
                    ),
                    ("current", Param::Boolean(latest_view)),
                ],
            )
            .await?;
        for row in rows {
            let (Some(name), Some(n)) = (row.str("t"), row.int("n")) else {
                continue;
            };
            let Some(rel) = RelType::from_name(&name) else {
                continue;
            };
            let key = match rel {
                RelType::HasLearningState if latest_view => CURRENT_LEARNING_STATE,
                RelType::HasProfessionalStatus if latest_view => CURRENT_PROFESSIONAL_STATUS,
                other => other.name(),
            };
            *counts.relationships.entry(key).or_default() += n.max(0) as u64;
        }
        Ok(counts)
    }

    /// Learners marked missing from the latest snapshot.
    pub async fn learners_marked_missing(&self) -> Result<u64, SinkError> {
        self.count(cypher::COUNT_MISSING_LEARNERS).await
    }

    /// Whether the graph holds the record of the load `id`.
    pub async fn has_load_run(&self, id: &str) -> Result<bool, SinkError> {
        let rows = self
            .read(cypher::LOAD_RUN_EXISTS, vec![("id", params::string(id))])
            .await?;
        Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0) > 0)
    }

    /// Whether this user may write to the database: one write in a
    /// transaction that is rolled back, so nothing stays. A refusal (a
    /// read-only user, a read replica) is an answer; other errors are errors.
    pub async fn write_access(&self) -> Result<WriteAccess, SinkError> {
        let bolt = self.bolt().await;
        match bolt
            .write_rolled_back(Statement::new("checking write access", cypher::WRITE_PROBE))
            .await
        {
            Ok(()) => Ok(WriteAccess::Granted),
            Err(e) if is_write_refusal(e.server_code()) => Ok(WriteAccess::Refused(failure::describe(&e))),
            Err(source) => Err(SinkError::Query {
                what: "checking write access".to_string(),
                source,
            }),
        }
    }

    /// The unique constraints present, as (label, property).
    pub async fn key_constraints(&self) -> Result<Vec<(String, String)>, SinkError> {
        let rows = self.read(cypher::KEY_CONSTRAINTS, Vec::new()).await?;
        Ok(rows
            .iter()
            .filter_map(|row| Some((row.str("label")?, row.str("property")?)))
            .collect())
    }

    /// Deletes the snapshot and load records; returns how many snapshots.
    pub async fn delete_snapshots(&self) -> Result<u64, SinkError> {
        let n = self.snapshots().await?;
        self.retrying("deleting snapshot records", |bolt| async move {
            bolt.write(vec![
                Statement::new("deleting snapshot records", cypher::DELETE_SNAPSHOTS),
                Statement::new("deleting load records", cypher::DELETE_LOAD_RUNS),
            ])
            .await
        })
        .await?;
        Ok(n)
    }

    /// The date of the latest snapshot the graph records.
    pub async fn latest_snapshot(&self) -> Result<Option<NaiveDate>, SinkError> {
        let rows = self.read(cypher::LATEST_SNAPSHOT, Vec::new()).await?;
        Ok(rows.first().and_then(|r| r.date("d")))
    }

    /// How many snapshots the graph records.
    pub async fn snapshots(&self) -> Result<u64, SinkError> {
        self.count(cypher::SNAPSHOTS).await
    }

    /// Deletes nodes (and their relationships) of the given labels, or of
    /// every label, `batch` nodes per transaction so that a large graph does
    /// not exhaust the server's memory. Returns nodes deleted.
    pub async fn delete_nodes(&self, labels: Option<&[Label]>, batch: usize) -> Result<u64, SinkError> {
        let statements: Vec<String> = match labels {
            Some(labels) => labels.iter().map(|l| cypher::delete_batch(Some(*l))).collect(),
            None => vec![cypher::delete_batch(None)],
        };
        let mut deleted = 0;
        for statement in statements {
            loop {
                let limit = params::int(batch as i64);
                let rows = self.read(&statement, vec![("limit", limit)]).await?;
                let n = rows.first().and_then(|r| r.int("n")).unwrap_or(0).max(0) as u64;
                deleted += n;
                if n == 0 {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    /// Nodes per label and relationships per type in the database.
    pub async fn counts(&self) -> Result<crate::graph::counts::GraphCounts, SinkError> {
        let mut counts = crate::graph::counts::GraphCounts::default();
        for label in Label::ALL {
            counts
                .nodes
                .insert(label.name(), self.count(&cypher::count_nodes(label)).await?);
        }
        for rel in RelType::ALL {
            let optional_off = (rel == RelType::ResidesIn && !self.options.resides_in)
                || (rel == RelType::FromCountry && !self.options.from_country);
            if !optional_off {
                counts
                    .relationships
                    .insert(rel.name(), self.count(&cypher::count_relationships(rel)).await?);
            }
        }
        Ok(counts)
    }

    /// The latest snapshot's view, keyed as
    /// [`expected_latest_snapshot`](crate::graph::counts::expected_latest_snapshot).
    pub async fn latest_snapshot_counts(&self) -> Result<crate::graph::counts::GraphCounts, SinkError> {
        use crate::graph::counts::{CURRENT_LEARNING_STATE, CURRENT_PROFESSIONAL_STATUS};
        let mut counts = self.counts().await?;
        counts.nodes.insert(
            Label::Learner.name(),
            self.count(cypher::COUNT_PRESENT_LEARNERS).await?,
        );
        for rel in RelType::ALL {
            if !counts.relationships.contains_key(rel.name()) || rel.ends().0 != Label::Learner {
                continue;
            }
            let n = self.count(&cypher::count_latest_relationships(rel)).await?;
            match rel {
                RelType::HasLearningState => {
                    counts.relationships.remove(rel.name());
                    counts.relationships.insert(CURRENT_LEARNING_STATE, n);
                }
                RelType::HasProfessionalStatus => {
                    counts.relationships.remove(rel.name());
                    counts.relationships.insert(CURRENT_PROFESSIONAL_STATUS, n);
                }
                _ => {
                    counts.relationships.insert(rel.name(), n);
                }
            }
        }
        Ok(counts)
    }

    async fn count(&self, statement: &str) -> Result<u64, SinkError> {
        let rows = self.read(statement, Vec::new()).await?;
        Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0).max(0) as u64)
    }
}

/// A phase-2 batch: each learner with the number of relationships it brings,
/// and its statement parameters if they were prepared ahead.
pub struct LearnerBatch<'a> {
    pub records: &'a [(&'a LearnerRecord, u64)],
    /// The load's one date (its snapshot's; today's for a file without
    /// any): every state this batch closes or opens is dated by it.
    pub load_date: NaiveDate,
    /// `None` when the graph may already hold some of these learners: then
    /// the sink asks which, and prepares the parameters for the others.
    pub prepared: Option<PreparedLearners>,
}

/// The parameters of the phase-2 statement for a batch, built off the
/// writer's path so that the server does not wait for them.
pub struct PreparedLearners {
    params: Vec<(String, Param)>,
    relationships: u64,
}

impl PreparedLearners {
    pub fn new(learners: &[(&LearnerRecord, u64)]) -> Self {
        let records: Vec<&LearnerRecord> = learners.iter().map(|(r, _)| *r).collect();
        Self {
            params: params::learner_batch(&records),
            relationships: learners.iter().map(|(_, n)| n).sum(),
        }
    }
}

/// What phase 2 did with one batch.
#[derive(Debug, Default)]
pub struct BatchWritten {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub relationships: u64,
    /// State changes, as (`learning` or `professional`, `"Active -> Graduate"`).
    pub transitions: Vec<(&'static str, String)>,
}

/// The statement kinds of phase 2, as their notifications are logged.
const CREATE: &str = "phase 2 create";
const UPDATE: &str = "phase 2 update";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_node_is_written_again_only_when_a_property_differs() {
        let names = node_properties(Label::City);
        let mut props = Props::default();
        props.str("name", Some("Nairobi".into()));
        props.str("countryCode", Some("KE".into()));
        props.float("latitude", Some(-1.29));
        let graph = |name: &str, lat: Option<f64>| {
            vec![
                Some(Value::Str(name.into())),
                Some(Value::Str("KE".into())),
                lat.map(Value::Float),
                Some(Value::Float(36.8)),
            ]
        };
        // The graph's extra longitude is kept by `SET +=`: still the same.
        assert!(graph_holds(&props, names, &graph("Nairobi", Some(-1.29))));
        assert!(!graph_holds(&props, names, &graph("Nairobi City", Some(-1.29))));
        assert!(!graph_holds(&props, names, &graph("Nairobi", None)));
        assert!(!graph_holds(&props, names, &graph("Nairobi", Some(-1.3))));
        // A node with no properties to write is the same once it exists.
        assert!(graph_holds(
            &Props::default(),
            node_properties(Label::LearningState),
            &[]
        ));
    }

    #[test]
    fn refusals_to_write_are_told_from_other_errors() {
        for code in [
            "Neo.ClientError.Security.Forbidden",
            "Neo.ClientError.Security.AuthorizationExpired",
            "Neo.ClientError.Cluster.NotALeader",
            "Neo.ClientError.Statement.AccessMode",
        ] {
            assert!(is_write_refusal(Some(code)), "{code}");
        }
        for code in [
            Some("Neo.TransientError.Transaction.DeadlockDetected"),
            Some("Neo.ClientError.Statement.SyntaxError"),
            None,
        ] {
            assert!(!is_write_refusal(code), "{code:?}");
        }
    }
}
