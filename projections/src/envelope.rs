//! The shape of one event on the wire (NATS message body).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// The JetStream de-duplication id: `<AggregateType>:<aggregate_id>:<sequence>`.
    /// An event published twice within the stream's duplicate window is stored once.
    pub fn message_id(&self) -> String {
        format!(
            "{}:{}:{}",
            self.aggregate_type, self.aggregate_id, self.sequence
        )
    }
}
