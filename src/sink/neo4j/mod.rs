//! The online sink: a Neo4j-compatible database over Bolt (Neo4j 5 and
//! 2025.x, Aura, or the local ArcadeDB test server).
//!
//! One [`Neo4jSink`] holds the driver (its pool sized by
//! `neo4j.max_connection_pool_size`) and is shared by every writer task.
//! Each batch is one explicit transaction, retried as a whole on transient
//! errors only ([`retry`]). [`bolt`] is the one place that knows the driver.
//! Its methods live by what they serve: `session` (connecting, retries,
//! plain reads), `first_load` (schema, shared entities, learners),
//! `changes` (a later snapshot compared with what the graph holds),
//! `records` (LoadRun and Snapshot records), `inspect` (verify, clear,
//! ping) and [`lock`] (one load at a time).

pub mod bolt;
mod changes;
pub mod cypher;
pub mod failure;
mod first_load;
mod inspect;
pub mod lock;
pub mod params;
pub mod readonly;
mod records;
pub mod retry;
mod session;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use crate::graph::counts::GraphOptions;
use bolt::{Bolt, BoltError, ConnectOptions, ServerInfo};
pub use first_load::{BatchWritten, EntitiesWritten, LearnerBatch, PreparedLearners};
pub use inspect::WriteAccess;
pub use records::{LaterRun, RunStamp};
use retry::RetryPolicy;

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
         ago, by the database server's clock); nothing was written. Wait for it to finish; if that run is gone \
         (killed on another machine), its lock is taken over once its heartbeat is {stale_seconds} s old, or at once \
         with --break-lock"
    )]
    Locked {
        holder: String,
        since: String,
        silent_seconds: i64,
        stale_seconds: u64,
    },
    #[error(
        "this run lost the graph's load lock while it ran ({reason}); it stopped before its next write. Another run \
         may be writing: wait for it to finish (`learngraph history` shows it), then continue with `load --resume`"
    )]
    LockLost { reason: String },
    #[error("{what} failed: {}", failure::describe(.source))]
    Query {
        what: String,
        #[source]
        source: BoltError,
    },
}

impl SinkError {
    /// Whether the server refused a transaction for its memory limit.
    pub fn is_memory_limit(&self) -> bool {
        matches!(self, SinkError::Query { source, .. } if retry::is_memory_limit(source))
    }

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
    /// Phase 2 writes every learner as changed, even one whose fingerprint
    /// the graph holds: a change of graph options applied to the whole
    /// graph (see [`Neo4jSink::rewrite_every_learner`]).
    rewrite_unchanged: bool,
    retries: Arc<AtomicU64>,
    /// Phase-2 batches split because the server refused them for memory.
    splits: Arc<AtomicU64>,
    server: ServerInfo,
}
