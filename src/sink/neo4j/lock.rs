//! One writer at a time: the load lock, held in the graph itself, so that
//! every learngraph process on any machine sees it.
//!
//! The lock is one `(:LoadLock {name: 'load'})` node under a unique
//! constraint: taking it is one `MERGE`, which exactly one of two racing
//! runs creates. The node names its holder (host, process, command, a
//! random token), when it was taken, and a heartbeat the holder refreshes
//! every [`HEARTBEAT`] while it runs. A second run is refused at once,
//! naming the holder and since when.
//!
//! Liveness trusts no clock but the database server's and no process table
//! but the holder's own: every time in the lock is the server's
//! `timestamp()`, and a heartbeat's age is computed by the server, so hosts
//! whose clocks disagree (containers, a laptop hours off) agree on it. A
//! lock is taken over, with a warning,
//! - when its heartbeat is older than the takeover age the holder wrote
//!   into it ([`LeaseTerms::stale_after`]), or
//! - at once when the holder is provably gone: it ran on this host, in this
//!   boot and this process-id namespace, and its process id is free or now
//!   names a process started at another time (`kill -9` then `load --resume`
//!   needs no flag; a container with its own pid namespace proves nothing);
//! - or whatever it says with `--break-lock`.
//!
//! The holder keeps its side of the bargain through a write guard
//! ([`bolt::WriteGuard`]): every write transaction first checks that the
//! lock is still its own, and once its heartbeat has gone unconfirmed for
//! [`LeaseTerms::hold_for`] it writes nothing more. The takeover age is
//! longer than that plus the longest transaction (`neo4j.query_timeout_seconds`),
//! so a run whose lock is taken over for silence has stopped writing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::bolt::{self, Row, Statement};
use super::{Neo4jSink, SinkError, params};

/// How often the holder refreshes its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// The takeover age of a lock whose record names none (one written by an
/// earlier version).
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(300);

pub const CONSTRAINT: &str =
    "CREATE CONSTRAINT learngraph_loadlock_name IF NOT EXISTS FOR (l:LoadLock) REQUIRE l.name IS UNIQUE";

/// Who holds the lock, with ages by the server's clock: the columns
/// [`Holder::from_row`] reads.
macro_rules! holder_columns {
    () => {
        "l.token AS token, l.host AS host, l.bootId AS bootId, l.pidNamespace AS pidNamespace, l.pid AS pid, \
         l.processStart AS processStart, l.command AS command, l.startedMillis AS started, \
         timestamp() - l.heartbeatMillis AS silent, l.staleAfterMillis AS staleAfter"
    };
}

/// Takes the lock if nobody holds it, and returns the holder either way.
pub const TAKE: &str = concat!(
    "MERGE (l:LoadLock {name: 'load'}) \
     ON CREATE SET l.token = $token, l.host = $host, l.bootId = $bootId, l.pidNamespace = $pidNamespace, \
     l.pid = $pid, l.processStart = $processStart, l.command = $command, l.startedMillis = timestamp(), \
     l.heartbeatMillis = timestamp(), l.staleAfterMillis = $staleAfter RETURN ",
    holder_columns!()
);

/// Takes over the lock from the holder named by its token: when that one
/// is gone (`$unconditional`), or its heartbeat is older than the takeover
/// age, both by the server's clock, checked in the same statement.
pub const TAKE_OVER: &str = "MATCH (l:LoadLock {name: 'load'}) WHERE l.token = $old \
     AND ($unconditional OR timestamp() - l.heartbeatMillis > coalesce(l.staleAfterMillis, $defaultStaleAfter)) \
     SET l.token = $token, l.host = $host, l.bootId = $bootId, l.pidNamespace = $pidNamespace, l.pid = $pid, \
     l.processStart = $processStart, l.command = $command, l.startedMillis = timestamp(), \
     l.heartbeatMillis = timestamp(), l.staleAfterMillis = $staleAfter RETURN count(l) AS n";

/// The holder's heartbeat; `n = 0` when the lock is no longer its own.
pub const BEAT: &str = "MATCH (l:LoadLock {name: 'load'}) WHERE l.token = $token \
     SET l.heartbeatMillis = timestamp() RETURN count(l) AS n";

/// Whether the lock is still the holder's: the first statement of each of
/// its write transactions.
pub const STILL_HELD: &str =
    "OPTIONAL MATCH (l:LoadLock {name: 'load'}) RETURN coalesce(l.token = $token, false) AS held";

/// The last statement of each of the holder's write transactions on Neo4j:
/// it locks the lock node (a write takes the node's exclusive lock, held
/// until the commit) and only then reads the token. A takeover committed
/// before it is seen, and the transaction is rolled back; a takeover sent
/// after it waits for the commit. So no write of a run commits once another
/// run holds the lock, even one in flight when the lock was broken.
pub const FENCE: &str = "OPTIONAL MATCH (l:LoadLock {name: 'load'}) SET l.fence = true \
     WITH l RETURN coalesce(l.token = $token, false) AS held";

/// The lock's holder, if any.
pub const READ: &str = concat!("MATCH (l:LoadLock {name: 'load'}) RETURN ", holder_columns!());

/// Gives the lock back (only the holder's own).
pub const RELEASE: &str =
    "MATCH (l:LoadLock {name: 'load'}) WHERE l.token = $token DELETE l RETURN count(*) AS n";

/// The two bounds of a hold, from the holder's own settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseTerms {
    /// How long the holder goes on writing without a confirmed heartbeat:
    /// long enough to wait out an outage (`neo4j.max_retry_seconds`).
    pub hold_for: Duration,
    /// How old its heartbeat must be before another run may take the lock
    /// over: `hold_for`, then the longest a transaction started just before
    /// may run (`neo4j.query_timeout_seconds`), then a margin; never less
    /// than [`DEFAULT_STALE_AFTER`].
    pub stale_after: Duration,
}

impl LeaseTerms {
    const MARGIN: Duration = Duration::from_secs(30);

    pub fn new(max_retry: Duration, query_timeout: Duration) -> Self {
        let hold_for = max_retry + Self::MARGIN;
        LeaseTerms {
            hold_for,
            stale_after: (hold_for + query_timeout + Self::MARGIN).max(DEFAULT_STALE_AFTER),
        }
    }
}

/// What tells a process apart from every other one, on any machine: a
/// process id means something only on the host, boot and pid namespace it
/// was read in, and only for the process started at that time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub host: String,
    /// The kernel's id of this boot (`/proc/sys/kernel/random/boot_id`).
    pub boot_id: Option<String>,
    /// The pid namespace (`/proc/self/ns/pid`): containers have their own.
    pub pid_namespace: Option<String>,
    pub pid: i64,
    /// When the process started, in clock ticks since boot (`/proc/PID/stat`).
    pub process_start: Option<i64>,
}

impl ProcessIdentity {
    /// This process.
    pub fn this_process() -> Self {
        let pid = i64::from(std::process::id());
        ProcessIdentity {
            host: host_name(),
            boot_id: read_trimmed("/proc/sys/kernel/random/boot_id"),
            pid_namespace: std::fs::read_link("/proc/self/ns/pid")
                .ok()
                .map(|link| link.to_string_lossy().into_owned()),
            pid,
            process_start: process_start(pid),
        }
    }

    /// Whether the process `self` names has ended, as far as `me` can
    /// prove: only in the same host, boot and pid namespace, where its id is
    /// now free or names a process started at another time. Anything
    /// unknown proves nothing.
    pub fn provably_gone(&self, me: &ProcessIdentity) -> bool {
        let same_namespace = self.host == me.host
            && self.boot_id.is_some()
            && self.boot_id == me.boot_id
            && self.pid_namespace.is_some()
            && self.pid_namespace == me.pid_namespace;
        same_namespace && self.process_start.is_some() && process_start(self.pid) != self.process_start
    }
}

/// Who asks for the lock.
#[derive(Clone, Debug)]
pub struct Claimant {
    pub identity: ProcessIdentity,
    /// What runs (`load FILE`, `clear --all`), for the refusal message.
    pub command: String,
    /// Take the lock whatever its holder says (`--break-lock`).
    pub break_lock: bool,
}

impl Claimant {
    /// This process, running `command`.
    pub fn this_process(command: &str, break_lock: bool) -> Self {
        Claimant {
            identity: ProcessIdentity::this_process(),
            command: command.to_string(),
            break_lock,
        }
    }
}

/// The run that holds the lock, as the graph records it; times by the
/// database server's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub token: String,
    pub identity: ProcessIdentity,
    pub command: String,
    pub started_millis: i64,
    /// Since its last heartbeat.
    pub silent_millis: i64,
    /// Its takeover age; absent on an earlier version's lock.
    pub stale_after_millis: Option<i64>,
}

impl Holder {
    fn from_row(row: &Row) -> Option<Holder> {
        Some(Holder {
            token: row.str("token")?,
            identity: ProcessIdentity {
                host: row.str("host").unwrap_or_default(),
                boot_id: row.str("bootId"),
                pid_namespace: row.str("pidNamespace"),
                pid: row.int("pid").unwrap_or(0),
                process_start: row.int("processStart"),
            },
            command: row.str("command").unwrap_or_default(),
            started_millis: row.int("started").unwrap_or(0),
            silent_millis: row.int("silent").unwrap_or(0),
            stale_after_millis: row.int("staleAfter"),
        })
    }

    /// `host pid N (command)`, for messages: the recorded text escaped, as
    /// it came from another process.
    pub fn describe(&self) -> String {
        crate::text::terminal_safe(&format!(
            "{} pid {} ({})",
            self.identity.host, self.identity.pid, self.command
        ))
        .into_owned()
    }

    /// When it took the lock, as UTC text.
    pub fn since(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.started_millis)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "an unknown time".to_string())
    }

    fn stale_after(&self) -> Duration {
        self.stale_after_millis
            .and_then(|ms| u64::try_from(ms).ok())
            .map_or(DEFAULT_STALE_AFTER, Duration::from_millis)
    }

    /// The refusal of a run that finds this holder's lock.
    pub fn refusal(&self) -> SinkError {
        SinkError::Locked {
            holder: self.describe(),
            since: self.since(),
            silent_seconds: self.silent_millis.max(0) / 1000,
            stale_seconds: self.stale_after().as_secs(),
        }
    }

    /// Why a new run may take the lock from this holder, if it may, and
    /// whether that needs no check of the heartbeat's age.
    fn stale_because(&self, claimant: &Claimant) -> Option<(String, bool)> {
        if claimant.break_lock {
            return Some(("--break-lock".to_string(), true));
        }
        if self.identity.provably_gone(&claimant.identity) {
            return Some((
                format!("process {} on this host is gone", self.identity.pid),
                true,
            ));
        }
        let silent = Duration::from_millis(self.silent_millis.max(0) as u64);
        (silent > self.stale_after()).then(|| {
            (
                format!(
                    "no heartbeat for {} s (more than {} s, by the database server's clock)",
                    silent.as_secs(),
                    self.stale_after().as_secs()
                ),
                false,
            )
        })
    }
}

/// The lock held by this run: refreshed until released. Dropping it stops
/// the heartbeat; [`release`](Self::release) also gives the lock back.
pub struct HeldLock {
    sink: Neo4jSink,
    token: String,
    heartbeat: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

impl HeldLock {
    /// Whether another run took the lock over (this one's heartbeat found
    /// it gone).
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Gives the lock back, if it is still this run's, and lifts the write
    /// guard.
    pub async fn release(self) {
        self.heartbeat.abort();
        let bolt = self.sink.bolt().await;
        bolt.set_guard(None);
        let statement =
            Statement::new("releasing the load lock", RELEASE).param("token", params::string(&self.token));
        if let Err(error) = bolt.read(statement).await {
            tracing::warn!(
                error = %super::failure::describe(&error),
                "Could not release the load lock; the next run takes it over once its heartbeat is old"
            );
        }
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// A token no other run shares: time, process and random bits.
fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&now_millis().to_le_bytes());
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(&bytes);
    format!("{:032x}", hasher.digest128())
}

/// Milliseconds since the epoch by this machine's clock.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
}

/// This machine's name, as other runs will see it in the lock.
fn host_name() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// When process `pid` started, in clock ticks since boot: field 22 of
/// `/proc/PID/stat`, counted after the command name (which may hold spaces
/// and parentheses). `None` when no such process runs here.
fn process_start(pid: i64) -> Option<i64> {
    if pid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name; field 22 is 19 later.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

impl Neo4jSink {
    /// The terms of this run's holds: from `neo4j.max_retry_seconds` and
    /// `neo4j.query_timeout_seconds`.
    pub fn lease_terms(&self) -> LeaseTerms {
        LeaseTerms::new(self.policy.max_total, self.connect.query_timeout)
    }

    /// Takes the load lock for `claimant`, or says who holds it
    /// ([`SinkError::Locked`]). A stale holder's lock is taken over with a
    /// warning. Nothing else is written. From here until it is released,
    /// every write of this sink is guarded by the lock.
    pub async fn acquire_lock(&self, claimant: &Claimant) -> Result<HeldLock, SinkError> {
        self.retrying("creating the load lock's constraint", |bolt| async move {
            bolt.write_schema(vec![Statement::new("schema", CONSTRAINT)])
                .await
        })
        .await?;
        let token = new_token();
        let terms = self.lease_terms();
        let identity = &claimant.identity;
        let mine = |statement: &str| {
            let optional_int = |v: Option<i64>| v.map_or(bolt::Param::Null, params::int);
            let optional_str = |v: &Option<String>| v.as_deref().map_or(bolt::Param::Null, params::string);
            Statement::new("taking the load lock", statement)
                .param("token", params::string(&token))
                .param("host", params::string(&identity.host))
                .param("bootId", optional_str(&identity.boot_id))
                .param("pidNamespace", optional_str(&identity.pid_namespace))
                .param("pid", params::int(identity.pid))
                .param("processStart", optional_int(identity.process_start))
                .param("command", params::string(&claimant.command))
                .param("staleAfter", params::int(terms.stale_after.as_millis() as i64))
        };
        // Confirmed from the moment the claim was sent.
        let sent = Instant::now();
        let holder = match self.bolt().await.read(mine(TAKE)).await {
            Ok(rows) => rows.first().and_then(Holder::from_row),
            // Two runs racing: the one whose MERGE lost reads the winner.
            Err(_) => None,
        };
        let holder = match holder {
            Some(holder) => holder,
            None => self.lock_holder().await?.ok_or_else(|| SinkError::Query {
                what: "taking the load lock".to_string(),
                source: bolt::BoltError::Config("the lock node is neither taken nor held".to_string()),
            })?,
        };
        if holder.token != token {
            let Some((reason, unconditional)) = holder.stale_because(claimant) else {
                return Err(holder.refusal());
            };
            let taken = self
                .bolt()
                .await
                .read(
                    mine(TAKE_OVER)
                        .param("old", params::string(&holder.token))
                        .param("unconditional", bolt::Param::Boolean(unconditional))
                        .param(
                            "defaultStaleAfter",
                            params::int(DEFAULT_STALE_AFTER.as_millis() as i64),
                        ),
                )
                .await
                .map_err(|source| SinkError::Query {
                    what: "taking over the load lock".to_string(),
                    source,
                })?;
            if taken.first().and_then(|r| r.int("n")).unwrap_or(0) != 1 {
                // Another run took it over first, or it beat again.
                return Err(self.lock_holder().await?.unwrap_or(holder).refusal());
            }
            tracing::warn!(
                holder = %holder.describe(),
                since = %holder.since(),
                reason = %reason,
                "Took over the load lock of a run that is gone"
            );
        }
        Ok(self.hold(token, terms, sent).await)
    }

    /// The lock's holder, if any.
    pub async fn lock_holder(&self) -> Result<Option<Holder>, SinkError> {
        Ok(self
            .read(READ, Vec::new())
            .await?
            .first()
            .and_then(Holder::from_row))
    }

    /// Guards every write with the lock `token` and starts its heartbeat.
    async fn hold(&self, token: String, terms: LeaseTerms, confirmed: Instant) -> HeldLock {
        let guard = bolt::WriteGuard {
            check: Statement::new("checking the load lock", STILL_HELD)
                .param("token", params::string(&token)),
            // ArcadeDB answers two writes of one node with a conflict, not
            // a wait: there its writers would retry each other's fences.
            fence: self.server().is_neo4j().then(|| {
                Statement::new("fencing the write with the load lock", FENCE)
                    .param("token", params::string(&token))
            }),
            deadline: confirmed + terms.hold_for,
            expired: format!(
                "its heartbeat went unconfirmed for more than {} s, so another run may have taken the lock over",
                terms.hold_for.as_secs()
            ),
            refused: "another run took the lock over or broke it".to_string(),
        };
        self.bolt().await.set_guard(Some(guard.clone()));
        let lost = Arc::new(AtomicBool::new(false));
        let heartbeat = {
            let (sink, token, lost) = (self.clone(), token.clone(), lost.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    let sent = Instant::now();
                    let beat =
                        Statement::new("load lock heartbeat", BEAT).param("token", params::string(&token));
                    let bolt = sink.bolt().await;
                    match bolt.read(beat).await {
                        Ok(rows) if rows.first().and_then(|r| r.int("n")).unwrap_or(0) == 0 => {
                            tracing::error!(
                                "The load lock was taken over by another run: this run writes nothing more"
                            );
                            lost.store(true, Ordering::SeqCst);
                            bolt.set_guard(Some(bolt::WriteGuard {
                                deadline: sent,
                                expired: guard.refused.clone(),
                                ..guard.clone()
                            }));
                            return;
                        }
                        Ok(_) => bolt.extend_guard(sent + terms.hold_for),
                        // A database outage: the load's own retries deal
                        // with it; the next beat tries again, and the guard
                        // stops the writes if none gets through in time.
                        Err(error) => {
                            tracing::debug!(error = %super::failure::describe(&error), "Heartbeat failed")
                        }
                    }
                }
            })
        };
        HeldLock {
            sink: self.clone(),
            token,
            heartbeat,
            lost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(identity: ProcessIdentity, silent_millis: i64, stale_after_millis: Option<i64>) -> Holder {
        Holder {
            token: "t".into(),
            identity,
            command: "load x.csv".into(),
            started_millis: 0,
            silent_millis,
            stale_after_millis,
        }
    }

    fn claimant(break_lock: bool) -> Claimant {
        Claimant::this_process("load y.csv", break_lock)
    }

    #[test]
    fn this_process_is_known_to_the_kernel_by_its_start_time() {
        let me = ProcessIdentity::this_process();
        assert!(me.boot_id.is_some() && me.pid_namespace.is_some(), "{me:?}");
        assert!(me.process_start.is_some_and(|t| t > 0), "{me:?}");
        assert!(!me.provably_gone(&me), "a live process is not gone");
    }

    #[test]
    fn a_holder_is_gone_only_when_its_own_namespace_proves_it() {
        let me = ProcessIdentity::this_process();
        let free_pid = ProcessIdentity {
            pid: i64::from(i32::MAX),
            ..me.clone()
        };
        assert!(free_pid.provably_gone(&me), "a free pid of this namespace");
        let reused = ProcessIdentity {
            process_start: me.process_start.map(|t| t + 1),
            ..me.clone()
        };
        assert!(
            reused.provably_gone(&me),
            "the pid now names a process started at another time"
        );
        // The same host name, another pid namespace (a container with the
        // host's network) or another boot: proves nothing.
        for foreign in [
            ProcessIdentity {
                pid_namespace: Some("pid:[1]".into()),
                ..free_pid.clone()
            },
            ProcessIdentity {
                boot_id: Some("another-boot".into()),
                ..free_pid.clone()
            },
            ProcessIdentity {
                pid_namespace: None,
                ..free_pid.clone()
            },
            ProcessIdentity {
                process_start: None,
                ..free_pid.clone()
            },
            ProcessIdentity {
                host: "elsewhere".into(),
                ..free_pid.clone()
            },
        ] {
            assert!(!foreign.provably_gone(&me), "{foreign:?}");
        }
    }

    #[test]
    fn a_live_holder_keeps_the_lock_and_a_gone_or_silent_one_loses_it() {
        let me = claimant(false);
        let fresh = 5_000;
        let alive = holder(me.identity.clone(), fresh, Some(480_000));
        assert_eq!(alive.stale_because(&me), None);
        let elsewhere = ProcessIdentity {
            host: "elsewhere".into(),
            ..ProcessIdentity::default()
        };
        assert_eq!(holder(elsewhere.clone(), fresh, None).stale_because(&me), None);
        // Silent past its own takeover age, by the server's clock.
        let silent = holder(elsewhere.clone(), 481_000, Some(480_000));
        assert!(
            silent
                .stale_because(&me)
                .is_some_and(|(r, unconditional)| r.contains("no heartbeat") && !unconditional)
        );
        assert_eq!(
            holder(elsewhere.clone(), 479_000, Some(480_000)).stale_because(&me),
            None
        );
        // An earlier version's lock: the default age.
        assert!(holder(elsewhere, 301_000, None).stale_because(&me).is_some());
        let gone = holder(
            ProcessIdentity {
                pid: i64::from(i32::MAX),
                ..me.identity.clone()
            },
            fresh,
            None,
        );
        assert!(
            gone.stale_because(&me)
                .is_some_and(|(r, unconditional)| r.contains("gone") && unconditional)
        );
        assert!(alive.stale_because(&claimant(true)).is_some());
    }

    #[test]
    fn the_takeover_age_outlasts_the_hold_and_the_longest_transaction() {
        for (retry, query) in [(120, 300), (0, 1), (3_600, 86_400), (3, 7)] {
            let terms = LeaseTerms::new(Duration::from_secs(retry), Duration::from_secs(query));
            assert!(terms.hold_for >= Duration::from_secs(retry), "{terms:?}");
            assert!(
                terms.stale_after > terms.hold_for + Duration::from_secs(query),
                "{terms:?}"
            );
            assert!(terms.stale_after >= DEFAULT_STALE_AFTER);
        }
    }

    #[test]
    fn a_recorded_command_with_escape_sequences_reaches_no_terminal_raw() {
        let mut planted = holder(ProcessIdentity::default(), 0, None);
        planted.command = "load \u{1b}]0;owned\u{7}x.csv".into();
        planted.identity.host = "host\u{1b}[2J".into();
        let text = planted.refusal().to_string();
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    }
}
