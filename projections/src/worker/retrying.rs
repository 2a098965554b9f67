//! Events that failed for a reason that may pass and are being tried again:
//! `projection_retrying` (one row per held-back aggregate, so every process's
//! `/admin/status` sees them) and the backoff between tries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

type Key = (String, String);

pub use domain::backoff::doubling as backoff;

/// Records one more failed try of aggregate `key`'s event `sequence`, unless another
/// instance applied it meanwhile.
pub async fn record_failure(
    pool: &PgPool,
    projection: &str,
    key: &Key,
    sequence: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_retrying \
             (projection, aggregate_type, aggregate_id, sequence, attempts, error) \
         SELECT $1, $2, $3, $4, 1, $5 \
         WHERE NOT EXISTS (SELECT 1 FROM projection_checkpoints c WHERE c.projection = $1 \
                           AND c.aggregate_type = $2 AND c.aggregate_id = $3 AND c.sequence >= $4) \
         ON CONFLICT (projection, aggregate_type, aggregate_id) DO UPDATE SET \
             sequence = LEAST(projection_retrying.sequence, EXCLUDED.sequence), \
             attempts = projection_retrying.attempts + 1, \
             error = EXCLUDED.error, last_failed_at = now()",
    )
    .bind(projection)
    .bind(&key.0)
    .bind(&key.1)
    .bind(sequence)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets the failures of those of `keys` whose held-back event a checkpoint now
/// covers (applied inline, or by another instance, while this one waited): what a
/// batch of repeats, which applies nothing, still owes the admin status.
pub async fn clear_covered(
    connection: &mut PgConnection,
    projection: &str,
    keys: &[&Key],
) -> Result<(), sqlx::Error> {
    let types: Vec<&str> = keys.iter().map(|(t, _)| t.as_str()).collect();
    let ids: Vec<&str> = keys.iter().map(|(_, i)| i.as_str()).collect();
    sqlx::query(
        "DELETE FROM projection_retrying r USING UNNEST($2::text[], $3::text[]) AS k(t, i), \
              projection_checkpoints c \
         WHERE r.projection = $1 AND r.aggregate_type = k.t AND r.aggregate_id = k.i \
           AND c.projection = $1 AND c.aggregate_type = k.t AND c.aggregate_id = k.i \
           AND c.sequence >= r.sequence",
    )
    .bind(projection)
    .bind(&types)
    .bind(&ids)
    .execute(connection)
    .await?;
    Ok(())
}

/// Forgets the failures of aggregates whose events just applied (or were parked), in
/// the transaction that applied them.
pub async fn clear(
    connection: &mut PgConnection,
    projection: &str,
    keys: &[&Key],
) -> Result<(), sqlx::Error> {
    let types: Vec<&str> = keys.iter().map(|(t, _)| t.as_str()).collect();
    let ids: Vec<&str> = keys.iter().map(|(_, i)| i.as_str()).collect();
    sqlx::query(
        "DELETE FROM projection_retrying r USING UNNEST($2::text[], $3::text[]) AS k(t, i) \
         WHERE r.projection = $1 AND r.aggregate_type = k.t AND r.aggregate_id = k.i",
    )
    .bind(projection)
    .bind(&types)
    .bind(&ids)
    .execute(connection)
    .await?;
    Ok(())
}

/// The held-back aggregates of a projection, for status reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retrying {
    /// Aggregates whose next event keeps failing for a reason that may pass.
    pub aggregates: i64,
    /// When the oldest of them first failed.
    pub since: Option<DateTime<Utc>>,
    /// The latest error of the oldest one.
    pub last_error: Option<String>,
}

pub async fn retrying(pool: &PgPool, projection: &str) -> Result<Retrying, sqlx::Error> {
    let (aggregates, since, last_error): (i64, Option<DateTime<Utc>>, Option<String>) =
        sqlx::query_as(
            "SELECT count(*), min(first_failed_at), \
                    (SELECT error FROM projection_retrying WHERE projection = $1 \
                     ORDER BY first_failed_at LIMIT 1) \
             FROM projection_retrying WHERE projection = $1",
        )
        .bind(projection)
        .fetch_one(pool)
        .await?;
    Ok(Retrying {
        aggregates,
        since,
        last_error,
    })
}

/// What this process knows of its own held-back aggregates: for the metrics and a
/// warning a minute while any are held back.
#[derive(Debug, Default)]
pub struct HeldBack {
    state: Mutex<HeldBackState>,
}

#[derive(Debug, Default)]
struct HeldBackState {
    /// When each held-back aggregate first and last failed here.
    since: HashMap<Key, (Instant, Instant)>,
    last_warning: Option<Instant>,
}

/// An aggregate not seen failing here for this long was applied by another instance.
const FORGOTTEN_AFTER: Duration = Duration::from_secs(120);

/// How often a projection with held-back aggregates says so in the log.
const WARN_EVERY: Duration = Duration::from_secs(60);

impl HeldBack {
    /// Notes a failure of `key`; returns the number held back and, once a minute,
    /// how long the oldest has been (the caller logs it).
    pub fn failed(&self, key: &Key) -> (usize, Option<Duration>) {
        let Ok(mut state) = self.state.lock() else {
            return (0, None);
        };
        let now = Instant::now();
        state
            .since
            .retain(|_, (_, last)| now.duration_since(*last) < FORGOTTEN_AFTER);
        state.since.entry(key.clone()).or_insert((now, now)).1 = now;
        let due = state
            .last_warning
            .is_none_or(|warned| now.duration_since(warned) >= WARN_EVERY);
        let oldest = state
            .since
            .values()
            .map(|(first, _)| *first)
            .min()
            .map(|at| now.duration_since(at));
        if due {
            state.last_warning = Some(now);
        }
        (state.since.len(), if due { oldest } else { None })
    }

    /// True while any aggregate is held back in this process.
    pub fn any(&self) -> bool {
        self.state.lock().is_ok_and(|state| !state.since.is_empty())
    }

    /// Forgets `keys` (their events applied); returns how many are still held back.
    pub fn applied<'a>(&self, keys: impl IntoIterator<Item = &'a Key>) -> usize {
        let Ok(mut state) = self.state.lock() else {
            return 0;
        };
        if !state.since.is_empty() {
            for key in keys {
                state.since.remove(key);
            }
            if state.since.is_empty() {
                state.last_warning = None;
            }
        }
        state.since.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_is_due_once_a_minute_while_anything_is_held_back() {
        let held = HeldBack::default();
        let key = ("Payment".to_owned(), "p1".to_owned());
        let (count, warn) = held.failed(&key);
        assert_eq!(count, 1);
        assert!(warn.is_some());
        assert_eq!(held.failed(&key), (1, None));
        assert_eq!(held.applied([&key]), 0);
        assert!(held.failed(&key).1.is_some(), "a new episode warns again");
    }
}
