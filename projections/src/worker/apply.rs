//! Applying events in one transaction with their checkpoints: repeats skipped, gaps
//! filled from the store first, and, when it fails, which event failed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::projection::{ApplyError, Projection};
use super::{checkpoint, key_of, retrying, store};
use crate::envelope::EventEnvelope;

/// A failed application: why, and the event that failed when it is known and is not
/// the last one asked for (an event of a gap, read from the store).
pub(super) struct Failure {
    pub error: ApplyError,
    pub at: Option<((String, String), i64)>,
}

impl<E: Into<ApplyError>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure {
            error: error.into(),
            at: None,
        }
    }
}

/// Applies `events` (in stream order) in one transaction, with the checkpoints, and
/// forgets the failures of every aggregate it held. Returns how many events were
/// applied (skipped repeats not counted). `one_by_one` applies each event on its own
/// (not as a batch) so a failure names the event.
pub(super) async fn apply_all<P: Projection + ?Sized>(
    pool: &PgPool,
    projection: &P,
    events: &[&EventEnvelope],
    one_by_one: bool,
) -> Result<u64, Failure> {
    // A batch whose events are all applied already (inline, by another instance, a
    // redelivery) is answered without a transaction or a lock: what a checkpoint
    // covers stays covered, and a rebuild's switch, which this read does not wait
    // for, raises the checkpoints only once its tables hold everything they cover.
    let mut connection = pool.acquire().await?;
    let applied = checkpoint::read_unlocked(&mut connection, projection.name(), events).await?;
    // Only what is still pending is locked and applied (read once, here).
    let pending: Vec<&EventEnvelope> = events
        .iter()
        .copied()
        .filter(|event| event.sequence > applied.get(&key_of(event)).copied().unwrap_or(0))
        .collect();
    if pending.is_empty() {
        let keys: Vec<(String, String)> = events.iter().map(|event| key_of(event)).collect();
        let keys: Vec<&(String, String)> = keys.iter().collect();
        retrying::clear_covered(&mut connection, projection.name(), &keys).await?;
        return Ok(0);
    }
    drop(connection);
    let mut transaction = pool.begin().await?;
    let applied = apply_in(&mut transaction, projection, &pending, one_by_one).await?;
    transaction.commit().await?;
    Ok(applied)
}

/// What [`apply_all`] does, inside a transaction the caller commits: the worker's
/// own, or a command's (an inline read model, `super::inline`).
pub(super) async fn apply_in<P: Projection + ?Sized>(
    transaction: &mut PgConnection,
    projection: &P,
    events: &[&EventEnvelope],
    one_by_one: bool,
) -> Result<u64, Failure> {
    let name = projection.name();
    sqlx::query(super::projection::SHARE_PROJECTION_LOCK)
        .bind(name)
        .execute(&mut *transaction)
        .await?;
    let keys: Vec<(String, String)> = events
        .iter()
        .map(|event| (event.aggregate_type.clone(), event.aggregate_id.clone()))
        .collect();
    let mut applied_up_to = checkpoint::lock(transaction, name, &keys).await?;
    let mut last_recorded: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
    // Events to apply, in order: each one after the store's copies of any it
    // skipped (gaps), borrowed rather than copied.
    let mut plan: Vec<(Option<usize>, &EventEnvelope)> = Vec::with_capacity(events.len());
    let mut gaps: Vec<Vec<EventEnvelope>> = Vec::new();
    for event in events.iter().copied() {
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let done = applied_up_to.get(&key).copied().unwrap_or(0);
        if event.sequence <= done {
            continue;
        }
        if event.sequence > done + 1 {
            let missing = store::events_between(
                transaction,
                &event.aggregate_type,
                &event.aggregate_id,
                done,
                event.sequence,
            )
            .await?;
            if missing.len() as i64 != event.sequence - done - 1 {
                return Err(ApplyError::MissingFromStore {
                    aggregate: format!("{}:{}", event.aggregate_type, event.aggregate_id),
                    from: done + 1,
                    to: event.sequence - 1,
                }
                .into());
            }
            gaps.push(missing);
            plan.push((Some(gaps.len() - 1), event));
        } else {
            plan.push((None, event));
        }
        applied_up_to.insert(key.clone(), event.sequence);
        last_recorded.insert(key, event.recorded_at);
    }
    let mut to_apply: Vec<&EventEnvelope> = Vec::with_capacity(plan.len());
    for (gap, event) in plan {
        if let Some(gap) = gap.and_then(|index| gaps.get(index)) {
            to_apply.extend(gap.iter());
        }
        to_apply.push(event);
    }
    if one_by_one {
        for event in &to_apply {
            if let Err(error) = projection.apply(transaction, event).await {
                return Err(Failure {
                    error,
                    at: Some((
                        (event.aggregate_type.clone(), event.aggregate_id.clone()),
                        event.sequence,
                    )),
                });
            }
        }
    } else if !to_apply.is_empty() {
        projection.apply_batch(transaction, &to_apply).await?;
    }
    checkpoint::save(transaction, name, &applied_up_to, &last_recorded).await?;
    let held: Vec<&(String, String)> = keys.iter().collect();
    retrying::clear(transaction, name, &held).await?;
    Ok(to_apply.len() as u64)
}
