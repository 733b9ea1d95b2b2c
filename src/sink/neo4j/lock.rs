//! One writer at a time: the load lock, held in the graph itself, so that
//! every learngraph process on any machine sees it.
//!
//! The lock is one `(:LoadLock {name: 'load'})` node under a unique
//! constraint: taking it is one `MERGE`, which exactly one of two racing
//! runs creates. The node names its holder (host, process id, command, a
//! random token), when it was taken, and a heartbeat the holder refreshes
//! every [`HEARTBEAT`] while it runs. A second run is refused at once,
//! naming the holder and since when.
//!
//! A lock left by a killed process is taken over, with a warning, when its
//! heartbeat is older than [`STALE_AFTER`], or at once when its holder ran
//! on this host and that process is gone (`kill -9` then `load --resume`
//! needs no flag). `--break-lock` takes it whatever it says. Times are the
//! holders' clocks in milliseconds since the epoch; the bound is far
//! longer than any heartbeat gap, so clocks a few seconds apart do not
//! matter.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::bolt::{Row, Statement};
use super::{Neo4jSink, SinkError, params};

/// How often the holder refreshes its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// A heartbeat older than this is a dead holder's: longer than the
/// longest database outage a run waits out (`neo4j.max_retry_seconds`,
/// 120 s by default) with room to spare.
pub const STALE_AFTER: Duration = Duration::from_secs(300);

pub const CONSTRAINT: &str =
    "CREATE CONSTRAINT learngraph_loadlock_name IF NOT EXISTS FOR (l:LoadLock) REQUIRE l.name IS UNIQUE";

/// Takes the lock if nobody holds it, and returns the holder either way.
pub const TAKE: &str = "MERGE (l:LoadLock {name: 'load'}) \
     ON CREATE SET l.token = $token, l.host = $host, l.pid = $pid, l.command = $command, \
     l.startedMillis = $now, l.heartbeatMillis = $now \
     RETURN l.token AS token, l.host AS host, l.pid AS pid, l.command AS command, \
     l.startedMillis AS started, l.heartbeatMillis AS heartbeat";

/// Takes over the lock from the holder named by its token (a stale one).
pub const TAKE_OVER: &str = "MATCH (l:LoadLock {name: 'load'}) WHERE l.token = $old \
     SET l.token = $token, l.host = $host, l.pid = $pid, l.command = $command, \
     l.startedMillis = $now, l.heartbeatMillis = $now RETURN count(l) AS n";

/// The holder's heartbeat; no row when the lock is no longer its own.
pub const BEAT: &str = "MATCH (l:LoadLock {name: 'load'}) WHERE l.token = $token \
     SET l.heartbeatMillis = $now RETURN count(l) AS n";

/// The lock's holder, if any.
pub const READ: &str = "MATCH (l:LoadLock {name: 'load'}) RETURN l.token AS token, l.host AS host, l.pid AS pid, \
     l.command AS command, l.startedMillis AS started, l.heartbeatMillis AS heartbeat";

/// Gives the lock back (only the holder's own).
pub const RELEASE: &str =
    "MATCH (l:LoadLock {name: 'load'}) WHERE l.token = $token DELETE l RETURN count(*) AS n";

/// Who asks for the lock.
#[derive(Clone, Debug)]
pub struct Claimant {
    pub host: String,
    pub pid: u32,
    /// What runs (`load FILE`, `clear --all`), for the refusal message.
    pub command: String,
    /// Take the lock whatever its holder says (`--break-lock`).
    pub break_lock: bool,
}

impl Claimant {
    /// This process, running `command`.
    pub fn this_process(command: &str, break_lock: bool) -> Self {
        Claimant {
            host: host_name(),
            pid: std::process::id(),
            command: command.to_string(),
            break_lock,
        }
    }
}

/// The run that holds the lock, as the graph records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub token: String,
    pub host: String,
    pub pid: i64,
    pub command: String,
    pub started_millis: i64,
    pub heartbeat_millis: i64,
}

impl Holder {
    fn from_row(row: &Row) -> Option<Holder> {
        Some(Holder {
            token: row.str("token")?,
            host: row.str("host").unwrap_or_default(),
            pid: row.int("pid").unwrap_or(0),
            command: row.str("command").unwrap_or_default(),
            started_millis: row.int("started").unwrap_or(0),
            heartbeat_millis: row.int("heartbeat").unwrap_or(0),
        })
    }

    /// `host pid N (command)`, for messages.
    pub fn describe(&self) -> String {
        format!("{} pid {} ({})", self.host, self.pid, self.command)
    }

    /// When it took the lock, as UTC text.
    pub fn since(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.started_millis)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "an unknown time".to_string())
    }

    /// The refusal of a run that finds this holder's lock.
    pub fn refusal(&self) -> SinkError {
        SinkError::Locked {
            holder: self.describe(),
            since: self.since(),
            silent_seconds: self.silent_seconds(now_millis()),
        }
    }

    /// Seconds since its last heartbeat, by this machine's clock.
    pub fn silent_seconds(&self, now_millis: i64) -> i64 {
        (now_millis - self.heartbeat_millis).max(0) / 1000
    }

    /// Why a new run may take the lock from this holder, if it may.
    fn stale_because(&self, claimant: &Claimant, now_millis: i64) -> Option<String> {
        if claimant.break_lock {
            return Some("--break-lock".to_string());
        }
        if self.host == claimant.host && !process_alive(self.pid) {
            return Some(format!("process {} on this host is gone", self.pid));
        }
        let silent = self.silent_seconds(now_millis);
        (silent > STALE_AFTER.as_secs() as i64).then(|| {
            format!(
                "no heartbeat for {silent} s (more than {} s)",
                STALE_AFTER.as_secs()
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

    /// Gives the lock back, if it is still this run's.
    pub async fn release(self) {
        self.heartbeat.abort();
        let statement =
            Statement::new("releasing the load lock", RELEASE).param("token", params::string(&self.token));
        if let Err(error) = self.sink.bolt().await.read(statement).await {
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

/// Milliseconds since the epoch, as the lock and the run records keep time.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// This machine's name, as other runs will see it in the lock.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// Whether process `pid` of this host still runs. Where that cannot be
/// told (no /proc), it is taken to run: only the heartbeat bound frees
/// its lock then.
fn process_alive(pid: i64) -> bool {
    if !std::path::Path::new("/proc/self").exists() {
        return true;
    }
    pid > 0 && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

impl Neo4jSink {
    /// Takes the load lock for `claimant`, or says who holds it
    /// ([`SinkError::Locked`]). A stale holder's lock is taken over with a
    /// warning. Nothing else is written.
    pub async fn acquire_lock(&self, claimant: &Claimant) -> Result<HeldLock, SinkError> {
        self.retrying("creating the load lock's constraint", |bolt| async move {
            bolt.write(vec![Statement::new("schema", CONSTRAINT)]).await
        })
        .await?;
        let token = new_token();
        let mine = |statement: &str, now: i64| {
            vec![
                ("token", params::string(&token)),
                ("host", params::string(&claimant.host)),
                ("pid", params::int(i64::from(claimant.pid))),
                ("command", params::string(&claimant.command)),
                ("now", params::int(now)),
            ]
            .into_iter()
            .fold(Statement::new("taking the load lock", statement), |s, (k, v)| {
                s.param(k, v)
            })
        };
        let now = now_millis();
        let holder = match self.bolt().await.read(mine(TAKE, now)).await {
            Ok(rows) => rows.first().and_then(Holder::from_row),
            // Two runs racing: the one whose MERGE lost reads the winner.
            Err(_) => None,
        };
        let holder = match holder {
            Some(holder) => holder,
            None => self.lock_holder().await?.ok_or_else(|| SinkError::Query {
                what: "taking the load lock".to_string(),
                source: super::bolt::BoltError::Config("the lock node is neither taken nor held".to_string()),
            })?,
        };
        if holder.token != token {
            let Some(reason) = holder.stale_because(claimant, now) else {
                return Err(holder.refusal());
            };
            let taken = self
                .bolt()
                .await
                .read(mine(TAKE_OVER, now).param("old", params::string(&holder.token)))
                .await
                .map_err(|source| SinkError::Query {
                    what: "taking over the load lock".to_string(),
                    source,
                })?;
            if taken.first().and_then(|r| r.int("n")).unwrap_or(0) != 1 {
                // Another run took it over first.
                return Err(self.lock_holder().await?.unwrap_or(holder).refusal());
            }
            tracing::warn!(
                holder = %holder.describe(),
                since = %holder.since(),
                reason = %reason,
                "Took over the load lock of a run that is gone"
            );
        }
        Ok(self.hold(token))
    }

    /// The lock's holder, if any.
    pub async fn lock_holder(&self) -> Result<Option<Holder>, SinkError> {
        Ok(self
            .read(READ, Vec::new())
            .await?
            .first()
            .and_then(Holder::from_row))
    }

    /// Starts the heartbeat of the lock `token`.
    fn hold(&self, token: String) -> HeldLock {
        let lost = Arc::new(AtomicBool::new(false));
        let heartbeat = {
            let (sink, token, lost) = (self.clone(), token.clone(), lost.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    let beat = Statement::new("load lock heartbeat", BEAT)
                        .param("token", params::string(&token))
                        .param("now", params::int(now_millis()));
                    match sink.bolt().await.read(beat).await {
                        Ok(rows) if rows.first().and_then(|r| r.int("n")).unwrap_or(0) == 0 => {
                            tracing::error!(
                                "The load lock was taken over by another run (its holder's heartbeat seemed old): \
                                 two runs may now write at once; stop one of them"
                            );
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        Ok(_) => {}
                        // A database outage: the load's own retries deal
                        // with it; the next beat tries again.
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

    fn holder(host: &str, pid: i64, heartbeat_millis: i64) -> Holder {
        Holder {
            token: "t".into(),
            host: host.into(),
            pid,
            command: "load x.csv".into(),
            started_millis: 0,
            heartbeat_millis,
        }
    }

    #[test]
    fn a_live_holder_keeps_the_lock_and_a_gone_or_silent_one_loses_it() {
        let me = Claimant::this_process("load y.csv", false);
        let now = 1_000_000_000;
        let fresh = now - 5_000;
        // This very process is alive.
        let alive = holder(&me.host, i64::from(me.pid), fresh);
        assert_eq!(alive.stale_because(&me, now), None);
        // Another host, heartbeat fresh: held, whatever its pid.
        assert_eq!(holder("elsewhere", 1, fresh).stale_because(&me, now), None);
        // Another host, heartbeat older than the bound: stale.
        let silent = holder("elsewhere", 1, now - STALE_AFTER.as_millis() as i64 - 1_000);
        assert!(
            silent
                .stale_because(&me, now)
                .is_some_and(|r| r.contains("no heartbeat"))
        );
        // This host, a process that is gone: stale at once.
        let gone = holder(&me.host, i64::from(u32::MAX), fresh);
        assert!(gone.stale_because(&me, now).is_some_and(|r| r.contains("gone")));
        // --break-lock takes any lock.
        let breaker = Claimant::this_process("load y.csv", true);
        assert!(alive.stale_because(&breaker, now).is_some());
    }
}
