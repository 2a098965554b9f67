//! `replay rebuild <projection>|all [--verify]`: a read model built again from the
//! event store (not from NATS) into tables of its own schema beside the live ones,
//! while the service keeps serving and accepting commands; then caught up with what
//! the live projection applied meanwhile and switched in atomically (`switch.rs`),
//! or, with `--verify`, compared with the live tables row for row (`compare.rs`)
//! and thrown away.
//!
//! The projection's own `apply` writes the rebuilt tables: the rebuild's connection
//! puts its schema first on the search path, so the unqualified names the read
//! model writes resolve there, while `events` and everything it does not own still
//! resolve to the live schema. Reactions are never rebuilt: their effects are
//! commands (`Projection::rebuildable` is `None` for them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use projections::envelope::{EVENT_COLUMNS, EventEnvelope, StoredEvent};
use projections::worker::{HOLD_PROJECTION_LOCK, Projection, Rebuildable, events_between};
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};

use crate::ReplayError;
use crate::compare::{Comparison, compare};
use crate::progress::Progress;
use crate::switch::switch;

/// Events read and applied per transaction.
const BATCH: i64 = 5_000;
/// Catch-up rounds before the switch while the live projection keeps going.
const CATCH_UP_ROUNDS: usize = 5;
/// A transient failure is tried again this many times before the rebuild gives up.
const ATTEMPTS: u32 = 10;
/// Read models rebuilt at once by `rebuild all`: each waits on its own round trips,
/// so a few together keep both the tool and Postgres busy.
const AT_ONCE: usize = 3;

/// One progress line for every rebuild running.
type SharedProgress = Arc<Mutex<Progress>>;

/// What a rebuild did.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuilt {
    pub projection: String,
    pub tables: Vec<String>,
    /// Events applied to the rebuilt tables.
    pub events: u64,
    /// Events it could not apply (as the live projection parks them).
    pub parked: u64,
    pub seconds: f64,
    pub events_per_second: f64,
    /// Whether the rebuilt tables replaced the live ones.
    pub switched: bool,
    /// With `--verify`: how the rebuilt tables differ from the live ones.
    pub comparison: Option<Comparison>,
}

/// The schemas of one rebuild.
pub(crate) struct Schemas {
    /// Where the service's tables are (the database's current schema).
    pub(crate) live: String,
    /// Where the rebuild writes.
    pub(crate) rebuilt: String,
}

/// Rebuilds each of `projections` (a few at once), in their order; with `verify`,
/// compares instead of switching. The first failure is returned once the others
/// have finished.
pub async fn rebuild_all(
    pool: &PgPool,
    projections: &[&dyn Projection],
    verify: bool,
) -> Result<Vec<Rebuilt>, ReplayError> {
    for projection in projections {
        if projection.rebuildable().is_none() {
            return Err(ReplayError::NotRebuildable(projection.name().to_owned()));
        }
    }
    let mut total = 0;
    for projection in projections {
        let events: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = ANY($1)")
                .bind(projection.aggregate_types())
                .fetch_one(pool)
                .await?;
        total += events.max(0) as u64;
    }
    let progress = Arc::new(Mutex::new(Progress::new("rebuilding", "events", total)));
    let outcomes: Vec<Result<Rebuilt, ReplayError>> = futures_util::stream::iter(projections)
        .map(|projection| rebuild(pool, *projection, verify, &progress))
        .buffered(AT_ONCE)
        .collect()
        .await;
    if let Ok(progress) = Arc::try_unwrap(progress)
        && let Ok(progress) = progress.into_inner()
    {
        progress.finish();
    }
    futures_util::stream::iter(outcomes).try_collect().await
}

/// Rebuilds `projection`; with `verify`, compares instead of switching.
async fn rebuild(
    pool: &PgPool,
    projection: &dyn Projection,
    verify: bool,
    progress: &SharedProgress,
) -> Result<Rebuilt, ReplayError> {
    let name = projection.name();
    let spec = projection
        .rebuildable()
        .ok_or_else(|| ReplayError::NotRebuildable(name.to_owned()))?;
    let started = Instant::now();
    let live: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pool)
        .await?;
    let schemas = Schemas {
        live,
        rebuilt: format!("ledgerbot_rebuild_{name}"),
    };
    prepare(pool, &schemas, &spec).await?;
    // A connection of its own (never returned to a pool), so its search path
    // reaches nothing else.
    let mut work = PgConnection::connect_with(&pool.connect_options()).await?;
    sqlx::query(&format!(
        "SET search_path TO {}, {}",
        ident(&schemas.rebuilt),
        ident(&schemas.live)
    ))
    .execute(&mut work)
    .await?;
    let mut run = Run {
        projection,
        schemas: &schemas,
        work,
        // Comparing needs the rebuild at exactly the live checkpoints, so it never
        // goes past them; a switch may go ahead (the live one then skips what the
        // rebuild applied).
        bounded: verify,
        position: 0,
        applied: 0,
        parked: 0,
        progress: progress.clone(),
    };
    let outcome = run_to_the_switch(pool, &mut run, &spec, verify).await;
    let comparison = match outcome {
        Ok(comparison) => comparison,
        Err(error) => {
            let _ = drop_schema(pool, &schemas.rebuilt).await;
            return Err(error);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    Ok(Rebuilt {
        projection: name.to_owned(),
        tables: spec
            .tables
            .iter()
            .map(|table| (*table).to_owned())
            .collect(),
        events: run.applied,
        parked: run.parked,
        seconds,
        events_per_second: run.applied as f64 / seconds.max(1e-9),
        switched: !verify,
        comparison,
    })
}

async fn run_to_the_switch(
    pool: &PgPool,
    run: &mut Run<'_>,
    spec: &Rebuildable,
    verify: bool,
) -> Result<Option<Comparison>, ReplayError> {
    run.scan().await?;
    for _ in 0..CATCH_UP_ROUNDS {
        let caught_up = run.scan().await? + run.catch_up_with_live().await?;
        if caught_up < 100 {
            break;
        }
    }
    // One switch at a time (two may share a view, as rm_user_overview reads the
    // users' and the payments' tables); then the live projection's workers wait
    // from here to the end of the transaction.
    let mut held = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('ledgerbot rebuild switch', 0))")
        .execute(&mut *held)
        .await?;
    sqlx::query(HOLD_PROJECTION_LOCK)
        .bind(run.projection.name())
        .execute(&mut *held)
        .await?;
    run.catch_up_with_live().await?;
    if verify {
        let comparison = compare(&mut held, run.schemas, spec).await?;
        held.rollback().await?;
        drop_schema(pool, &run.schemas.rebuilt).await?;
        Ok(Some(comparison))
    } else {
        switch(&mut held, run.projection.name(), run.schemas, spec).await?;
        held.commit().await?;
        Ok(None)
    }
}

/// A fresh schema with empty copies of the projection's tables and the rebuild's
/// own checkpoints and parked events.
async fn prepare(pool: &PgPool, schemas: &Schemas, spec: &Rebuildable) -> Result<(), ReplayError> {
    let rebuilt = ident(&schemas.rebuilt);
    let mut transaction = pool.begin().await?;
    let mut statements = vec![
        format!("DROP SCHEMA IF EXISTS {rebuilt} CASCADE"),
        format!("CREATE SCHEMA {rebuilt}"),
        format!(
            "CREATE TABLE {rebuilt}.rebuild_applied (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             sequence bigint NOT NULL, recorded_at timestamptz NOT NULL, PRIMARY KEY (aggregate_type, aggregate_id))"
        ),
        format!(
            "CREATE TABLE {rebuilt}.rebuild_parked (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             sequence bigint NOT NULL, error text NOT NULL, PRIMARY KEY (aggregate_type, aggregate_id, sequence))"
        ),
    ];
    for table in spec.tables {
        statements.push(format!(
            "CREATE TABLE {rebuilt}.{table} (LIKE {live}.{table} INCLUDING ALL)",
            table = ident(table),
            live = ident(&schemas.live)
        ));
    }
    for statement in statements {
        sqlx::query(&statement).execute(&mut *transaction).await?;
    }
    transaction.commit().await?;
    Ok(())
}

pub(crate) async fn drop_schema(pool: &PgPool, schema: &str) -> Result<(), ReplayError> {
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", ident(schema)))
        .execute(pool)
        .await?;
    Ok(())
}

/// A name quoted for SQL.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One rebuild in progress.
struct Run<'a> {
    projection: &'a dyn Projection,
    schemas: &'a Schemas,
    /// The connection whose search path puts the rebuild's schema first.
    work: PgConnection,
    bounded: bool,
    /// The store position the scan has read up to.
    position: i64,
    applied: u64,
    parked: u64,
    progress: SharedProgress,
}

impl Run<'_> {
    /// Applies every event after the scan's position, in store order; returns how
    /// many were applied.
    async fn scan(&mut self) -> Result<u64, ReplayError> {
        let live = ident(&self.schemas.live);
        let bound = if self.bounded {
            format!(
                "AND EXISTS (SELECT 1 FROM {live}.projection_checkpoints c WHERE c.projection = $4 \
                 AND c.aggregate_type = e.aggregate_type AND c.aggregate_id = e.aggregate_id \
                 AND c.sequence >= e.sequence)"
            )
        } else {
            "AND $4::text IS NOT NULL".to_owned()
        };
        let query = format!(
            "SELECT {EVENT_COLUMNS} FROM {live}.events e \
             WHERE e.aggregate_type = ANY($1) AND e.global_position > $2 {bound} \
             ORDER BY e.global_position LIMIT $3"
        );
        let mut applied = 0;
        loop {
            // A bounded read leaves out what the live projection has not applied yet
            // (the catch-up takes it later), so it moves on to where an unbounded
            // read of the same batch would end.
            let last: Option<i64> = if self.bounded {
                sqlx::query_scalar(&format!(
                    "SELECT max(global_position) FROM (SELECT global_position FROM {live}.events \
                     WHERE aggregate_type = ANY($1) AND global_position > $2 \
                     ORDER BY global_position LIMIT $3) batch"
                ))
                .bind(self.projection.aggregate_types())
                .bind(self.position)
                .bind(BATCH)
                .fetch_one(&mut self.work)
                .await?
            } else {
                None
            };
            let rows: Vec<StoredEvent> = sqlx::query_as(&query)
                .bind(self.projection.aggregate_types())
                .bind(self.position)
                .bind(BATCH)
                .bind(self.projection.name())
                .fetch_all(&mut self.work)
                .await?;
            let Some(last) = last.or_else(|| rows.last().map(|row| row.global_position)) else {
                return Ok(applied);
            };
            let events: Vec<EventEnvelope> = rows
                .into_iter()
                .filter(|row| row.global_position <= last)
                .map(EventEnvelope::from)
                .collect();
            applied += self.apply(events).await?;
            self.position = last;
        }
    }

    /// Applies what the live projection has applied and the rebuild has not (events
    /// whose position the scan had passed before they committed, or that a bounded
    /// scan left); returns how many.
    async fn catch_up_with_live(&mut self) -> Result<u64, ReplayError> {
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
                    error: error.to_string(),
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
