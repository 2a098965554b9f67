//! Reading events straight from the store, to fill gaps NATS left.

use sqlx::PgConnection;

use crate::envelope::{EVENT_COLUMNS, EventEnvelope, StoredEvent};

/// The events of one aggregate with `after < sequence < before`, in order.
pub async fn events_between(
    connection: &mut PgConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    after: i64,
    before: i64,
) -> Result<Vec<EventEnvelope>, sqlx::Error> {
    let rows: Vec<StoredEvent> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events \
         WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 AND sequence < $4 \
         ORDER BY sequence"
    ))
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(after)
    .bind(before)
    .fetch_all(connection)
    .await?;
    Ok(rows.into_iter().map(EventEnvelope::from).collect())
}
