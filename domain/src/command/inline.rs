//! Read models kept in the command's own transaction ("inline", as Marten calls it).
//!
//! The read models a command's answer is read from (a balance after a spend, a ticket's
//! thread after a message) are applied in the transaction that appends the command's
//! events, so the answer needs no round through the relay, NATS and a worker. The
//! projection is the same code the worker runs and moves the same checkpoints, so the
//! worker later finds the events applied and skips them; any number of writers and
//! workers agree, because both take the aggregate's checkpoint row's lock.
//!
//! An inline projection can never fail a command: it runs under a savepoint, and
//! whatever goes wrong there (a bug, a lock waited for longer than 200 ms, a
//! deadlock) is rolled back to the savepoint and left to the worker, which applies (or
//! parks) it as it always does. The events are committed either way.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Row};
use tracing::warn;

/// One event as the store wrote it, with the columns the database set.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendedEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    pub global_position: i64,
    pub recorded_at: DateTime<Utc>,
}

/// How long an inline projection waits for a lock before it is left to its worker.
const INLINE_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '200ms'";

/// Why an inline projection did not apply (the worker will).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InlineError(pub String);

/// What an inline apply answers: how many events it applied (a gap filled from the
/// store counts), or why it did not.
pub type InlineFuture<'a> = Pin<Box<dyn Future<Output = Result<u64, InlineError>> + Send + 'a>>;

/// A read model applied in the command's transaction (implemented by the projections
/// crate over its `Projection`s; injected by the composition root).
pub trait InlineProjection: Send + Sync {
    fn name(&self) -> &'static str;
    /// The aggregate types whose commands it follows.
    fn aggregate_types(&self) -> &'static [&'static str];
    /// Applies `events` (one aggregate's, in sequence) and moves its checkpoint;
    /// answers how many events it applied.
    fn apply<'a>(
        &'a self,
        connection: &'a mut sqlx::PgConnection,
        events: &'a [AppendedEvent],
    ) -> InlineFuture<'a>;
    /// The command's transaction committed with `events` applied by this projection.
    fn committed(&self, _events: u64) {}
    /// The command's transaction committed without this projection: its worker will
    /// apply the events.
    fn left_to_worker(&self) {}
}

/// The inline projections of one aggregate type.
pub type InlineProjections = Vec<Arc<dyn InlineProjection>>;

/// Runs `insert` (the events' INSERT … RETURNING) and the `inline` projections in one
/// transaction. Errors are the INSERT's or the commit's; an inline projection's own
/// failure is logged and left to the worker.
pub(super) async fn append_and_apply(
    pool: &PgPool,
    insert: Query<'_, Postgres, PgArguments>,
    aggregate_type: &str,
    aggregate_id: &str,
    inline: &[Arc<dyn InlineProjection>],
) -> Result<(), sqlx::Error> {
    let mut transaction = pool.begin().await?;
    let rows = insert.fetch_all(&mut *transaction).await?;
    let events = rows
        .iter()
        .map(|row| appended(row, aggregate_type, aggregate_id))
        .collect::<Result<Vec<_>, _>>()?;
    // The read models' locks are waited for briefly (a worker's batch holding the
    // aggregate's checkpoint, a rebuild switching the tables): past that the
    // projection is left to its worker rather than holding up the command.
    sqlx::query(INLINE_LOCK_TIMEOUT)
        .execute(&mut *transaction)
        .await?;
    let mut applied = Vec::with_capacity(inline.len());
    let mut left = Vec::new();
    for projection in inline {
        sqlx::query("SAVEPOINT inline_projection")
            .execute(&mut *transaction)
            .await?;
        let outcome = match projection.apply(&mut transaction, &events).await {
            Ok(count) => sqlx::query("RELEASE SAVEPOINT inline_projection")
                .execute(&mut *transaction)
                .await
                .map(|_| count)
                .map_err(|error| InlineError(error.to_string())),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(count) => applied.push((projection, count)),
            Err(error) => {
                left.push(projection);
                warn!(
                    projection = projection.name(),
                    aggregate_type,
                    aggregate_id,
                    %error,
                    "an inline read model did not apply; its worker will"
                );
                for statement in [
                    "ROLLBACK TO SAVEPOINT inline_projection",
                    "RELEASE SAVEPOINT inline_projection",
                ] {
                    sqlx::query(statement).execute(&mut *transaction).await?;
                }
            }
        }
    }
    sqlx::query("SET LOCAL lock_timeout TO DEFAULT")
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    for (projection, count) in applied {
        projection.committed(count);
    }
    for projection in left {
        projection.left_to_worker();
    }
    Ok(())
}

fn appended(
    row: &PgRow,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<AppendedEvent, sqlx::Error> {
    Ok(AppendedEvent {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        global_position: row.try_get("global_position")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}
