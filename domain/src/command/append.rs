//! Appending a command's events to the store: one INSERT of exactly the columns and
//! JSON postgres-es writes, and what its refusals mean.

use std::sync::Arc;

use cqrs_es::{Aggregate, AggregateError, DomainEvent};
use sqlx::PgPool;

use super::inline::{self, InlineProjection};
use super::stored_text::{self, NulInText};
use super::{CommandContext, Refusal};

/// Appends `events` after sequence `after` in one INSERT statement (atomic on
/// its own, one round trip; with inline read models, in their transaction), with
/// exactly the columns and JSON postgres-es writes. A sequence that already exists
/// means another writer got there first: that comes back as `AggregateConflict`.
pub(super) async fn append<A: Aggregate>(
    pool: &PgPool,
    inline: &[Arc<dyn InlineProjection>],
    aggregate_id: &str,
    after: usize,
    events: &[A::Event],
    context: &CommandContext,
    key: Option<&str>,
) -> Result<(), AggregateError<A::Error>>
where
    A::Error: Refusal,
{
    let unexpected = |error: serde_json::Error| AggregateError::UnexpectedError(Box::new(error));
    let mut sequences = Vec::with_capacity(events.len());
    let mut types = Vec::with_capacity(events.len());
    let mut versions = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    for (offset, event) in events.iter().enumerate() {
        sequences.push((after + offset + 1) as i64);
        types.push(event.event_type());
        versions.push(event.event_version());
        let payload = serde_json::to_string(event).map_err(unexpected)?;
        if let Some(field) = stored_text::nul_in(&payload) {
            return Err(AggregateError::UnexpectedError(Box::new(NulInText {
                field,
            })));
        }
        payloads.push(payload);
    }
    let mut metadata = context.metadata();
    if let Some(key) = key {
        metadata.insert("command_key".to_owned(), key.to_owned());
    }
    let metadata = serde_json::to_string(&metadata).map_err(unexpected)?;
    if let Some(field) = stored_text::nul_in(&format!("{{\"metadata\":{metadata}}}")) {
        return Err(AggregateError::UnexpectedError(Box::new(NulInText {
            field,
        })));
    }
    let insert = sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::json, $7::json \
         FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[]) \
              AS e(sequence, event_type, event_version, payload) \
         RETURNING sequence, event_type, event_version, payload, metadata, global_position, recorded_at",
    )
    .bind(A::TYPE)
    .bind(aggregate_id)
    .bind(&sequences)
    .bind(&types)
    .bind(&versions)
    .bind(&payloads)
    .bind(&metadata);
    // Without inline read models the INSERT is its own transaction (one round trip).
    let inserted = if inline.is_empty() {
        insert.execute(pool).await.map(|_| ())
    } else {
        inline::append_and_apply(pool, insert, A::TYPE, aggregate_id, inline).await
    };
    match inserted {
        Ok(_) => Ok(()),
        Err(error) => {
            let database = error.as_database_error();
            let code = database
                .and_then(|db| db.code())
                .map(|code| code.into_owned());
            let refusal = database
                .and_then(|db| db.constraint())
                .and_then(A::Error::from_store_constraint);
            match (code.as_deref(), refusal) {
                // A rule of the store named by a trigger, before the events' key.
                (_, Some(refusal)) => Err(AggregateError::UserError(refusal)),
                // Another writer got there first, or Postgres chose this one as
                // a deadlock's or a serialization failure's victim: run it again.
                (Some("23505" | "40P01" | "40001"), _) => Err(AggregateError::AggregateConflict),
                _ => Err(AggregateError::DatabaseConnectionError(Box::new(error))),
            }
        }
    }
}
