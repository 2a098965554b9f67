//! Reading and clearing the outbox table.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::envelope::EventEnvelope;

/// The Postgres channel the outbox trigger notifies on every committed event.
pub const OUTBOX_CHANNEL: &str = "ledger_outbox";

#[derive(sqlx::FromRow)]
struct OutboxEventRow {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: serde_json::Value,
    metadata: serde_json::Value,
    global_position: i64,
    recorded_at: DateTime<Utc>,
}

impl From<OutboxEventRow> for EventEnvelope {
    fn from(row: OutboxEventRow) -> Self {
        Self {
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            event_type: row.event_type,
            event_version: row.event_version,
            payload: row.payload,
            metadata: row.metadata,
            global_position: row.global_position,
            recorded_at: row.recorded_at,
        }
    }
}

/// The oldest `limit` events still waiting in the outbox, oldest first.
///
/// Within one aggregate, a later sequence always has a larger global position (it
/// can only be inserted once the earlier one is committed), so this order keeps
/// every aggregate's events in sequence order.
pub async fn oldest_pending(
    connection: &mut PgConnection,
    limit: i64,
) -> Result<Vec<EventEnvelope>, sqlx::Error> {
    let rows = sqlx::query_as::<_, OutboxEventRow>(
        "SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version, \
                e.payload, e.metadata, e.global_position, e.recorded_at \
         FROM outbox o JOIN events e ON e.global_position = o.global_position \
         ORDER BY o.global_position \
         LIMIT $1",
    )
    .bind(limit)
    .fetch_all(connection)
    .await?;
    Ok(rows.into_iter().map(EventEnvelope::from).collect())
}

/// Removes relayed events from the outbox.
pub async fn remove(
    connection: &mut PgConnection,
    global_positions: &[i64],
) -> Result<(), sqlx::Error> {
    if global_positions.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM outbox WHERE global_position = ANY($1)")
        .bind(global_positions)
        .execute(connection)
        .await?;
    Ok(())
}

/// How far behind the relay is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutboxStatus {
    /// Events committed but not yet acknowledged by JetStream.
    pub depth: i64,
    /// Age of the oldest such event in seconds; 0 when the outbox is empty.
    pub lag_seconds: f64,
}

pub async fn status(pool: &PgPool) -> Result<OutboxStatus, sqlx::Error> {
    let (depth, lag_seconds): (i64, f64) = sqlx::query_as(
        "SELECT count(*), \
                COALESCE(EXTRACT(EPOCH FROM (clock_timestamp() - min(recorded_at))), 0)::float8 \
         FROM outbox",
    )
    .fetch_one(pool)
    .await?;
    Ok(OutboxStatus {
        depth,
        lag_seconds: lag_seconds.max(0.0),
    })
}
