//! The target graph of `docs/graph.md`: labels, keys, relationship
//! types, the records the transform produces, and the counts a load must
//! reach.

pub mod counts;
pub mod model;
pub mod properties;
pub mod questions;
pub mod records;
pub mod spellings;
