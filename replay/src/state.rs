//! `replay state <aggregate-type> <id> --at <time|position>` and `replay diff …`:
//! an aggregate as of a point in the store, folded from its stored events through
//! the aggregate's own `apply` (the code that decides commands), and what changed
//! between two points, field by field, with the events in between.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgPool;

use crate::ReplayError;

/// A point in the store: a time (RFC 3339) or a store-wide position (an integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Point {
    Time(DateTime<Utc>),
    Position(i64),
}

impl FromStr for Point {
    type Err = ReplayError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.bytes().all(|byte| byte.is_ascii_digit())
            && let Ok(position) = text.parse::<i64>()
        {
            return Ok(Point::Position(position));
        }
        DateTime::parse_from_rfc3339(text)
            .map(|time| Point::Time(time.with_timezone(&Utc)))
            .map_err(|_| ReplayError::BadPoint(text.to_owned()))
    }
}

/// An aggregate as of a point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateAt {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub at: Point,
    /// The last event applied (0: none yet at that point).
    pub sequence: i64,
    pub position: Option<i64>,
    pub recorded_at: Option<DateTime<Utc>>,
    pub state: Value,
}

/// One field that differs between two points (`path` like `status` or
/// `lots.0.remaining`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub before: Value,
    pub after: Value,
}

/// What changed between two points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub from: StateAt,
    pub to: StateAt,
    /// The events after `from` up to `to`: `#<sequence> <type>`.
    pub events: Vec<String>,
    pub changes: Vec<Change>,
}

struct Stored {
    sequence: i64,
    position: i64,
    recorded_at: DateTime<Utc>,
    event_type: String,
    payload: Value,
}

/// Every event of the aggregate, in sequence (read once, so two points of a diff
/// are cut from one read).
async fn load_all(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<Stored>, ReplayError> {
    crate::known_type(aggregate_type)?;
    let rows: Vec<(i64, i64, DateTime<Utc>, String, Value)> = sqlx::query_as(
        "SELECT sequence, global_position, recorded_at, event_type, payload FROM events \
         WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Err(ReplayError::NoSuchAggregate {
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: aggregate_id.to_owned(),
        });
    }
    Ok(rows
        .into_iter()
        .map(
            |(sequence, position, recorded_at, event_type, payload)| Stored {
                sequence,
                position,
                recorded_at,
                event_type,
                payload,
            },
        )
        .collect())
}

/// The events as of `at`: those up to that store position, or recorded up to that
/// time. Within one aggregate positions and times grow with the sequence (a writer
/// appends n + 1 only after n committed), so this is a prefix.
fn until(events: &[Stored], at: Point) -> &[Stored] {
    let within = events
        .iter()
        .take_while(|event| match at {
            Point::Time(time) => event.recorded_at <= time,
            Point::Position(position) => event.position <= position,
        })
        .count();
    &events[..within]
}

fn state_of(
    aggregate_type: &str,
    aggregate_id: &str,
    events: &[Stored],
    at: Point,
) -> Result<StateAt, ReplayError> {
    let events = until(events, at);
    let last = events.last();
    Ok(StateAt {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        at,
        sequence: last.map_or(0, |event| event.sequence),
        position: last.map(|event| event.position),
        recorded_at: last.map(|event| event.recorded_at),
        state: fold_as(aggregate_type, events)?,
    })
}

/// Folds stored payloads through `A::apply`, from `A::default()`.
fn fold<A>(events: &[Stored]) -> Result<Value, ReplayError>
where
    A: Aggregate + Serialize,
    A::Event: DeserializeOwned,
{
    let mut aggregate = A::default();
    for (index, event) in events.iter().enumerate() {
        let expected = index as i64 + 1;
        if event.sequence != expected {
            return Err(ReplayError::SequenceGap {
                after: expected - 1,
                found: event.sequence,
            });
        }
        let decoded: A::Event = serde_json::from_value(event.payload.clone()).map_err(|error| {
            ReplayError::Undecodable {
                sequence: event.sequence,
                error: error.to_string(),
            }
        })?;
        aggregate.apply(decoded);
    }
    serde_json::to_value(&aggregate).map_err(|error| ReplayError::Undecodable {
        sequence: events.last().map_or(0, |event| event.sequence),
        error: error.to_string(),
    })
}

fn fold_as(aggregate_type: &str, events: &[Stored]) -> Result<Value, ReplayError> {
    use domain::*;
    match aggregate_type {
        "User" => fold::<user::User>(events),
        "OwnerGrant" => fold::<owner_grant::OwnerGrant>(events),
        "Order" => fold::<order::Order>(events),
        "Payment" => fold::<payment::Payment>(events),
        "CreditAccount" => fold::<credit::CreditAccount>(events),
        "Ticket" => fold::<ticket::Ticket>(events),
        "TicketCategory" => fold::<ticket_category::TicketCategory>(events),
        "GenerationJob" => fold::<generation::GenerationJob>(events),
        other => Err(ReplayError::UnknownAggregateType {
            given: other.to_owned(),
            known: crate::aggregate_types().join(", "),
        }),
    }
}

/// The aggregate as of `at`.
pub async fn state(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    at: Point,
) -> Result<StateAt, ReplayError> {
    let events = load_all(pool, aggregate_type, aggregate_id).await?;
    state_of(aggregate_type, aggregate_id, &events, at)
}

/// What changed between `from` and `to` (oldest first).
pub async fn diff(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    from: Point,
    to: Point,
) -> Result<Diff, ReplayError> {
    let events = load_all(pool, aggregate_type, aggregate_id).await?;
    let before = state_of(aggregate_type, aggregate_id, &events, from)?;
    let after = state_of(aggregate_type, aggregate_id, &events, to)?;
    if before.sequence > after.sequence {
        return Err(ReplayError::PointsReversed {
            from: format!("#{}", before.sequence),
            to: format!("#{}", after.sequence),
        });
    }
    let between = until(&events, to)
        .iter()
        .filter(|event| event.sequence > before.sequence)
        .map(|event| format!("#{} {}", event.sequence, event.event_type))
        .collect();
    let mut changes = Vec::new();
    compare("", &before.state, &after.state, &mut changes);
    Ok(Diff {
        from: before,
        to: after,
        events: between,
        changes,
    })
}

/// The diff as text for a person: the two points, the events between, each field.
pub fn render_diff(diff: &Diff) -> String {
    let point = |state: &StateAt| match state.position {
        Some(position) => format!("#{} @{position}", state.sequence),
        None => "before its first event".to_owned(),
    };
    let mut text = format!(
        "{} {}: from {} to {}\n",
        diff.from.aggregate_type,
        diff.from.aggregate_id,
        point(&diff.from),
        point(&diff.to)
    );
    for event in &diff.events {
        text.push_str(&format!("  {event}\n"));
    }
    if diff.changes.is_empty() {
        text.push_str("no field changed\n");
    }
    for change in &diff.changes {
        text.push_str(&format!(
            "{}: {} → {}\n",
            change.path, change.before, change.after
        ));
    }
    text
}

/// The fields that differ, objects and arrays walked into, paths joined with dots.
fn compare(path: &str, before: &Value, after: &Value, changes: &mut Vec<Change>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let (old, new) = (
                    old.get(key).unwrap_or(&Value::Null),
                    new.get(key).unwrap_or(&Value::Null),
                );
                compare(&join(key), old, new, changes);
            }
        }
        (Value::Array(old), Value::Array(new)) => {
            for index in 0..old.len().max(new.len()) {
                let (old, new) = (
                    old.get(index).unwrap_or(&Value::Null),
                    new.get(index).unwrap_or(&Value::Null),
                );
                compare(&join(&index.to_string()), old, new, changes);
            }
        }
        (old, new) if old != new => changes.push(Change {
            path: path.to_owned(),
            before: old.clone(),
            after: new.clone(),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn points_are_positions_or_times() {
        assert_eq!("42".parse::<Point>().ok(), Some(Point::Position(42)));
        assert!(matches!(
            "2026-03-01T00:00:00+03:00".parse::<Point>(),
            Ok(Point::Time(time)) if time.to_rfc3339() == "2026-02-28T21:00:00+00:00"
        ));
        for bad in ["1 March", "-1", "+3"] {
            assert!(
                matches!(bad.parse::<Point>(), Err(ReplayError::BadPoint(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn changes_name_each_differing_field_by_its_path() {
        let mut changes = Vec::new();
        compare(
            "",
            &json!({"status": "placed", "lots": [{"left": 5}], "same": 1}),
            &json!({"status": "paid", "lots": [{"left": 3}, {"left": 9}], "same": 1, "new": true}),
            &mut changes,
        );
        let paths: Vec<&str> = changes.iter().map(|change| change.path.as_str()).collect();
        assert_eq!(paths, ["lots.0.left", "lots.1", "new", "status"]);
        assert_eq!(changes[3].before, json!("placed"));
        assert_eq!(changes[3].after, json!("paid"));
    }
}
