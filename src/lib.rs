//! learngraph: turns a learner-profile CSV export into a Neo4j knowledge graph.
//!
//! The data flows through the folders in order: [`source`] reads raw rows,
//! [`transform`] turns them into clean records, [`graph`] is the target model
//! (labels, keys, counts), [`sink`] writes it out, and [`pipeline`]
//! orchestrates a run. [`generate`] makes realistic input files; [`config`]
//! is the one validated configuration every stage receives.

pub mod commands;
pub mod config;
pub mod exit;
pub mod generate;
pub mod graph;
pub mod pipeline;
pub mod sink;
pub mod source;
pub mod transform;
