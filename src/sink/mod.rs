//! Where the graph goes: [`neo4j`] writes it online over Bolt; the offline
//! `neo4j-admin` files follow (issue 5).

pub mod neo4j;
