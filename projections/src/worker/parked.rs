//! Parked events, for operators: listing them and trying them again after a fix
//! (`ledgerbot parked list|retry`).
//!
//! A retry applies each parked event alone, from the store, in sequence per aggregate
//! (none after one that fails again), in a transaction that holds its aggregate's
//! checkpoint (so it cannot interleave with the live worker), and unparks it when it
//! applies. Beware: the aggregate's later events were applied meanwhile, so the parked
//! one lands after them. That is right for a projection whose events add up (credits,
//! ledger lines, notifications, reactions) and wrong for one that keeps the latest
//! state of a row a later event already set: rebuild that read model instead
//! (`replay`).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::projection::{ApplyError, Projection};
use super::{checkpoint, retrying, store};

/// One parked event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct ParkedEvent {
    pub projection: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub error: String,
    pub parked_at: DateTime<Utc>,
}

/// The parked events of `projection` (of every projection with `None`), oldest first.
pub async fn list(
    pool: &PgPool,
    projection: Option<&str>,
) -> Result<Vec<ParkedEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT projection, aggregate_type, aggregate_id, sequence, error, parked_at \
         FROM projection_parked WHERE $1::text IS NULL OR projection = $1 \
         ORDER BY parked_at, projection, aggregate_type, aggregate_id, sequence",
    )
    .bind(projection)
    .fetch_all(pool)
    .await
}

/// What trying a parked event again did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RetryOutcome {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    /// `None`: it applied and is no longer parked; otherwise why it failed again
    /// (it stays parked with this error).
    pub error: Option<String>,
}

/// Tries the parked events of `projection` again (only aggregate `aggregate_id`'s
/// with `Some`), each in sequence order.
pub async fn retry<P: Projection + ?Sized>(
    pool: &PgPool,
    projection: &P,
    aggregate_id: Option<&str>,
) -> Result<Vec<RetryOutcome>, sqlx::Error> {
    let name = projection.name();
    let mut outcomes = Vec::new();
    let mut parked_events = list(pool, Some(name)).await?;
    // Each aggregate's in sequence, and none after one that fails again.
    parked_events.sort_by(|a, b| {
        (&a.aggregate_type, &a.aggregate_id, a.sequence).cmp(&(
            &b.aggregate_type,
            &b.aggregate_id,
            b.sequence,
        ))
    });
    let mut failed: Option<(String, String)> = None;
    for parked in parked_events {
        if aggregate_id.is_some_and(|id| id != parked.aggregate_id) {
            continue;
        }
        let key = (parked.aggregate_type.clone(), parked.aggregate_id.clone());
        if failed.as_ref() == Some(&key) {
            outcomes.push(RetryOutcome {
                aggregate_type: parked.aggregate_type,
                aggregate_id: parked.aggregate_id,
                sequence: parked.sequence,
                error: Some("not tried: an earlier event of its aggregate failed again".to_owned()),
            });
            continue;
        }
        let error = match apply_parked(pool, projection, &parked).await {
            Ok(()) => None,
            Err(error) => {
                let message = error.to_string();
                sqlx::query(
                    "UPDATE projection_parked SET error = $5 WHERE projection = $1 \
                     AND aggregate_type = $2 AND aggregate_id = $3 AND sequence = $4",
                )
                .bind(name)
                .bind(&parked.aggregate_type)
                .bind(&parked.aggregate_id)
                .bind(parked.sequence)
                .bind(&message)
                .execute(pool)
                .await?;
                failed = Some(key);
                Some(message)
            }
        };
        outcomes.push(RetryOutcome {
            aggregate_type: parked.aggregate_type,
            aggregate_id: parked.aggregate_id,
            sequence: parked.sequence,
            error,
        });
    }
    Ok(outcomes)
}

async fn apply_parked<P: Projection + ?Sized>(
    pool: &PgPool,
    projection: &P,
    parked: &ParkedEvent,
) -> Result<(), ApplyError> {
    let name = projection.name();
    let key = (parked.aggregate_type.clone(), parked.aggregate_id.clone());
    let mut transaction = pool.begin().await?;
    sqlx::query(super::projection::SHARE_PROJECTION_LOCK)
        .bind(name)
        .execute(&mut *transaction)
        .await?;
    checkpoint::lock(&mut transaction, name, std::slice::from_ref(&key)).await?;
    let events = store::events_between(
        &mut transaction,
        &parked.aggregate_type,
        &parked.aggregate_id,
        parked.sequence - 1,
        parked.sequence + 1,
    )
    .await?;
    let Some(event) = events.first() else {
        return Err(ApplyError::MissingFromStore {
            aggregate: format!("{}:{}", parked.aggregate_type, parked.aggregate_id),
            from: parked.sequence,
            to: parked.sequence,
        });
    };
    projection.apply(&mut transaction, event).await?;
    sqlx::query(
        "DELETE FROM projection_parked WHERE projection = $1 \
         AND aggregate_type = $2 AND aggregate_id = $3 AND sequence = $4",
    )
    .bind(name)
    .bind(&parked.aggregate_type)
    .bind(&parked.aggregate_id)
    .bind(parked.sequence)
    .execute(&mut *transaction)
    .await?;
    retrying::clear(&mut transaction, name, &[&key]).await?;
    transaction.commit().await?;
    Ok(())
}
