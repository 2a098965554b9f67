//! The shape of one event on the wire (NATS message body).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One stored event with everything a consumer needs to place it: the postgres-es
/// columns plus the store's own `global_position` and `recorded_at`.
///
/// This JSON is a contract with every consumer; fields are only ever added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// Position of the event within its aggregate, starting at 1.
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    /// Store-wide position; increases with insertion but may have holes.
    pub global_position: i64,
    pub recorded_at: DateTime<Utc>,
}

impl EventEnvelope {
    /// The payload as its aggregate's event type; an event this version cannot read
    /// is a permanent [`ApplyError::Decode`] naming the event.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, crate::worker::ApplyError> {
        E::deserialize(&self.payload).map_err(|error| {
            crate::worker::ApplyError::Decode(format!("{}: {error}", self.message_id()))
        })
    }

    /// The aggregate id as the UUID it is for aggregates keyed by one (orders,
    /// payments, users); anything else is a permanent [`ApplyError::Decode`].
    pub fn aggregate_uuid(&self) -> Result<uuid::Uuid, crate::worker::ApplyError> {
        uuid::Uuid::parse_str(&self.aggregate_id).map_err(|error| {
            crate::worker::ApplyError::Decode(format!(
                "{} id {}: {error}",
                self.aggregate_type, self.aggregate_id
            ))
        })
    }

    /// The JetStream de-duplication id: `<AggregateType>:<aggregate_id>:<sequence>`.
    /// An event published twice within the stream's duplicate window is stored once.
    pub fn message_id(&self) -> String {
        message_id(&self.aggregate_type, &self.aggregate_id, self.sequence)
    }
}

/// `<AggregateType>:<aggregate_id>:<sequence>`, safe as a NATS header value: control
/// characters (which would end or split the header) and `%` are percent-encoded.
pub fn message_id(aggregate_type: &str, aggregate_id: &str, sequence: i64) -> String {
    let mut id = String::with_capacity(aggregate_type.len() + aggregate_id.len() + 22);
    push_header_safe(&mut id, aggregate_type);
    id.push(':');
    push_header_safe(&mut id, aggregate_id);
    id.push(':');
    id.push_str(&sequence.to_string());
    id
}

fn push_header_safe(target: &mut String, raw: &str) {
    for character in raw.chars() {
        if character.is_control() || character == '%' {
            let mut buffer = [0u8; 4];
            for byte in character.encode_utf8(&mut buffer).bytes() {
                target.push_str(&format!("%{byte:02X}"));
            }
        } else {
            target.push(character);
        }
    }
}

/// The columns of `events` an [`EventEnvelope`] is made of, for `SELECT`s.
pub const EVENT_COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, \
     event_version, payload, metadata, global_position, recorded_at";

/// One row of `events`, as read with [`EVENT_COLUMNS`].
#[derive(Debug, sqlx::FromRow)]
pub struct StoredEvent {
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

impl From<StoredEvent> for EventEnvelope {
    fn from(row: StoredEvent) -> Self {
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

/// The relay's way of writing an [`EventEnvelope`]: the same JSON, with the stored
/// payload and metadata copied through as they are instead of parsed and re-encoded.
#[derive(Serialize)]
pub(crate) struct WireEnvelope<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a RawValue,
    pub metadata: &'a RawValue,
    pub global_position: i64,
    pub recorded_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_never_carry_characters_that_break_a_header() {
        assert_eq!(message_id("Order", "o-1", 7), "Order:o-1:7");
        assert_eq!(message_id("Order", "a\r\nb%c", 1), "Order:a%0D%0Ab%25c:1");
        let header = async_nats::HeaderValue::from(message_id("T", "x\ny\0", 2).as_str());
        assert_eq!(header.as_str(), "T:x%0Ay%00:2");
    }

    #[test]
    fn the_wire_form_reads_back_as_an_event_envelope() {
        let payload = RawValue::from_string(
            r#"{"Placed": {"total": "100.00", "note": "Ёлка \/ +"}}"#.to_owned(),
        )
        .expect("valid json");
        let metadata =
            RawValue::from_string(r#"{"actor":"system"}"#.to_owned()).expect("valid json");
        let recorded_at = DateTime::parse_from_rfc3339("2026-11-23T05:07:29.123456Z")
            .expect("a timestamp")
            .with_timezone(&Utc);
        let wire = WireEnvelope {
            aggregate_type: "Order",
            aggregate_id: "0193a1b2-0000-7000-8000-000000000001",
            sequence: 3,
            event_type: "Placed",
            event_version: "1.0",
            payload: &payload,
            metadata: &metadata,
            global_position: 42,
            recorded_at,
        };
        let body = serde_json::to_string(&wire).expect("encodes");
        assert_eq!(
            body,
            r#"{"aggregate_type":"Order","aggregate_id":"0193a1b2-0000-7000-8000-000000000001","sequence":3,"event_type":"Placed","event_version":"1.0","payload":{"Placed": {"total": "100.00", "note": "Ёлка \/ +"}},"metadata":{"actor":"system"},"global_position":42,"recorded_at":"2026-11-23T05:07:29.123456Z"}"#
        );
        let envelope: EventEnvelope = serde_json::from_str(&body).expect("decodes");
        assert_eq!(
            envelope.message_id(),
            "Order:0193a1b2-0000-7000-8000-000000000001:3"
        );
        assert_eq!(envelope.payload["Placed"]["note"], "Ёлка / +");
        assert_eq!(envelope.recorded_at, recorded_at);
        assert_eq!(envelope.global_position, 42);
    }
}
