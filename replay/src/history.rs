//! `replay history <aggregate-type> <id>`: every event of one aggregate, in order,
//! as stored: its sequence and store-wide position, when it was recorded, who acted
//! (from the metadata every command writes), what caused it, and the payload.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use crate::{ReplayError, known_type};

/// One event as the auditor reads it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HistoryEvent {
    pub sequence: i64,
    /// The store-wide position (gaps are normal: positions are handed out before
    /// commit).
    pub position: i64,
    pub recorded_at: DateTime<Utc>,
    pub event_type: String,
    pub event_version: String,
    /// `user:<id> (<role>)` or `system:<name>`, from the metadata.
    pub actor: String,
    /// The event that caused it (a process manager's reaction), if any.
    pub causation_id: Option<String>,
    /// The HTTP request or bot update it came from, if recorded.
    pub request_id: Option<String>,
    pub metadata: Value,
    pub payload: Value,
}

/// Every event of `aggregate_type` `aggregate_id`, oldest first.
pub async fn history(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<HistoryEvent>, ReplayError> {
    known_type(aggregate_type)?;
    let events: Vec<HistoryEvent> = sqlx::query_as(
        "SELECT sequence, global_position AS position, recorded_at, event_type, event_version, \
                CASE metadata->>'actor_kind' \
                    WHEN 'user' THEN 'user:' || COALESCE(metadata->>'actor_id', '?') || ' (' || COALESCE(metadata->>'actor_role', '?') || ')' \
                    ELSE COALESCE(metadata->>'actor_kind', 'unknown') || ':' || COALESCE(metadata->>'actor_id', '?') \
                END AS actor, \
                metadata->>'causation_id' AS causation_id, metadata->>'request_id' AS request_id, \
                metadata, payload \
         FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_all(pool)
    .await?;
    if events.is_empty() {
        return Err(ReplayError::NoSuchAggregate {
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: aggregate_id.to_owned(),
        });
    }
    Ok(events)
}

/// The history as text for a person: one line per event, its payload indented below.
pub fn render(events: &[HistoryEvent]) -> String {
    let mut text = String::new();
    for event in events {
        text.push_str(&format!(
            "#{} @{} {} {} v{} by {}",
            event.sequence,
            event.position,
            event.recorded_at.to_rfc3339(),
            event.event_type,
            event.event_version,
            event.actor
        ));
        if let Some(cause) = &event.causation_id {
            text.push_str(&format!(" caused by {cause}"));
        }
        if let Some(request) = &event.request_id {
            text.push_str(&format!(" request {request}"));
        }
        text.push('\n');
        let payload = serde_json::to_string_pretty(&event.payload).unwrap_or_default();
        for line in payload.lines() {
            text.push_str("    ");
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}
