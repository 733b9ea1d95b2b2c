//! `ping`: a rehearsal of the connection before a real load. Who answers,
//! over which Bolt version, that the user and the database are accepted,
//! whether this user may write (a write rolled back), and which of the
//! graph model's key constraints are present. Nothing is written.

use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;

use crate::config::Config;
use crate::graph::model::Label;
use crate::pipeline::outputs::terminal_safe;
use crate::sink::neo4j::{Neo4jSink, SinkError, WriteAccess};

/// What `ping` found.
#[derive(Debug, Serialize)]
pub struct PingReport {
    pub uri: String,
    pub database: String,
    pub user: String,
    pub server_agent: String,
    pub bolt_version: String,
    /// The member that served the calls (the writer, under routing).
    pub server_address: String,
    pub write_access: bool,
    /// The server's reason when writing is refused.
    pub write_refused: Option<String>,
    /// The graph model's key constraints present, as `Label.key`.
    pub constraints_present: Vec<String>,
    /// The ones a first load will create.
    pub constraints_missing: Vec<String>,
    pub seconds: f64,
}

/// Connects with `config` and asks the server what a load needs.
pub async fn ping(config: &Config) -> Result<PingReport, SinkError> {
    let started = Instant::now();
    let sink = Neo4jSink::connect(config).await?;
    let write = sink.write_access().await?;
    let present = sink.key_constraints().await?;
    let (constraints_present, constraints_missing) = Label::ALL
        .iter()
        .map(|label| (label.name(), label.key()))
        .partition::<Vec<_>, _>(|(label, key)| present.iter().any(|(l, k)| l == label && k == key));
    let named = |pairs: Vec<(&str, &str)>| pairs.iter().map(|(l, k)| format!("{l}.{k}")).collect();
    let server = sink.server();
    Ok(PingReport {
        uri: config.neo4j.uri.clone(),
        database: config.neo4j.database.clone(),
        user: config.neo4j.user.clone(),
        server_agent: server.agent.clone(),
        bolt_version: format!("{}.{}", server.protocol.0, server.protocol.1),
        server_address: server.address.clone(),
        write_access: write == WriteAccess::Granted,
        write_refused: match write {
            WriteAccess::Granted => None,
            WriteAccess::Refused(reason) => Some(reason),
        },
        constraints_present: named(constraints_present),
        constraints_missing: named(constraints_missing),
        seconds: started.elapsed().as_secs_f64(),
    })
}

impl PingReport {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Server: {} at {} (Bolt {})",
            // What a server says of itself reaches the terminal inert.
            terminal_safe(&self.server_agent),
            terminal_safe(&self.server_address),
            self.bolt_version
        );
        let _ = writeln!(out, "Address: {}", self.uri);
        let _ = writeln!(out, "Database: {} (user {} accepted)", self.database, self.user);
        match &self.write_refused {
            None => {
                let _ = writeln!(out, "Write access: yes (a write was tried and rolled back)");
            }
            Some(reason) => {
                let reason = terminal_safe(reason);
                let _ = writeln!(out, "Write access: NO: {reason}");
            }
        }
        let total = self.constraints_present.len() + self.constraints_missing.len();
        let _ = write!(
            out,
            "Key constraints: {} of {total} present",
            self.constraints_present.len()
        );
        if self.constraints_missing.is_empty() {
            let _ = writeln!(out);
        } else {
            let _ = writeln!(
                out,
                "; a load creates the others ({})",
                self.constraints_missing.join(", ")
            );
        }
        let verdict = if self.write_access {
            "Ready to load."
        } else {
            "Not ready: this user may not write to this database (use a user with write access, and the cluster's writer)."
        };
        let _ = writeln!(out, "{verdict}");
        out
    }
}
