//! Reading events straight from the store, to fill gaps NATS left.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::envelope::EventEnvelope;

type Row = (
    String,
    String,
    i64,
    String,
    String,
    serde_json::Value,
    serde_json::Value,
    i64,
    DateTime<Utc>,
);

/// The events of one aggregate with `after < sequence < before`, in order.
pub async fn events_between(
    connection: &mut PgConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    after: i64,
    before: i64,
) -> Result<Vec<EventEnvelope>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
                metadata, global_position, recorded_at \
         FROM events \
         WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 AND sequence < $4 \
         ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(after)
    .bind(before)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| EventEnvelope {
            aggregate_type: row.0,
            aggregate_id: row.1,
            sequence: row.2,
            event_type: row.3,
            event_version: row.4,
            payload: row.5,
            metadata: row.6,
            global_position: row.7,
            recorded_at: row.8,
        })
        .collect())
}
