//! One rebuild's work on its own connection: the scan of the store in position
//! order, the catch-up with the live projection's checkpoints, and applying events
//! through the projection's own `apply` (a batch at once, or one by one after a
//! failure, parking what can never apply).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use projections::envelope::{EVENT_COLUMNS, EventEnvelope, StoredEvent};
use projections::worker::{Projection, Rebuildable, events_between};
use sqlx::{Connection, PgConnection};

use super::{Schemas, SharedProgress};
use crate::{ReplayError, ident};

/// A stored event, and whether the rebuild may apply it now.
#[derive(sqlx::FromRow)]
struct ScannedEvent {
    #[sqlx(flatten)]
    event: StoredEvent,
    within: bool,
}

/// Events read and applied per transaction.
const BATCH: i64 = 5_000;
/// A transient failure is tried again this many times before the rebuild gives up.
const ATTEMPTS: u32 = 10;

/// One rebuild in progress.
pub(super) struct Run<'a> {
    pub(super) projection: &'a dyn Projection,
    pub(super) schemas: &'a Schemas,
    /// The connection whose search path puts the rebuild's schema first.
    pub(super) work: PgConnection,
    pub(super) bounded: bool,
    /// The store position the scan has read up to.
    pub(super) position: i64,
    pub(super) applied: u64,
    pub(super) parked: u64,
    pub(super) progress: SharedProgress,
}

impl Run<'_> {
    /// Statistics for the rebuilt tables, so the planner knows them from the switch on.
    pub(super) async fn analyze(&mut self, spec: &Rebuildable) -> Result<(), ReplayError> {
        for table in spec.tables {
            sqlx::query(&format!(
                "ANALYZE {}.{}",
                ident(&self.schemas.rebuilt),
                ident(table)
            ))
            .execute(&mut self.work)
            .await?;
        }
        Ok(())
    }

    /// Applies every event after the scan's position, in store order; returns how
    /// many were applied.
    pub(super) async fn scan(&mut self) -> Result<u64, ReplayError> {
        // One read per batch. A bounded rebuild marks what the live projection has
        // not applied yet and leaves it to the catch-up, but still moves on past it.
        let live = ident(&self.schemas.live);
        let within = if self.bounded {
            format!(
                "EXISTS (SELECT 1 FROM {live}.projection_checkpoints c WHERE c.projection = $4 \
                 AND c.aggregate_type = e.aggregate_type AND c.aggregate_id = e.aggregate_id \
                 AND c.sequence >= e.sequence)"
            )
        } else {
            "$4::text IS NOT NULL".to_owned()
        };
        let query = format!(
            "SELECT {EVENT_COLUMNS}, {within} AS within FROM {live}.events e \
             WHERE e.aggregate_type = ANY($1) AND e.global_position > $2 \
             ORDER BY e.global_position LIMIT $3"
        );
        let mut applied = 0;
        loop {
            let rows: Vec<ScannedEvent> = sqlx::query_as(&query)
                .bind(self.projection.aggregate_types())
                .bind(self.position)
                .bind(BATCH)
                .bind(self.projection.name())
                .fetch_all(&mut self.work)
                .await?;
            let Some(last) = rows.last().map(|row| row.event.global_position) else {
                return Ok(applied);
            };
            let events: Vec<EventEnvelope> = rows
                .into_iter()
                .filter(|row| row.within)
                .map(|row| EventEnvelope::from(row.event))
                .collect();
            applied += self.apply(events).await?;
            self.position = last;
        }
    }

    /// Applies what the live projection has applied and the rebuild has not (events
    /// whose position the scan had passed before they committed, or that a bounded
    /// scan left); returns how many.
    pub(super) async fn catch_up_with_live(&mut self) -> Result<u64, ReplayError> {
        let behind: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT c.aggregate_type, c.aggregate_id, COALESCE(r.sequence, 0), c.sequence \
             FROM {live}.projection_checkpoints c \
             LEFT JOIN {rebuilt}.rebuild_applied r USING (aggregate_type, aggregate_id) \
             WHERE c.projection = $1 AND c.sequence > COALESCE(r.sequence, 0)",
            live = ident(&self.schemas.live),
            rebuilt = ident(&self.schemas.rebuilt)
        ))
        .bind(self.projection.name())
        .fetch_all(&mut self.work)
        .await?;
        let mut applied = 0;
        for chunk in behind.chunks(1_000) {
            let types: Vec<&str> = chunk.iter().map(|key| key.0.as_str()).collect();
            let ids: Vec<&str> = chunk.iter().map(|key| key.1.as_str()).collect();
            let after: Vec<i64> = chunk.iter().map(|key| key.2).collect();
            let upto: Vec<i64> = chunk.iter().map(|key| key.3).collect();
            let rows: Vec<StoredEvent> = sqlx::query_as(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e \
                 JOIN UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS k(t, i, after, upto) \
                   ON e.aggregate_type = k.t AND e.aggregate_id = k.i AND e.sequence > k.after AND e.sequence <= k.upto \
                 ORDER BY e.global_position"
            ))
            .bind(&types)
            .bind(&ids)
            .bind(&after)
            .bind(&upto)
            .fetch_all(&mut self.work)
            .await?;
            applied += self
                .apply(rows.into_iter().map(EventEnvelope::from).collect())
                .await?;
        }
        Ok(applied)
    }

    /// Applies `events` (store order) in one transaction, each aggregate's from
    /// where the rebuild stands (earlier ones skipped, missing ones read from the
    /// store); on a failure, one by one, parking what can never apply.
    async fn apply(&mut self, events: Vec<EventEnvelope>) -> Result<u64, ReplayError> {
        if events.is_empty() {
            return Ok(0);
        }
        let count = events.len() as u64;
        let mut done = self.applied_up_to(&events).await?;
        let mut plan: Vec<EventEnvelope> = Vec::with_capacity(events.len());
        for event in events {
            let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
            let up_to = done.get(&key).map(|(sequence, _)| *sequence).unwrap_or(0);
            if event.sequence <= up_to {
                continue;
            }
            if event.sequence > up_to + 1 {
                let missing = events_between(
                    &mut self.work,
                    &event.aggregate_type,
                    &event.aggregate_id,
                    up_to,
                    event.sequence,
                )
                .await?;
                if missing.len() as i64 != event.sequence - up_to - 1 {
                    return Err(ReplayError::SequenceGap {
                        after: up_to,
                        found: event.sequence,
                    });
                }
                plan.extend(missing);
            }
            done.insert(key, (event.sequence, event.recorded_at));
            plan.push(event);
        }
        let applied = plan.len() as u64;
        let mut transaction = self.work.begin().await?;
        let refs: Vec<&EventEnvelope> = plan.iter().collect();
        match self.projection.apply_batch(&mut transaction, &refs).await {
            Ok(()) => {
                save_applied(&mut transaction, &done).await?;
                transaction.commit().await?;
            }
            Err(_) => {
                transaction.rollback().await?;
                for event in &plan {
                    self.apply_one(event).await?;
                }
            }
        }
        if let Ok(mut progress) = self.progress.lock() {
            progress.advance(count);
        }
        self.applied += applied;
        Ok(applied)
    }

    async fn applied_up_to(
        &mut self,
        events: &[EventEnvelope],
    ) -> Result<HashMap<(String, String), (i64, DateTime<Utc>)>, ReplayError> {
        let types: Vec<&str> = events.iter().map(|e| e.aggregate_type.as_str()).collect();
        let ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
        let rows: Vec<(String, String, i64, DateTime<Utc>)> = sqlx::query_as(
            "SELECT r.aggregate_type, r.aggregate_id, r.sequence, r.recorded_at FROM rebuild_applied r \
             JOIN (SELECT DISTINCT * FROM UNNEST($1::text[], $2::text[])) AS k(t, i) \
               ON r.aggregate_type = k.t AND r.aggregate_id = k.i",
        )
        .bind(&types)
        .bind(&ids)
        .fetch_all(&mut self.work)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(t, i, sequence, at)| ((t, i), (sequence, at)))
            .collect())
    }

    /// One event in its own transaction: applied, or parked when it never can be;
    /// a transient failure is tried again with a pause.
    async fn apply_one(&mut self, event: &EventEnvelope) -> Result<(), ReplayError> {
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let moved = HashMap::from([(key, (event.sequence, event.recorded_at))]);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut transaction = self.work.begin().await?;
            let error = match self.projection.apply(&mut transaction, event).await {
                Ok(()) => {
                    save_applied(&mut transaction, &moved).await?;
                    transaction.commit().await?;
                    return Ok(());
                }
                Err(error) => error,
            };
            transaction.rollback().await?;
            if error.is_permanent() {
                let mut transaction = self.work.begin().await?;
                sqlx::query(
                    "INSERT INTO rebuild_parked (aggregate_type, aggregate_id, sequence, error) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(&event.aggregate_type)
                .bind(&event.aggregate_id)
                .bind(event.sequence)
                .bind(error.to_string())
                .execute(&mut *transaction)
                .await?;
                save_applied(&mut transaction, &moved).await?;
                transaction.commit().await?;
                self.parked += 1;
                tracing::warn!(
                    projection = self.projection.name(),
                    aggregate = %format!("{}:{}", event.aggregate_type, event.aggregate_id),
                    sequence = event.sequence,
                    %error,
                    "the rebuild parked an event it cannot apply"
                );
                return Ok(());
            }
            if attempt >= ATTEMPTS {
                return Err(ReplayError::Apply {
                    aggregate: format!("{}:{}", event.aggregate_type, event.aggregate_id),
                    sequence: event.sequence,
                    error,
                });
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
    }
}

async fn save_applied(
    connection: &mut PgConnection,
    done: &HashMap<(String, String), (i64, DateTime<Utc>)>,
) -> Result<(), ReplayError> {
    let mut types = Vec::with_capacity(done.len());
    let mut ids = Vec::with_capacity(done.len());
    let mut sequences = Vec::with_capacity(done.len());
    let mut times = Vec::with_capacity(done.len());
    for ((aggregate_type, aggregate_id), (sequence, at)) in done {
        types.push(aggregate_type.as_str());
        ids.push(aggregate_id.as_str());
        sequences.push(*sequence);
        times.push(*at);
    }
    sqlx::query(
        "INSERT INTO rebuild_applied (aggregate_type, aggregate_id, sequence, recorded_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::timestamptz[]) \
         ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE \
         SET sequence = GREATEST(rebuild_applied.sequence, EXCLUDED.sequence), \
             recorded_at = CASE WHEN EXCLUDED.sequence > rebuild_applied.sequence \
                                THEN EXCLUDED.recorded_at ELSE rebuild_applied.recorded_at END",
    )
    .bind(&types)
    .bind(&ids)
    .bind(&sequences)
    .bind(&times)
    .execute(connection)
    .await?;
    Ok(())
}
