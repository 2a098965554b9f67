//! Reading and clearing the outbox table.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::{PgConnection, PgPool};

use crate::envelope::WireEnvelope;

/// The Postgres channel the outbox trigger notifies on every committed event.
pub const OUTBOX_CHANNEL: &str = "ledger_outbox";

/// One outbox event, encoded and ready to publish.
pub struct PendingEvent {
    pub global_position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    /// The [`crate::EventEnvelope`] JSON.
    pub body: Bytes,
}

impl PendingEvent {
    /// The JetStream de-duplication id, as [`crate::EventEnvelope::message_id`].
    pub fn message_id(&self) -> String {
        crate::envelope::message_id(&self.aggregate_type, &self.aggregate_id, self.sequence)
    }
}

#[derive(sqlx::FromRow)]
struct OutboxEventRow {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    global_position: i64,
    recorded_at: DateTime<Utc>,
    /// Outbox rows at or below the caller's `after` position, seen in the same snapshot.
    at_or_before: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
    #[error("stored event {aggregate_type}:{aggregate_id}:{sequence} is not valid JSON: {source}")]
    Encode {
        global_position: i64,
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
        #[source]
        source: serde_json::Error,
    },
}

impl OutboxEventRow {
    fn encode(self) -> Result<PendingEvent, OutboxError> {
        let encoded = RawValue::from_string(self.payload).and_then(|payload| {
            let metadata = RawValue::from_string(self.metadata)?;
            serde_json::to_vec(&WireEnvelope {
                aggregate_type: &self.aggregate_type,
                aggregate_id: &self.aggregate_id,
                sequence: self.sequence,
                event_type: &self.event_type,
                event_version: &self.event_version,
                payload: &payload,
                metadata: &metadata,
                global_position: self.global_position,
                recorded_at: self.recorded_at,
            })
        });
        match encoded {
            Ok(body) => Ok(PendingEvent {
                global_position: self.global_position,
                aggregate_type: self.aggregate_type,
                aggregate_id: self.aggregate_id,
                sequence: self.sequence,
                body: Bytes::from(body),
            }),
            Err(source) => Err(OutboxError::Encode {
                global_position: self.global_position,
                aggregate_type: self.aggregate_type,
                aggregate_id: self.aggregate_id,
                sequence: self.sequence,
                source,
            }),
        }
    }
}

/// What one outbox read found.
pub struct Pending {
    pub events: Vec<PendingEvent>,
    /// How many outbox rows at or below the `after` position the same snapshot saw.
    pub at_or_before: i64,
}

/// The outbox read. Its plan cannot depend on the planner's statistics or on how
/// many events are stored: the outbox rows come first, by the outbox's key and
/// limited, and each finds its event by `events_global_position_key` in a lateral
/// subquery that `OFFSET 0` keeps from being flattened into a join (a join of the two
/// tables, planned without statistics, walked the whole `events` table).
/// `tests/tests/query_plans.rs` checks the plan on a million events never analyzed.
pub const PENDING_AFTER_SQL: &str = "\
    SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version, \
           e.payload, e.metadata, e.global_position, e.recorded_at, \
           (SELECT count(*) FROM outbox WHERE global_position <= $1) AS at_or_before \
    FROM (SELECT global_position FROM outbox WHERE global_position > $1 \
          ORDER BY global_position LIMIT $2) o \
    CROSS JOIN LATERAL (SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, \
                               payload::text AS payload, metadata::text AS metadata, \
                               global_position, recorded_at \
                        FROM events WHERE global_position = o.global_position OFFSET 0) e \
    ORDER BY o.global_position";

/// The oldest `limit` outbox events with a global position above `after`, oldest
/// first, encoded for publishing.
///
/// Within one aggregate a later sequence is only inserted once the earlier one is
/// committed, so it has a larger global position, and any snapshot that sees the
/// later one sees the earlier one. Reading in position order therefore keeps every
/// aggregate's events in sequence order, provided nothing at or below `after` is
/// left unpublished: the caller checks that with [`Pending::at_or_before`].
pub async fn pending_after(
    connection: &mut PgConnection,
    after: i64,
    limit: i64,
) -> Result<Pending, OutboxError> {
    let rows = sqlx::query_as::<_, OutboxEventRow>(PENDING_AFTER_SQL)
        .bind(after)
        .bind(limit)
        .fetch_all(connection)
        .await?;
    let at_or_before = rows.first().map_or(0, |row| row.at_or_before);
    let events = rows
        .into_iter()
        .map(OutboxEventRow::encode)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Pending {
        events,
        at_or_before,
    })
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

/// Sets one event aside in `outbox_parked` with the reason, in one statement, so it
/// no longer blocks the events behind it.
pub async fn park(
    connection: &mut PgConnection,
    global_position: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH moved AS (DELETE FROM outbox WHERE global_position = $1 RETURNING *) \
         INSERT INTO outbox_parked (global_position, aggregate_type, aggregate_id, sequence, recorded_at, error) \
         SELECT global_position, aggregate_type, aggregate_id, sequence, recorded_at, $2 FROM moved",
    )
    .bind(global_position)
    .bind(error)
    .execute(connection)
    .await?;
    Ok(())
}

/// How far behind the relay is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxStatus {
    /// Events committed but not yet acknowledged by JetStream.
    pub depth: i64,
    /// Age of the oldest such event in seconds; 0 when the outbox is empty.
    pub lag_seconds: f64,
    /// Events set aside because they cannot be published.
    pub parked: i64,
}

pub async fn status(pool: &PgPool) -> Result<OutboxStatus, sqlx::Error> {
    let (depth, lag_seconds, parked): (i64, f64, i64) = sqlx::query_as(
        "SELECT count(*), \
                COALESCE(EXTRACT(EPOCH FROM (clock_timestamp() - min(recorded_at))), 0)::float8, \
                (SELECT count(*) FROM outbox_parked) \
         FROM outbox",
    )
    .fetch_one(pool)
    .await?;
    Ok(OutboxStatus {
        depth,
        lag_seconds: lag_seconds.max(0.0),
        parked,
    })
}
