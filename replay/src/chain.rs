//! The events' hash chain, computed here independently of the database: the same
//! definition as `events_hash` in `migrations/*_event_hash_chain.sql` (a test keeps
//! the two equal), so `verify` does not trust the function it checks.
//!
//! hash(n) = SHA-256( hash(n−1), or 32 zero bytes for a first event or one whose
//! previous event is missing
//!                  ‖ field(aggregate_type) ‖ field(aggregate_id) ‖ int8(sequence)
//!                  ‖ field(event_type) ‖ field(event_version)
//!                  ‖ field(payload) ‖ field(metadata) ‖ int8(global_position)
//!                  ‖ int8(recorded_at, microseconds since 1970 UTC) )
//!
//! with int8 big-endian and field(t) = int8(UTF-8 length) ‖ the UTF-8 bytes.

use ring::digest::{Context, SHA256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The columns of one stored event that its hash covers, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChainedEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The JSON text exactly as stored (`json`, not `jsonb`, keeps it).
    pub payload: String,
    pub metadata: String,
    pub global_position: i64,
    pub recorded_at_micros: i64,
    /// What the database stored as the event's hash.
    pub hash: Vec<u8>,
}

/// The select list that reads a [`ChainedEvent`] from `events`.
pub const CHAINED_COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, \
     payload::text AS payload, metadata::text AS metadata, global_position, \
     (extract(epoch FROM recorded_at) * 1000000)::bigint AS recorded_at_micros, hash";

/// The hash `event` must carry when `previous` is its predecessor's hash (`None`: a
/// first event, or the predecessor is missing).
pub fn event_hash(previous: Option<&Hash>, event: &ChainedEvent) -> Hash {
    let mut context = Context::new(&SHA256);
    context.update(previous.unwrap_or(&[0; 32]));
    field(&mut context, &event.aggregate_type);
    field(&mut context, &event.aggregate_id);
    context.update(&event.sequence.to_be_bytes());
    field(&mut context, &event.event_type);
    field(&mut context, &event.event_version);
    field(&mut context, &event.payload);
    field(&mut context, &event.metadata);
    context.update(&event.global_position.to_be_bytes());
    context.update(&event.recorded_at_micros.to_be_bytes());
    let mut hash = [0; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

fn field(context: &mut Context, text: &str) {
    // A Rust string is never longer than i64::MAX bytes.
    context.update(&(text.len() as u64).to_be_bytes());
    context.update(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> ChainedEvent {
        ChainedEvent {
            aggregate_type: "Order".into(),
            aggregate_id: "o-1".into(),
            sequence: 1,
            event_type: "OrderPlaced".into(),
            event_version: "1.0".into(),
            payload: r#"{"a": 1}"#.into(),
            metadata: "{}".into(),
            global_position: 7,
            recorded_at_micros: 1_764_000_000_000_000,
            hash: Vec::new(),
        }
    }

    #[test]
    fn every_covered_column_changes_the_hash() {
        let base = event_hash(None, &event());
        let changes: [fn(&mut ChainedEvent); 9] = [
            |e| e.aggregate_type.push('x'),
            |e| e.aggregate_id.push('x'),
            |e| e.sequence += 1,
            |e| e.event_type.push('x'),
            |e| e.event_version.push('x'),
            |e| e.payload.push(' '),
            |e| e.metadata.push(' '),
            |e| e.global_position += 1,
            |e| e.recorded_at_micros += 1,
        ];
        for change in changes {
            let mut changed = event();
            change(&mut changed);
            assert_ne!(event_hash(None, &changed), base, "{changed:?}");
        }
        assert_ne!(event_hash(Some(&[1; 32]), &event()), base);
    }

    #[test]
    fn a_field_boundary_cannot_move() {
        // "ab" + "c" and "a" + "bc" concatenate alike; the lengths keep them apart.
        let mut first = event();
        first.aggregate_type = "ab".into();
        first.aggregate_id = "c".into();
        let mut second = event();
        second.aggregate_type = "a".into();
        second.aggregate_id = "bc".into();
        assert_ne!(event_hash(None, &first), event_hash(None, &second));
    }
}
