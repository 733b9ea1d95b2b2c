//! Every Cypher statement the loader sends. Labels, types and property names
//! come from the graph model; data values are always `$parameters`.
//!
//! This is also the dialect's one place: where the local test server
//! (ArcadeDB) and Neo4j would need different text, the difference lives
//! here. None is needed today: both accept everything below, written as
//! Neo4j 5 and 2025.x want it (subqueries with a variable scope clause,
//! `CALL (x) { ... }`, no deprecated forms), which `tests/cypher_lint.rs`
//! checks with Neo4j's own front end for `CYPHER 5` and `CYPHER 25`.
//! [`catalogue`] lists every statement the loader can send.

use crate::graph::counts::GraphOptions;
use crate::graph::model::{Label, RANGE_INDEXES, RelType};
use crate::graph::properties::{node_properties, relationship_properties};

/// `CREATE CONSTRAINT ... IF NOT EXISTS` for a label's key.
pub fn unique_constraint(label: Label) -> String {
    format!(
        "CREATE CONSTRAINT learngraph_{}_{} IF NOT EXISTS FOR (n:{}) REQUIRE n.{} IS UNIQUE",
        label.name().to_lowercase(),
        label.key().to_lowercase(),
        label.name(),
        label.key()
    )
}

/// `CREATE INDEX ... IF NOT EXISTS` for every range index of the model.
pub fn range_indexes() -> Vec<String> {
    RANGE_INDEXES
        .iter()
        .map(|(label, property)| {
            format!(
                "CREATE INDEX learngraph_{}_{} IF NOT EXISTS FOR (n:{}) ON (n.{})",
                label.name().to_lowercase(),
                property.to_lowercase(),
                label.name(),
                property
            )
        })
        .collect()
}

/// Idempotent upsert of shared nodes: rows are `{key, props}`. Each
/// property is named (a property the row lacks keeps the graph's value, as
/// `SET n += r.props` would): with a map Neo4j's planner cannot tell the
/// key is not among the properties set, and so plans an `Eager` barrier
/// that holds the whole batch before the first write.
pub fn merge_nodes(label: Label) -> String {
    let mut statement = format!(
        "UNWIND $rows AS r MERGE (n:{} {{{}: r.key}})",
        label.name(),
        label.key()
    );
    let sets: Vec<String> = node_properties(label)
        .iter()
        .map(|(name, _)| format!("n.{name} = coalesce(r.props.{name}, n.{name})"))
        .collect();
    if !sets.is_empty() {
        statement.push_str(" SET ");
        statement.push_str(&sets.join(", "));
    }
    statement
}

/// Unique constraints on the keys of the load's own records (`LoadRun`
/// by id, `Snapshot` by date): their statements look them up by key.
pub const RECORD_CONSTRAINTS: [&str; 2] = [
    "CREATE CONSTRAINT learngraph_loadrun_id IF NOT EXISTS FOR (n:LoadRun) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT learngraph_snapshot_date IF NOT EXISTS FOR (n:Snapshot) REQUIRE n.date IS UNIQUE",
];

/// The key and the properties phase 1 writes of every node of a shared
/// label, one column each (`k` for the key): what a later snapshot's
/// shared nodes are compared with, so that only new or changed ones are
/// written again.
pub fn shared_node_values(label: Label) -> String {
    let mut columns = vec![format!("n.{} AS k", label.key())];
    columns.extend(
        node_properties(label)
            .iter()
            .map(|(name, _)| format!("n.{name} AS {name}")),
    );
    format!("MATCH (n:{}) RETURN {}", label.name(), columns.join(", "))
}

/// Every City's Country, as phase 1 compares them with a snapshot's.
pub const CITY_COUNTRIES: &str =
    "MATCH (c:City)-[:IN_COUNTRY]->(k:Country) RETURN c.id AS k, k.code AS country";

/// City -> Country, rows `{key: city id, country: code}`.
pub const MERGE_IN_COUNTRY: &str = "UNWIND $rows AS r MATCH (c:City {id: r.key}) MATCH (k:Country {code: r.country}) MERGE (c)-[:IN_COUNTRY]->(k)";

/// One Learner, if there is any.
pub const ANY_LEARNER: &str = "MATCH (l:Learner) RETURN 1 AS one LIMIT 1";

/// Which of `$keys` already have a Learner node, with what a new snapshot
/// compares: the fingerprint, the current states, whether marked missing.
pub const EXISTING_LEARNERS: &str = "UNWIND $keys AS k MATCH (l:Learner {hashedEmail: k}) \
     RETURN l.hashedEmail AS k, l.sourceHash AS h, l.currentLearningState AS learning, \
     l.currentProfessionalStatus AS professional, l.missingSince IS NOT NULL AS missing, l.firstSnapshot AS first";

/// The changed learners whose current learning state (and, below,
/// professional status) this snapshot's date opened, with whether a later
/// snapshot's load opened it and the state before it: a correction of that
/// date retracts it rather than closing it.
pub const STATES_OPENED_ON: &str = "UNWIND $keys AS k MATCH (l:Learner {hashedEmail: k})-[c:HAS_LEARNING_STATE]->() \
     WHERE c.isCurrent = true AND c.validFrom >= $date \
     OPTIONAL MATCH (l)-[p:HAS_LEARNING_STATE]->(s:LearningState) WHERE p.validTo = c.validFrom \
     WITH k, c, p, s ORDER BY p.validFrom DESC \
     RETURN k, coalesce(c.openedBySnapshot, false) AS opened, collect(s.state)[0] AS prior";
pub const STATUSES_OPENED_ON: &str = "UNWIND $keys AS k MATCH (l:Learner {hashedEmail: k})-[c:HAS_PROFESSIONAL_STATUS]->() \
     WHERE c.isCurrent = true AND c.validFrom >= $date \
     OPTIONAL MATCH (l)-[p:HAS_PROFESSIONAL_STATUS]->(s:ProfessionalStatus) WHERE p.validTo = c.validFrom \
     WITH k, c, p, s ORDER BY p.validFrom DESC \
     RETURN k, coalesce(c.openedBySnapshot, false) AS opened, collect(s.status)[0] AS prior";

/// The keys and fingerprints of the learners the latest snapshot holds.
pub const PRESENT_LEARNER_KEYS: &str =
    "MATCH (l:Learner) WHERE l.missingSince IS NULL RETURN l.hashedEmail AS k, l.sourceHash AS h";

/// The learners an earlier snapshot marked missing.
pub const MISSING_LEARNER_KEYS: &str =
    "MATCH (l:Learner) WHERE l.missingSince IS NOT NULL RETURN l.hashedEmail AS k";

/// Marks learners absent from a snapshot (they are kept, not deleted).
pub const MARK_MISSING: &str = "UNWIND $keys AS k MATCH (l:Learner {hashedEmail: k}) \
     SET l.missingSince = coalesce(l.missingSince, $date)";

/// Records a loaded snapshot with what its loads did: written by the run
/// that completes it, and again by each complete reload of the same date
/// (a corrected export), so that it describes the graph after the last.
pub const RECORD_SNAPSHOT: &str = "MERGE (s:Snapshot {date: $date}) SET s += $props";

/// The complete loads of a snapshot's date (trials and interrupted runs
/// left out): more than one is a reload.
pub const COMPLETE_LOADS_OF_SNAPSHOT: &str = "MATCH (r:LoadRun) WHERE r.snapshotDate = $date \
     AND r.complete = true AND r.trialMaxRows IS NULL RETURN count(r) AS n";

pub const DELETE_SNAPSHOTS: &str = "MATCH (s:Snapshot) DETACH DELETE s";

/// One record per load (`LoadRun {id}`): binds a checkpoint to the graph it
/// was written against. Its start and end are stamped by the database
/// server's clock, the one clock every run shares.
pub const RECORD_LOAD_RUN: &str = "MERGE (r:LoadRun {id: $id}) SET r += $props \
     FOREACH (_ IN CASE WHEN $stampStart THEN [1] ELSE [] END | SET r.startedMillis = timestamp()) \
     FOREACH (_ IN CASE WHEN $stampEnd THEN [1] ELSE [] END | SET r.endedMillis = timestamp())";

pub const LOAD_RUN_EXISTS: &str = "MATCH (r:LoadRun {id: $id}) RETURN count(r) AS n";

/// Relationships of the given learners by type; with `$current`, state
/// relationships count only while current (the latest snapshot's view).
pub const LEARNER_RELATIONSHIPS: &str = "UNWIND $keys AS k MATCH (l:Learner {hashedEmail: k})-[r]->() \
     WITH type(r) AS t, r WHERE NOT $current OR r.isCurrent IS NULL OR r.isCurrent = true \
     RETURN t, count(r) AS n";

pub const COUNT_MISSING_LEARNERS: &str =
    "MATCH (l:Learner) WHERE l.missingSince IS NOT NULL RETURN count(l) AS n";

pub const DELETE_LOAD_RUNS: &str = "MATCH (r:LoadRun) DETACH DELETE r";

/// Learners a snapshot's load created, changed (or brought back) and marked
/// missing, counted from the marks it left: the same whether one run did
/// the load or a trial, a killed run and its resume did it together.
pub const SNAPSHOT_LEARNERS_NEW: &str =
    "MATCH (l:Learner) WHERE l.firstSnapshot = $date RETURN count(l) AS n";
pub const SNAPSHOT_LEARNERS_CHANGED: &str =
    "MATCH (l:Learner) WHERE l.changedBySnapshot = $date RETURN count(l) AS n";
pub const SNAPSHOT_LEARNERS_MISSING: &str =
    "MATCH (l:Learner) WHERE l.missingSince = $date RETURN count(l) AS n";

/// Every Snapshot record, for `history`.
pub const SNAPSHOT_HISTORY: &str = "MATCH (s:Snapshot) RETURN s.date AS date, s.learnersNew AS new, \
     s.learnersChanged AS changed, s.learnersUnchanged AS unchanged, s.learnersMissing AS missing, \
     s.learnersKeptRowRejected AS kept, s.rowsLoaded AS rows, s.file AS file, s.loads AS loads";

/// Every LoadRun record, for `history`.
pub const LOAD_RUN_HISTORY: &str = "MATCH (r:LoadRun) RETURN r.id AS id, r.file AS file, \
     r.snapshotDate AS snapshot, r.startedOn AS startedOn, r.startedMillis AS startedMillis, \
     r.endedMillis AS endedMillis, r.complete AS complete, r.rowsRead AS rowsRead, r.rowsLoaded AS rowsLoaded, \
     r.learnersNew AS new, r.learnersChanged AS changed, r.learnersMissing AS missing, r.resumes AS resumes, \
     r.resumedOn AS resumedOn, r.trialMaxRows AS trial, r.learngraphVersion AS version, \
     r.stoppedBecause AS stoppedBecause";

/// The state transitions each snapshot's load made: a current state it
/// opened (`openedBySnapshot`) and the one it closed on the same date.
pub const STATE_TRANSITIONS: &str = "MATCH (l:Learner)-[new:HAS_LEARNING_STATE|HAS_PROFESSIONAL_STATUS]->(after) \
     WHERE new.openedBySnapshot = true \
     MATCH (l)-[old:HAS_LEARNING_STATE|HAS_PROFESSIONAL_STATUS]->(before) \
     WHERE type(old) = type(new) AND old.validTo = new.validFrom \
     RETURN new.validFrom AS date, type(new) AS kind, coalesce(before.state, before.status) AS before, \
     coalesce(after.state, after.status) AS after, count(*) AS n";

/// The latest loaded snapshot's date.
pub const LATEST_SNAPSHOT: &str = "MATCH (s:Snapshot) RETURN s.date AS d ORDER BY d DESC LIMIT 1";

/// The run of the latest snapshot after `$date` that any run started
/// writing, finished or not (a trial, a killed run): its learners are in the
/// graph whether or not a Snapshot record says so.
pub const LATER_SNAPSHOT_RUN: &str = "MATCH (r:LoadRun) WHERE r.snapshotDate > $date \
     RETURN r.id AS id, r.snapshotDate AS date, r.complete AS complete, r.trialMaxRows AS trial, r.file AS file \
     ORDER BY date DESC, coalesce(r.complete, false), r.startedMillis DESC LIMIT 1";

/// Loaded snapshots.
pub const SNAPSHOTS: &str = "MATCH (s:Snapshot) RETURN count(s) AS n";

/// The relationship kinds a phase-2 batch carries, as (parameter name, type,
/// whether its relationships have properties).
pub const BATCH_RELATIONSHIPS: [(&str, RelType, bool); 9] = [
    ("skills", RelType::HasSkill, false),
    ("enrolled", RelType::EnrolledIn, true),
    ("works", RelType::WorksFor, true),
    ("ventures", RelType::RunsVenture, true),
    ("studies", RelType::StudiedAt, true),
    ("learning", RelType::HasLearningState, true),
    ("professional", RelType::HasProfessionalStatus, true),
    ("city", RelType::ResidesIn, false),
    ("origin", RelType::FromCountry, false),
];

/// One relationship kind of a batch. Each distinct target is looked up once
/// per batch (`$<kind>Keys`), not once per relationship: the state and
/// program nodes are shared by nearly every row. `$<kind>` holds
/// `{l: learner index, t: target index, p: properties}`. A target that is
/// missing stays a `null` in its slot (`collect([t])` keeps the slot), so an
/// index can never point at another node. The targets are collected in a
/// subquery of their own: grouping by the learner list instead would hash
/// that whole list once per target.
fn batch_relationships(list: &str, rel: RelType, with_props: bool) -> String {
    let (_, end) = rel.ends();
    format!(
        "CALL () {{ UNWIND ${list}Keys AS k OPTIONAL MATCH (t:{label} {{{key}: k}}) RETURN collect([t]) AS {list}Targets }} \
         CALL (ls, {list}Targets) {{ UNWIND ${list} AS x WITH ls[x.l][0] AS l, {list}Targets[x.t][0] AS t, x \
         CREATE (l)-[:{rel}{props}]->(t) }}",
        label = end.name(),
        key = end.key(),
        rel = rel.name(),
        props = relationship_map(rel, with_props),
    )
}

/// The property map a relationship is created with. Every property is named
/// (`{startDate: x.p.startDate, ...}`) rather than set from the map after
/// the create: ArcadeDB then writes each relationship once instead of
/// growing it in place, which made phase 2 a quarter faster. A missing
/// value is `null` and so is not stored, in Neo4j and ArcadeDB alike.
fn relationship_map(rel: RelType, with_props: bool) -> String {
    if rel == RelType::HasSkill {
        return " {source: 'profile'}".to_string();
    }
    if !with_props {
        return String::new();
    }
    let fields: Vec<String> = relationship_properties(rel)
        .iter()
        .map(|(name, _)| format!("{name}: x.p.{name}"))
        .collect();
    format!(" {{{}}}", fields.join(", "))
}

fn wanted(rel: RelType, options: GraphOptions) -> bool {
    match rel {
        RelType::ResidesIn => options.resides_in,
        RelType::FromCountry => options.from_country,
        _ => true,
    }
}

/// Phase 2: one statement per batch creates the learners and then all their
/// relationships, so that a new node is never looked up again. `ls` holds
/// each learner wrapped in a list, as in [`update_learners`]. Each learner
/// is marked with the snapshot that created it (`firstSnapshot`): what a
/// snapshot's load did is counted from the graph, whichever runs did it.
pub fn create_learners(options: GraphOptions) -> String {
    let mut parts =
        vec!["UNWIND $learners AS p CREATE (l:Learner) SET l = p, l.firstSnapshot = $snapshot WITH collect([l]) AS ls".to_string()];
    for (list, rel, with_props) in BATCH_RELATIONSHIPS {
        if wanted(rel, options) {
            parts.push(batch_relationships(list, rel, with_props));
        }
    }
    parts.join(" ")
}

/// The relationship kinds a later snapshot replaces when they changed (all
/// but the states, whose history is kept), as (parameter name, type,
/// whether its relationships have properties).
pub fn replaced_relationships(options: GraphOptions) -> impl Iterator<Item = (&'static str, RelType, bool)> {
    BATCH_RELATIONSHIPS
        .into_iter()
        .filter(move |(_, rel, _)| wanted(*rel, options) && !rel.is_state())
}

/// The relationships of the given learners that a later snapshot may
/// replace, each with its target's key and its properties: a changed
/// learner's relationships are compared kind by kind with the snapshot's,
/// and only the kinds that differ are rewritten.
pub fn replaceable_relationships(options: GraphOptions) -> String {
    let kinds: Vec<RelType> = replaced_relationships(options).map(|(_, rel, _)| rel).collect();
    let types: Vec<&str> = kinds.iter().map(|rel| rel.name()).collect();
    let targets: Vec<String> = kinds
        .iter()
        .map(|rel| format!("WHEN '{}' THEN t.{}", rel.name(), rel.ends().1.key()))
        .collect();
    format!(
        "UNWIND $keys AS k MATCH (l:Learner {{hashedEmail: k}})-[r:{}]->(t) \
         RETURN k, type(r) AS type, CASE type(r) {} END AS target, properties(r) AS props",
        types.join("|"),
        targets.join(" ")
    )
}

/// A later snapshot's changed learners, one statement per batch: the
/// properties are replaced (which also clears `missingSince`), keeping
/// `firstSnapshot` and marking `changedBySnapshot`. What the learner was
/// before that date changed it stays beside (`priorSourceHash`,
/// `priorChangedBySnapshot`, `priorSnapshotId`): a corrected export of
/// the same date that puts a learner back as it was puts its marks back
/// too, and a learner the date created is never marked changed by it, so
/// that a correction leaves the graph the corrected file alone would have
/// made. Each kind of
/// profile relationship (skills, enrollments, jobs, ventures, studies,
/// places) that changed is replaced by the snapshot's: `$<kind>Replace`
/// lists the learners (by index) whose old ones go, and `$<kind>` brings
/// only their new ones, so a kind that did not change is not touched (on
/// ArcadeDB, deleting a relationship scans its target's list, and skills,
/// cities and countries are linked to by most learners). Where a state
/// changed, the current relationship is closed (`$closeLearning` /
/// `$closeProfessional`: `{l: learner index, d: snapshot date}`) and the
/// batch's `learning` / `professional` lists open the new current one.
/// State history is never deleted. A learner that vanished meanwhile stays
/// a `null` in its slot. Old relationships are collected before they are
/// deleted: deleting while matching skipped some on ArcadeDB.
/// The subquery deleting every `rel` relationship of the learners whose
/// indexes (in the batch list `ls`) are in `$list`. Old relationships are
/// collected before they are deleted: deleting while matching skipped some
/// on ArcadeDB.
fn delete_relationships_of(list: &str, rel: RelType) -> String {
    format!(
        "CALL (ls) {{ UNWIND ${list} AS i WITH ls[i][0] AS l MATCH (l)-[r:{}]->() \
         WITH collect(r) AS old UNWIND old AS r DELETE r }}",
        rel.name()
    )
}

pub fn update_learners(options: GraphOptions) -> String {
    let mut parts = vec![
        "UNWIND $learners AS p OPTIONAL MATCH (l:Learner {hashedEmail: p.hashedEmail}) \
         WITH p, l, l.firstSnapshot AS first, coalesce(l.changedBySnapshot = $snapshot, false) AS again \
         WITH p, l, first, \
         CASE WHEN again THEN l.priorSourceHash WHEN l.missingSince IS NULL THEN l.sourceHash END AS priorHash, \
         CASE WHEN again THEN l.priorChangedBySnapshot ELSE l.changedBySnapshot END AS priorChanged, \
         CASE WHEN again THEN l.priorSnapshotId ELSE l.snapshotId END AS priorSnapshotId \
         WITH p, l, first, priorHash, priorChanged, priorSnapshotId, \
         NOT coalesce(first >= $snapshot, false) AND coalesce(p.sourceHash = priorHash, false) AS reverted, \
         coalesce(first = $snapshot, false) AS created \
         SET l = p, l.firstSnapshot = first, \
         l.changedBySnapshot = CASE WHEN created THEN null WHEN reverted THEN priorChanged ELSE $snapshot END, \
         l.snapshotId = CASE WHEN reverted THEN priorSnapshotId ELSE p.snapshotId END, \
         l.priorSourceHash = CASE WHEN created OR reverted THEN null ELSE priorHash END, \
         l.priorChangedBySnapshot = CASE WHEN created OR reverted THEN null ELSE priorChanged END, \
         l.priorSnapshotId = CASE WHEN created OR reverted THEN null ELSE priorSnapshotId END \
         WITH collect([l]) AS ls"
            .to_string(),
    ];
    for (list, rel, _) in replaced_relationships(options) {
        parts.push(delete_relationships_of(&format!("{list}Replace"), rel));
    }
    for (list, rel) in [
        ("closeLearning", RelType::HasLearningState),
        ("closeProfessional", RelType::HasProfessionalStatus),
    ] {
        parts.push(format!(
            "CALL (ls) {{ UNWIND ${list} AS x WITH ls[x.l][0] AS l, x MATCH (l)-[r:{}]->() \
             WHERE r.isCurrent = true SET r.isCurrent = false, r.validTo = x.d }}",
            rel.name()
        ));
    }
    // A correction of the date that first wrote a learner: its state
    // history is the corrected row's, as if written first from it.
    for rel in [RelType::HasLearningState, RelType::HasProfessionalStatus] {
        parts.push(delete_relationships_of("restate", rel));
    }
    // A correction of the snapshot's own date: the current state it opened
    // never held, so it is retracted, not closed (no interval of no
    // length); where the corrected state is the one before it, that one is
    // current again (no transition from a state to itself).
    for (list, rel) in [
        ("retractLearning", RelType::HasLearningState),
        ("retractProfessional", RelType::HasProfessionalStatus),
    ] {
        parts.push(format!(
            "CALL (ls) {{ UNWIND ${list} AS x WITH ls[x.l][0] AS l, x MATCH (l)-[r:{rel}]->() \
             WHERE r.isCurrent = true WITH collect(r) AS current UNWIND current AS r DELETE r }} \
             CALL (ls) {{ UNWIND ${list} AS x WITH ls[x.l][0] AS l, x WHERE x.reopen \
             MATCH (l)-[p:{rel}]->() WHERE p.validTo = x.d WITH x, p ORDER BY p.validFrom DESC \
             WITH x, collect(p)[0] AS p SET p.isCurrent = true, p.validTo = null }}",
            rel = rel.name()
        ));
    }
    for (list, rel, with_props) in BATCH_RELATIONSHIPS {
        if wanted(rel, options) {
            parts.push(batch_relationships(list, rel, with_props));
        }
    }
    parts.join(" ")
}

/// Deletes up to `$limit` nodes of a label (or of any label) with their
/// relationships; returns how many.
pub fn delete_batch(label: Option<Label>) -> String {
    let pattern = label
        .map(|l| format!("(n:{})", l.name()))
        .unwrap_or_else(|| "(n)".to_string());
    // The load lock is the clearing run's own: it stays.
    format!("MATCH {pattern} WHERE NOT n:LoadLock WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS n")
}

/// Deletes up to `$limit` relationships of the nodes of a label (or of any
/// node); returns how many. Run before [`delete_batch`]: a dense node's
/// relationships (a learning state holds one per learner) deleted with it
/// in one transaction exceed Neo4j's transaction memory on a full graph.
pub fn delete_relationships_batch(label: Option<Label>) -> String {
    match label {
        Some(l) => format!(
            "MATCH (n:{})-[r]-() WITH DISTINCT r LIMIT $limit DELETE r RETURN count(*) AS n",
            l.name()
        ),
        None => "MATCH ()-[r]->() WITH r LIMIT $limit DELETE r RETURN count(*) AS n".to_string(),
    }
}

/// Deletes up to `$limit` relationships of one type; returns how many (a
/// graph option turned off, applied).
pub fn delete_relationships_of_type(rel: RelType) -> String {
    format!(
        "MATCH ()-[r:{}]->() WITH r LIMIT $limit DELETE r RETURN count(*) AS n",
        rel.name()
    )
}

/// One relationship of a type, if the graph holds any.
pub fn any_relationship(rel: RelType) -> String {
    format!("MATCH ()-[r:{}]->() RETURN 1 AS one LIMIT 1", rel.name())
}

/// The graph options (`graph.*`) of the latest complete load that recorded
/// them: the graph is written with those. A trial (`--max-rows`) wrote only
/// its rows, so its options are not the graph's.
pub const GRAPH_OPTIONS_IN_FORCE: &str = "MATCH (r:LoadRun) WHERE r.complete = true AND r.residesIn IS NOT NULL \
     AND r.trialMaxRows IS NULL \
     RETURN r.residesIn AS residesIn, r.fromCountry AS fromCountry ORDER BY r.endedMillis DESC LIMIT 1";

pub fn count_nodes(label: Label) -> String {
    format!("MATCH (n:{}) RETURN count(n) AS n", label.name())
}

/// Learners of the latest snapshot (not marked missing).
pub const COUNT_PRESENT_LEARNERS: &str =
    "MATCH (n:Learner) WHERE n.missingSince IS NULL RETURN count(n) AS n";

/// Relationships of the latest snapshot's learners; for a state type, only
/// the current ones.
pub fn count_latest_relationships(rel: RelType) -> String {
    let (start, end) = rel.ends();
    let current = if rel.is_state() {
        " AND r.isCurrent = true"
    } else {
        ""
    };
    format!(
        "MATCH (l:{})-[r:{}]->(:{}) WHERE l.missingSince IS NULL{current} RETURN count(r) AS n",
        start.name(),
        rel.name(),
        end.name()
    )
}

/// Verify's answers to the analysts' first questions (latest snapshot).
pub const LEARNERS_PER_COUNTRY: &str = "MATCH (l:Learner) WHERE l.countryOfResidenceCode IS NOT NULL AND l.missingSince IS NULL \
     RETURN l.countryOfResidenceCode AS k, count(l) AS n ORDER BY n DESC, k LIMIT 10";
pub const GRADUATES_PER_PROGRAM: &str = "MATCH (l:Learner)-[e:ENROLLED_IN]->(p:Program) WHERE e.enrollmentStatus = 'Graduated' AND l.missingSince IS NULL \
     RETURN coalesce(p.name, p.id) AS k, count(l) AS n ORDER BY n DESC, k LIMIT 10";
pub const GRADUATES_PLACED: &str = "MATCH (l:Learner) WHERE l.currentLearningState = 'Graduate' AND l.missingSince IS NULL \
     RETURN count(l) AS n, sum(CASE WHEN l.isPlaced THEN 1 ELSE 0 END) AS placed";

/// The connection check: who answers, and that the database is there.
pub const PROBE: &str = "RETURN 1 AS one";

/// `ping`'s write check, sent in a transaction that is rolled back.
pub const WRITE_PROBE: &str = "CREATE (p:LearngraphPing) RETURN count(p) AS n";

/// The unique constraints present, as (label, property).
pub const KEY_CONSTRAINTS: &str = "SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties \
     WHERE type IN ['UNIQUENESS', 'NODE_KEY'] RETURN labelsOrTypes[0] AS label, properties[0] AS property";

/// Every statement the loader can send, named, with every optional part
/// switched on: what the Cypher lint test feeds to Neo4j's front end.
pub fn catalogue() -> Vec<(String, String)> {
    let all_on = GraphOptions {
        resides_in: true,
        from_country: true,
    };
    let mut out: Vec<(String, String)> = vec![("probe".into(), PROBE.into())];
    for label in Label::ALL {
        out.push((format!("constraint {}", label.name()), unique_constraint(label)));
        out.push((format!("phase 1 {}", label.name()), merge_nodes(label)));
        out.push((
            format!("phase 1 compare {}", label.name()),
            shared_node_values(label),
        ));
        out.push((format!("clear {}", label.name()), delete_batch(Some(label))));
        out.push((
            format!("clear relationships of {}", label.name()),
            delete_relationships_batch(Some(label)),
        ));
        out.push((format!("count {}", label.name()), count_nodes(label)));
    }
    out.extend(range_indexes().into_iter().map(|s| ("index".to_string(), s)));
    out.extend(
        RECORD_CONSTRAINTS
            .iter()
            .map(|s| ("constraint of the records".to_string(), s.to_string())),
    );
    out.push(("constraint LoadLock".into(), super::lock::CONSTRAINT.into()));
    for rel in RelType::ALL {
        out.push((format!("count {}", rel.name()), count_relationships(rel)));
        out.push((
            format!("count latest {}", rel.name()),
            count_latest_relationships(rel),
        ));
    }
    out.push(("phase 2 create".into(), create_learners(all_on)));
    out.push((
        "phase 2 create (default graph)".into(),
        create_learners(GraphOptions::default()),
    ));
    out.push(("phase 2 update".into(), update_learners(all_on)));
    out.push((
        "phase 2 replaceable relationships".into(),
        replaceable_relationships(all_on),
    ));
    out.push((
        "phase 2 replaceable relationships (default graph)".into(),
        replaceable_relationships(GraphOptions::default()),
    ));
    out.push((
        "phase 2 update (default graph)".into(),
        update_learners(GraphOptions::default()),
    ));
    out.push(("clear all".into(), delete_batch(None)));
    out.push(("clear all relationships".into(), delete_relationships_batch(None)));
    for rel in [RelType::ResidesIn, RelType::FromCountry] {
        out.push((
            format!("graph option off, applied ({})", rel.name()),
            delete_relationships_of_type(rel),
        ));
        out.push((
            format!("graph option probe ({})", rel.name()),
            any_relationship(rel),
        ));
    }
    for (name, text) in [
        ("phase 1 IN_COUNTRY", MERGE_IN_COUNTRY),
        ("phase 1 compare IN_COUNTRY", CITY_COUNTRIES),
        ("any learner", ANY_LEARNER),
        ("graph options in force", GRAPH_OPTIONS_IN_FORCE),
        ("existing learners", EXISTING_LEARNERS),
        ("phase 2 states opened on the date", STATES_OPENED_ON),
        ("phase 2 statuses opened on the date", STATUSES_OPENED_ON),
        ("present learner keys", PRESENT_LEARNER_KEYS),
        ("missing learner keys", MISSING_LEARNER_KEYS),
        ("mark missing", MARK_MISSING),
        ("record snapshot", RECORD_SNAPSHOT),
        ("complete loads of snapshot", COMPLETE_LOADS_OF_SNAPSHOT),
        ("delete snapshots", DELETE_SNAPSHOTS),
        ("record load run", RECORD_LOAD_RUN),
        ("load run exists", LOAD_RUN_EXISTS),
        ("learner relationships", LEARNER_RELATIONSHIPS),
        ("count missing learners", COUNT_MISSING_LEARNERS),
        ("delete load runs", DELETE_LOAD_RUNS),
        ("latest snapshot", LATEST_SNAPSHOT),
        ("later snapshot run", LATER_SNAPSHOT_RUN),
        ("snapshots", SNAPSHOTS),
        ("snapshot learners new", SNAPSHOT_LEARNERS_NEW),
        ("snapshot learners changed", SNAPSHOT_LEARNERS_CHANGED),
        ("snapshot learners missing", SNAPSHOT_LEARNERS_MISSING),
        ("history of snapshots", SNAPSHOT_HISTORY),
        ("history of runs", LOAD_RUN_HISTORY),
        ("history of transitions", STATE_TRANSITIONS),
        ("count present learners", COUNT_PRESENT_LEARNERS),
        ("verify learners per country", LEARNERS_PER_COUNTRY),
        ("verify graduates per program", GRADUATES_PER_PROGRAM),
        ("verify graduates placed", GRADUATES_PLACED),
        ("ping write check", WRITE_PROBE),
        ("ping constraints", KEY_CONSTRAINTS),
        ("take the load lock", super::lock::TAKE),
        ("take over the load lock", super::lock::TAKE_OVER),
        ("load lock heartbeat", super::lock::BEAT),
        ("release the load lock", super::lock::RELEASE),
        ("read the load lock", super::lock::READ),
        ("check the load lock is held", super::lock::STILL_HELD),
        ("fence a write with the load lock", super::lock::FENCE),
    ] {
        out.push((name.to_string(), text.to_string()));
    }
    for question in crate::graph::questions::catalogue() {
        out.push((format!("question {}", question.name), question.cypher.clone()));
    }
    out
}

pub fn count_relationships(rel: RelType) -> String {
    let (start, end) = rel.ends();
    format!(
        "MATCH (:{})-[r:{}]->(:{}) RETURN count(r) AS n",
        start.name(),
        rel.name(),
        end.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_the_model_and_take_values_as_parameters() {
        let create = create_learners(GraphOptions::default());
        assert!(create.contains("MATCH (t:Skill {id: k})"));
        assert!(create.contains("CREATE (l)-[:HAS_SKILL {source: 'profile'}]->(t) }"));
        assert!(create.contains("UNWIND $enrolledKeys AS k OPTIONAL MATCH (t:Program {id: k}) RETURN collect([t]) AS enrolledTargets"));
        assert!(create.contains(
            "CREATE (l)-[:ENROLLED_IN {cohortCode: x.p.cohortCode, enrollmentStatus: x.p.enrollmentStatus,"
        ));
        assert!(create.contains("durationDays: x.p.durationDays}]->(t) }"));
        assert!(create.contains("MATCH (t:LearningState {state: k})"));
        assert!(!create.contains("RESIDES_IN"));
        assert!(
            create_learners(GraphOptions {
                resides_in: true,
                from_country: true
            })
            .contains("FROM_COUNTRY")
        );
        assert_eq!(
            unique_constraint(Label::Learner),
            "CREATE CONSTRAINT learngraph_learner_hashedemail IF NOT EXISTS FOR (n:Learner) REQUIRE n.hashedEmail IS UNIQUE"
        );
        assert_eq!(
            merge_nodes(Label::Country),
            "UNWIND $rows AS r MERGE (n:Country {code: r.key}) SET n.name = coalesce(r.props.name, n.name), \
             n.latitude = coalesce(r.props.latitude, n.latitude), n.longitude = coalesce(r.props.longitude, n.longitude)"
        );
        assert_eq!(
            merge_nodes(Label::LearningState),
            "UNWIND $rows AS r MERGE (n:LearningState {state: r.key})"
        );
        assert_eq!(range_indexes().len(), 12);
    }
}
