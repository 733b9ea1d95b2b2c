//! learngraph: turns a learner-profile CSV export into a Neo4j knowledge graph.
//!
//! The data flows through the folders in order: [`source`] reads raw rows,
//! [`transform`] turns them into clean records, [`graph`] is the target model
//! (labels, keys, counts), [`sink`] writes it out, and [`pipeline`]
//! orchestrates a run. [`generate`] makes realistic input files; [`config`]
//! is the one validated configuration every stage receives.

/// The version, the commit the binary was built from and whether the tree
/// was dirty, e.g. `0.1.0 (commit 0123456789ab, dirty)` (see build.rs).
pub const VERSION: &str = env!("LEARNGRAPH_VERSION");

pub mod commands;
pub mod config;
pub mod exit;
pub mod generate;
pub mod graph;
pub mod pipeline;
pub mod sink;
pub mod source;
pub mod text;
pub mod transform;
