//! Where the graph goes: [`neo4j`] writes it online over Bolt;
//! [`admin_csv`] writes files for the offline `neo4j-admin` importer;
//! [`report`] writes the analysts' HTML page.

pub mod admin_csv;
pub mod neo4j;
pub mod report;
