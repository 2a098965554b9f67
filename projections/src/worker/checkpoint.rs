//! `projection_checkpoints` and `projection_parked`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::envelope::EventEnvelope;

type Key = (String, String);

/// The checkpoints of the aggregates of `events`, read without a lock (those with
/// none are absent).
pub async fn read_unlocked(
    connection: &mut PgConnection,
    projection: &str,
    events: &[&EventEnvelope],
) -> Result<HashMap<Key, i64>, sqlx::Error> {
    let types: Vec<&str> = events.iter().map(|e| e.aggregate_type.as_str()).collect();
    let ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT c.aggregate_type, c.aggregate_id, c.sequence FROM projection_checkpoints c \
         JOIN (SELECT DISTINCT t, i FROM UNNEST($2::text[], $3::text[]) AS k(t, i)) k \
           ON c.aggregate_type = k.t AND c.aggregate_id = k.i \
         WHERE c.projection = $1",
    )
    .bind(projection)
    .bind(&types)
    .bind(&ids)
    .fetch_all(&mut *connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(aggregate_type, aggregate_id, sequence)| ((aggregate_type, aggregate_id), sequence))
        .collect())
}

/// Locks the checkpoints of `keys` (creating missing ones at 0) in a fixed order, so
/// concurrent instances never deadlock, and returns them.
pub async fn lock(
    connection: &mut PgConnection,
    projection: &str,
    keys: &[Key],
) -> Result<HashMap<Key, i64>, sqlx::Error> {
    let mut sorted: Vec<&Key> = keys.iter().collect();
    sorted.sort();
    sorted.dedup();
    let types: Vec<&str> = sorted.iter().map(|(t, _)| t.as_str()).collect();
    let ids: Vec<&str> = sorted.iter().map(|(_, i)| i.as_str()).collect();
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection, aggregate_type, aggregate_id, sequence) \
         SELECT $1, k.t, k.i, 0 FROM UNNEST($2::text[], $3::text[]) AS k(t, i) ORDER BY k.t, k.i \
         ON CONFLICT DO NOTHING",
    )
    .bind(projection)
    .bind(&types)
    .bind(&ids)
    .execute(&mut *connection)
    .await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT c.aggregate_type, c.aggregate_id, c.sequence FROM projection_checkpoints c \
         JOIN UNNEST($2::text[], $3::text[]) AS k(t, i) ON c.aggregate_type = k.t AND c.aggregate_id = k.i \
         WHERE c.projection = $1 \
         ORDER BY c.aggregate_type, c.aggregate_id \
         FOR UPDATE OF c",
    )
    .bind(projection)
    .bind(&types)
    .bind(&ids)
    .fetch_all(&mut *connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(aggregate_type, aggregate_id, sequence)| ((aggregate_type, aggregate_id), sequence))
        .collect())
}

/// Writes the checkpoints of the aggregates that moved.
pub async fn save(
    connection: &mut PgConnection,
    projection: &str,
    applied_up_to: &HashMap<Key, i64>,
    last_recorded: &HashMap<Key, DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    if last_recorded.is_empty() {
        return Ok(());
    }
    let mut types = Vec::with_capacity(last_recorded.len());
    let mut ids = Vec::with_capacity(last_recorded.len());
    let mut sequences = Vec::with_capacity(last_recorded.len());
    let mut recorded = Vec::with_capacity(last_recorded.len());
    for (key, at) in last_recorded {
        types.push(key.0.as_str());
        ids.push(key.1.as_str());
        sequences.push(applied_up_to.get(key).copied().unwrap_or(0));
        recorded.push(*at);
    }
    sqlx::query(
        "UPDATE projection_checkpoints c SET sequence = k.s, recorded_at = k.r \
         FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::timestamptz[]) AS k(t, i, s, r) \
         WHERE c.projection = $1 AND c.aggregate_type = k.t AND c.aggregate_id = k.i",
    )
    .bind(projection)
    .bind(&types)
    .bind(&ids)
    .bind(&sequences)
    .bind(&recorded)
    .execute(connection)
    .await?;
    Ok(())
}

/// Records an event the projection could not apply and moves the aggregate's
/// checkpoint past it, in one transaction.
pub async fn park(
    pool: &PgPool,
    projection: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    let mut transaction = pool.begin().await?;
    sqlx::query(super::projection::SHARE_PROJECTION_LOCK)
        .bind(projection)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(
        "INSERT INTO projection_parked (projection, aggregate_type, aggregate_id, sequence, error) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(projection)
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .bind(error)
    .execute(&mut *transaction)
    .await?;
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection, aggregate_type, aggregate_id, sequence) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (projection, aggregate_type, aggregate_id) \
         DO UPDATE SET sequence = GREATEST(projection_checkpoints.sequence, EXCLUDED.sequence)",
    )
    .bind(projection)
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .execute(&mut *transaction)
    .await?;
    let key = (aggregate_type.to_owned(), aggregate_id.to_owned());
    super::retrying::clear(&mut transaction, projection, &[&key]).await?;
    transaction.commit().await
}

/// Where a projection stands, for the API, the bot and operators.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectionStatus {
    pub projection: String,
    /// Aggregates it has applied events of.
    pub aggregates: i64,
    /// `recorded_at` of the newest event it applied.
    pub last_recorded_at: Option<DateTime<Utc>>,
    /// Seconds since then (`null` before the first event).
    pub lag_seconds: Option<f64>,
    pub parked: i64,
    /// Aggregates held back behind an event that keeps failing for a reason that may
    /// pass (tried again with backoff, never parked for it).
    pub retrying: super::Retrying,
}

pub async fn status(pool: &PgPool, projection: &str) -> Result<ProjectionStatus, sqlx::Error> {
    let (aggregates, last_recorded_at, lag_seconds, parked): (
        i64,
        Option<DateTime<Utc>>,
        Option<f64>,
        i64,
    ) = sqlx::query_as(
        "SELECT count(*), max(recorded_at), \
                    EXTRACT(EPOCH FROM (clock_timestamp() - max(recorded_at)))::float8, \
                    (SELECT count(*) FROM projection_parked WHERE projection = $1) \
             FROM projection_checkpoints WHERE projection = $1",
    )
    .bind(projection)
    .fetch_one(pool)
    .await?;
    Ok(ProjectionStatus {
        projection: projection.to_owned(),
        aggregates,
        last_recorded_at,
        lag_seconds,
        parked,
        retrying: super::retrying::retrying(pool, projection).await?,
    })
}
