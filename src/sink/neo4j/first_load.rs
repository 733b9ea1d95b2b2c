//! The writes of a load: the schema, phase 1's shared entities (written
//! only where the graph does not hold them as they are), and phase 2's
//! learners with their relationships, created, or compared and updated
//! through [`super::changes`] when the graph may hold them already.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use super::bolt::{Param, Row, Statement};
use super::changes::{SnapshotChanges, read_existing, read_opened_on, read_replaceable};
use super::{Neo4jSink, SinkError, cypher, params};
use crate::graph::model::{LEARNING_STATES, Label, PROFESSIONAL_STATUSES};
use crate::graph::properties::{Kind, node_properties};
use crate::graph::records::{Entities, LearnerRecord, Props, Value};

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
pub(super) fn shared_nodes(entities: &Entities) -> Vec<(Label, Vec<(String, Props)>)> {
    pub(super) fn named<'a>(map: impl IntoIterator<Item = (&'a String, &'a String)>) -> Vec<(String, Props)> {
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
pub(super) fn graph_holds(props: &Props, names: &[(&str, Kind)], values: &[Option<Value>]) -> bool {
    props.0.iter().all(|(name, value)| {
        let column = names.iter().position(|(n, _)| n == name);
        column.and_then(|c| values.get(c)?.as_ref()) == Some(value)
    })
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
    /// Unchanged learners written again all the same: graph options
    /// applied to the whole graph (see `Neo4jSink::rewrite_every_learner`).
    pub rewritten: u64,
    pub relationships: u64,
    /// State changes, as (`learning` or `professional`, `"Active -> Graduate"`).
    pub transitions: Vec<(&'static str, String)>,
}

impl BatchWritten {
    /// Adds what another part of the same batch wrote.
    fn add(&mut self, other: BatchWritten) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rewritten += other.rewritten;
        self.relationships += other.relationships;
        self.transitions.extend(other.transitions);
    }
}

/// The statement kinds of phase 2, as their notifications are logged.
pub(super) const CREATE: &str = "phase 2 create";

pub(super) const UPDATE: &str = "phase 2 update";

impl Neo4jSink {
    /// Phase 0: constraints and indexes, idempotently.
    pub async fn create_schema(&self) -> Result<usize, SinkError> {
        let mut statements: Vec<String> = Label::ALL.iter().map(|l| cypher::unique_constraint(*l)).collect();
        statements.extend(cypher::range_indexes());
        statements.extend(cypher::RECORD_CONSTRAINTS.iter().map(|s| s.to_string()));
        for statement in &statements {
            self.retrying(statement, |bolt| async move {
                bolt.write_schema(vec![Statement::new("schema", statement)]).await
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
        trial: bool,
        nodes_done: &(dyn Fn(u64) + Sync),
    ) -> Result<EntitiesWritten, SinkError> {
        let mut result = EntitiesWritten::default();
        for (label, nodes) in shared_nodes(entities) {
            let total = nodes.len() as u64;
            let nodes = self.changed_nodes(label, nodes, trial).await?;
            result.written += nodes.len() as u64;
            result.unchanged += total - nodes.len() as u64;
            nodes_done(total - nodes.len() as u64);
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
                nodes_done,
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
        // One writer: cities link to a few dense Country nodes, and on Neo4j
        // two transactions merging links to the same country deadlock on
        // its relationship group (every deadlock of the sweep was here;
        // BENCHMARKS.md). The few thousand links take a second alone.
        self.write_batches(
            "phase 1 IN_COUNTRY",
            cypher::MERGE_IN_COUNTRY,
            in_country,
            batch_size,
            1,
            &|_| {},
        )
        .await?;
        Ok(result)
    }

    /// `nodes` without those the graph already holds with every one of
    /// their properties equal (a property the snapshot lacks is never
    /// removed, so it does not count); with `only_absent` (a `--max-rows`
    /// trial, whose few rows' spellings decide nothing), without any the
    /// graph already holds.
    pub(super) async fn changed_nodes(
        &self,
        label: Label,
        nodes: Vec<(String, Props)>,
        only_absent: bool,
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
                    same[slot] = only_absent || graph_holds(&nodes[slot].1, names, &values);
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
    pub(super) async fn changed_city_links<'a>(
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

    /// Writes one phase-1 batch; a batch the server refuses for its
    /// transaction memory limit is written in halves (its statements merge,
    /// so a part written twice is written once).
    async fn write_splitting(&self, what: &str, statement: &str, batch: Vec<Param>) -> Result<(), SinkError> {
        match self
            .write(what, statement, "rows", params::list(batch.clone()))
            .await
        {
            Err(error) if error.is_memory_limit() && batch.len() > 1 => {
                self.count_split(batch.len(), &error);
                let mut left = batch;
                let right = left.split_off(left.len() / 2);
                for half in [left, right] {
                    Box::pin(self.write_splitting(what, statement, half)).await?;
                }
                Ok(())
            }
            other => other,
        }
    }

    /// Counts and says that a batch of `rows` is written in halves.
    fn count_split(&self, rows: usize, error: &SinkError) {
        self.splits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(
            rows,
            error = %error,
            "A batch is over the server's transaction memory limit: writing it in halves \
             (a smaller neo4j.batch_size avoids this)"
        );
    }

    /// Writes `rows` in batches, `workers` at a time.
    pub(super) async fn write_batches(
        &self,
        what: &str,
        statement: &str,
        rows: Vec<Param>,
        batch_size: usize,
        workers: usize,
        rows_done: &(dyn Fn(u64) + Sync),
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
                let rows = batch.len() as u64;
                let result = sink.write_splitting(&what, &statement, batch).await;
                drop(permit);
                result.map(|()| rows)
            });
            while let Some(done) = tasks.try_join_next() {
                rows_done(done.expect("writer task panicked")?);
            }
        }
        while let Some(done) = tasks.join_next().await {
            rows_done(done.expect("writer task panicked")?);
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
    ///
    /// A batch the server refuses for its transaction memory limit is split
    /// in halves, each written the same way (and split again if need be),
    /// so that a limit lower than the batch size slows the load instead of
    /// stopping it; one learner over the limit is an error that names it.
    pub async fn write_learners(&self, learners: LearnerBatch<'_>) -> Result<BatchWritten, SinkError> {
        let (records, load_date) = (learners.records, learners.load_date);
        match self.write_learners_once(learners).await {
            Err(error) if error.is_memory_limit() && records.len() > 1 => {
                self.count_split(records.len(), &error);
                let (left, right) = records.split_at(records.len() / 2);
                let mut written = BatchWritten::default();
                for half in [left, right] {
                    let half = LearnerBatch {
                        records: half,
                        load_date,
                        prepared: None,
                    };
                    written.add(Box::pin(self.write_learners(half)).await?);
                }
                Ok(written)
            }
            other => other,
        }
    }

    /// [`Self::write_learners`] in one transaction, whatever its size.
    async fn write_learners_once(&self, learners: LearnerBatch<'_>) -> Result<BatchWritten, SinkError> {
        let create = cypher::create_learners(self.options);
        let update = cypher::update_learners(self.options);
        let prepared = std::sync::Mutex::new(learners.prepared);
        let options = self.options;
        let rewrite_unchanged = self.rewrite_unchanged;
        let load_date = learners.load_date;
        // What the first attempt found to write (key -> new?): a retry
        // after a commit whose answer was lost finds those learners written,
        // and counts them as what the first attempt wrote, not unchanged.
        let first_attempt: std::sync::Mutex<Option<HashMap<String, bool>>> = std::sync::Mutex::new(None);
        self.retrying("phase 2 learners", |bolt| {
            let ahead = prepared.lock().unwrap_or_else(|p| p.into_inner()).take();
            let (create, update, records) = (&create, &update, learners.records);
            let first_attempt = &first_attempt;
            async move {
                let earlier = first_attempt.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let remember = |classified: HashMap<String, bool>| {
                    let mut slot = first_attempt.lock().unwrap_or_else(|p| p.into_inner());
                    if slot.is_none() {
                        *slot = Some(classified);
                    }
                };
                if let Some(ahead) = ahead {
                    remember(records.iter().map(|(r, _)| (r.key.clone(), true)).collect());
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
                        Some(before) if before.same_as(record) && !rewrite_unchanged => {
                            match earlier.as_ref().and_then(|e| e.get(&record.key)) {
                                Some(true) => written.created += 1,
                                Some(false) => written.updated += 1,
                                None => written.unchanged += 1,
                            }
                        }
                        Some(before) => {
                            // Unchanged all the same, and counted so.
                            let same = u64::from(before.same_as(record));
                            written.rewritten += same;
                            written.unchanged += same;
                            changed.push((*record, before));
                        }
                    }
                }
                remember(
                    new.iter()
                        .map(|(r, _)| (r.key.clone(), true))
                        .chain(changed.iter().map(|(r, _)| (r.key.clone(), false)))
                        .collect(),
                );
                let held = if changed.is_empty() {
                    HashMap::new()
                } else {
                    read_replaceable(&bolt, options, changed.iter().map(|(r, _)| r.key.as_str())).await?
                };
                let changed_keys: Vec<&str> = changed.iter().map(|(r, _)| r.key.as_str()).collect();
                let opened_on = read_opened_on(&bolt, &changed_keys, learners.load_date).await?;
                let mut changes = SnapshotChanges::new(options);
                for (record, before) in changed {
                    changes.add(
                        record,
                        before,
                        held.get(&record.key),
                        opened_on.get(&record.key),
                        learners.load_date,
                    );
                }
                let mut statements = Vec::new();
                if !new.is_empty() {
                    let prepared = PreparedLearners::new(&new);
                    statements.push(
                        Statement::new(CREATE, create)
                            .params(prepared.params)
                            .param("snapshot", params::date(load_date)),
                    );
                    written.created += new.len() as u64;
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
                            .param("closeProfessional", params::list(changes.close_professional))
                            .param("retractLearning", params::list(changes.retract_learning))
                            .param("retractProfessional", params::list(changes.retract_professional))
                            .param("restate", params::list(changes.restate)),
                    );
                    written.updated += changes.records.len() as u64 - written.rewritten;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::records::Value;

    #[test]
    pub(super) fn a_shared_node_is_written_again_only_when_a_property_differs() {
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
}
