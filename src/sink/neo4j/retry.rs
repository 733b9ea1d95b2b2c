//! Retries for transient database errors only: deadlocks and other
//! `Neo.TransientError`s, lost connections, and leader switches. Every
//! other error fails at once. Waits grow exponentially with full jitter and
//! stop after a bounded total time.

use std::future::Future;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use neo4j::Neo4jError;
use rand::Rng;

use super::bolt::BoltError;

/// How long and how often to retry.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub first_wait: Duration,
    pub max_wait: Duration,
    /// Give up once this much time has passed since the first failure.
    pub max_total: Duration,
}

impl RetryPolicy {
    pub fn new(max_total: Duration) -> Self {
        RetryPolicy {
            first_wait: Duration::from_millis(200),
            max_wait: Duration::from_secs(10),
            max_total,
        }
    }
}

/// The transient errors a retry can cure, by name.
pub fn is_retriable(error: &BoltError) -> bool {
    let Some(driver) = error.driver() else {
        // A call past its deadline, or whose thread ended without an
        // answer, is a lost connection; a bad setting is not.
        return matches!(
            error,
            BoltError::TimedOut(_) | BoltError::ConnectTimedOut(_) | BoltError::Abandoned
        );
    };
    match driver {
        Neo4jError::ServerError { error: e, .. } => {
            let code = e.code();
            // A batch over the memory limit fails again as it is: it is
            // split instead (see `is_memory_limit`).
            code.starts_with("Neo.TransientError.") && !MEMORY_LIMIT_CODES.contains(&code)
                || code == "Neo.ClientError.Cluster.NotALeader"
                || code == "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
                || code == "Neo.DatabaseError.General.UnknownError" && is_concurrent_modification(e.message())
                || is_stale_session(e.message())
        }
        // A commit whose answer was lost is retried too: every write of the
        // loader is safe to repeat (phase 1 merges, a phase-2 retry first
        // reads which learners exist).
        Neo4jError::Disconnect { .. } | Neo4jError::Timeout { .. } => true,
        // A reply that does not fit its request ("SUCCESS after RUN did not
        // contain 'fields'"): seen once where a load held still (a paused
        // container, a suspended machine) met a server restarted meanwhile.
        // The transaction is lost with its connection, as with a disconnect,
        // and the work is safe to repeat.
        Neo4jError::ProtocolError { .. } => true,
        _ => false,
    }
}

/// Neo4j's refusals of a transaction for its memory: over the limit of one
/// transaction (`db.memory.transaction.max`), or over the pool all
/// transactions share (`db.memory.transaction.total.max`).
const MEMORY_LIMIT_CODES: [&str; 2] = [
    "Neo.ClientError.General.TransactionOutOfMemoryError",
    "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
];

/// Whether the server refused the transaction for its memory: the same
/// work in smaller transactions may pass.
pub fn is_memory_limit(error: &BoltError) -> bool {
    error
        .server_code()
        .is_some_and(|code| MEMORY_LIMIT_CODES.contains(&code))
}

/// A server that restarted no longer knows the sessions of old connections
/// and says so on their next use.
fn is_stale_session(text: &str) -> bool {
    text.contains("credentials of this connection are no longer valid")
}

/// Whether the error means the connection itself is gone, so that the next
/// attempt needs fresh connections.
pub fn needs_new_connection(error: &BoltError) -> bool {
    error.needs_new_connection() || error.server_message().is_some_and(is_stale_session)
}

/// ArcadeDB (the local test server) reports a write conflict between two
/// transactions this way; like a deadlock, it is safe to retry.
fn is_concurrent_modification(message: &str) -> bool {
    message.contains("ConcurrentModification") || message.contains("concurrent modification")
}

/// Runs `attempt` until it succeeds, fails with an error that is not
/// retriable, or the policy's time is up (wall time since the first
/// failure, so that attempts that hang until their deadline count too).
/// `on_retry` hears every retry. The schedule is `backon`'s exponential
/// backoff with full jitter: each wait is drawn from zero to the current
/// step, which doubles from `first_wait` up to `max_wait`.
pub async fn with_retry<T, F, Fut>(
    policy: RetryPolicy,
    attempt: F,
    on_retry: impl FnMut(&BoltError, Duration),
) -> Result<T, BoltError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BoltError>>,
{
    let schedule = ExponentialBuilder::new()
        .with_min_delay(policy.first_wait)
        .with_max_delay(policy.max_wait)
        .without_max_times();
    // When the first failure was: the bound counts the waits too, so that
    // none ends past it.
    let first_failure: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    let time_left = || {
        let mut first = first_failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        policy
            .max_total
            .saturating_sub(first.get_or_insert_with(Instant::now).elapsed())
    };
    attempt
        .retry(schedule)
        .sleep(tokio::time::sleep)
        .when(|error| is_retriable(error) && !time_left().is_zero())
        .adjust(|_, step| step.map(|step| full_jitter(step).min(time_left())))
        .notify(on_retry)
        .await
}

/// A wait drawn uniformly from zero to `step`: retries of many writers that
/// failed together spread out instead of meeting again.
fn full_jitter(step: Duration) -> Duration {
    Duration::from_millis(rand::thread_rng().gen_range(0..=step.as_millis() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The driver's own errors cannot be built outside it; a call past its
    // deadline is the lost connection this module can build.
    fn lost() -> BoltError {
        BoltError::TimedOut(Duration::from_millis(1))
    }

    #[test]
    fn lost_connections_and_deadlines_are_retriable_and_bad_settings_are_not() {
        assert!(is_retriable(&lost()));
        assert!(needs_new_connection(&lost()));
        assert!(is_retriable(&BoltError::Abandoned));
        assert!(!is_retriable(&BoltError::Config("bad uri".into())));
        assert!(!needs_new_connection(&BoltError::Config("bad uri".into())));
    }

    #[tokio::test]
    async fn retries_stop_at_the_first_permanent_error() {
        let mut calls = 0;
        let policy = RetryPolicy {
            first_wait: Duration::from_millis(1),
            max_wait: Duration::from_millis(2),
            max_total: Duration::from_secs(5),
        };
        let mut retries = 0;
        let result: Result<(), _> = with_retry(
            policy,
            || {
                calls += 1;
                let error = if calls < 3 {
                    lost()
                } else {
                    BoltError::Config("bad".into())
                };
                async move { Err(error) }
            },
            |_, _| retries += 1,
        )
        .await;
        assert!(matches!(result, Err(BoltError::Config(_))));
        assert_eq!(calls, 3);
        assert_eq!(retries, 2);
    }

    #[tokio::test]
    async fn retries_give_up_after_the_time_bound() {
        let policy = RetryPolicy {
            first_wait: Duration::from_millis(5),
            max_wait: Duration::from_millis(10),
            max_total: Duration::from_millis(60),
        };
        let started = Instant::now();
        let result: Result<(), _> = with_retry(policy, || async { Err(lost()) }, |_, _| {}).await;
        assert!(result.is_err());
        assert!(started.elapsed() >= Duration::from_millis(60));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn the_time_bound_holds_the_waits_too() {
        // Steps of 10 s against a bound of 300 ms: no wait may run past it.
        let policy = RetryPolicy {
            first_wait: Duration::from_secs(10),
            max_wait: Duration::from_secs(10),
            max_total: Duration::from_millis(300),
        };
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let result: Result<(), _> =
            with_retry(policy, || async { Err(lost()) }, |_, wait| waited += wait).await;
        assert!(result.is_err());
        assert!(waited <= Duration::from_millis(300), "waited {waited:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn each_wait_is_at_most_its_doubling_step_and_the_cap() {
        let policy = RetryPolicy {
            first_wait: Duration::from_millis(2),
            max_wait: Duration::from_millis(8),
            max_total: Duration::from_secs(5),
        };
        let mut calls = 0;
        let mut waits = Vec::new();
        let result: Result<u32, _> = with_retry(
            policy,
            || {
                calls += 1;
                let outcome = if calls < 7 { Err(lost()) } else { Ok(calls) };
                async move { outcome }
            },
            |_, wait| waits.push(wait),
        )
        .await;
        assert_eq!(result.unwrap(), 7);
        let steps = [2u64, 4, 8, 8, 8, 8].map(Duration::from_millis);
        assert_eq!(waits.len(), steps.len());
        for (wait, step) in waits.iter().zip(steps) {
            assert!(*wait <= step, "{wait:?} above its step {step:?}");
        }
    }
}
