//! `replay rebuild <projection>|all [--verify]`: a read model built again from the
//! event store (not from NATS) into tables of its own schema beside the live ones,
//! while the service keeps serving and accepting commands; then caught up with what
//! the live projection applied meanwhile and switched in atomically (`switch.rs`),
//! or, with `--verify`, compared with the live tables row for row (`compare.rs`)
//! and thrown away. `run.rs` is the work on the rebuild's own connection.
//!
//! The projection's own `apply` writes the rebuilt tables: the rebuild's connection
//! puts its schema first on the search path, so the unqualified names the read
//! model writes resolve there, while `events` and everything it does not own still
//! resolve to the live schema. Reactions are never rebuilt: their effects are
//! commands (`Projection::rebuildable` is `None` for them).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use projections::worker::{HOLD_PROJECTION_LOCK, Projection, Rebuildable};
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};

use crate::progress::Progress;
use crate::{ReplayError, ident};

mod compare;
mod run;
mod switch;

pub use compare::{Comparison, Difference, render};
use run::Run;

/// Catch-up rounds before the switch while the live projection keeps going.
const CATCH_UP_ROUNDS: usize = 5;
/// Read models rebuilt at once by `rebuild all`: each waits on its own round trips,
/// so a few together keep both the tool and Postgres busy.
const AT_ONCE: usize = 3;
/// How long the switch waits for a table lock (a long read holding one) before it
/// lets go and tries again, so readers never queue behind it for long.
const LOCK_TIMEOUT: &str = "2s";
const SWITCH_ATTEMPTS: u32 = 10;

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

/// Rebuilds each of `projections` (a few at once); with `verify`, compares instead
/// of switching. Each outcome in their order: one failing does not stop the others.
pub async fn rebuild_all(
    pool: &PgPool,
    projections: &[&dyn Projection],
    verify: bool,
) -> Result<Vec<Result<Rebuilt, ReplayError>>, ReplayError> {
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
    Ok(outcomes)
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
    // A connection of its own (never returned to a pool), so its search path
    // reaches nothing else; it holds the rebuild's own lock while it lives, so two
    // rebuilds of one projection never share a schema.
    let mut work = PgConnection::connect_with(&pool.connect_options()).await?;
    let alone: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_lock(hashtextextended('ledgerbot rebuild ' || $1, 0))",
    )
    .bind(name)
    .fetch_one(&mut work)
    .await?;
    if !alone {
        return Err(ReplayError::RebuildRunning(name.to_owned()));
    }
    prepare(pool, &schemas, &spec).await?;
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
        // goes past them; a switch may go ahead (a projection whose workers are
        // behind, or have never run), and the live one then skips what it applied.
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
    run.analyze(spec).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match final_step(pool, run, spec, verify).await {
            Err(error) if attempt < SWITCH_ATTEMPTS && error.is_lock_timeout() => {
                tracing::warn!(
                    projection = run.projection.name(),
                    attempt,
                    "the switch waited too long for a table a reader holds; trying again"
                );
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            outcome => return outcome,
        }
    }
}

/// Under the projection's lock: the last catch-up, then the switch, or a snapshot in
/// which the comparison runs after the lock is let go.
async fn final_step(
    pool: &PgPool,
    run: &mut Run<'_>,
    spec: &Rebuildable,
    verify: bool,
) -> Result<Option<Comparison>, ReplayError> {
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
    // Only the tables' locks are bounded (another switch is waited for as long as
    // it takes).
    sqlx::query(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        .execute(&mut *held)
        .await?;
    run.catch_up_with_live().await?;
    if !verify {
        switch::switch(&mut held, run.projection.name(), run.schemas, spec).await?;
        held.commit().await?;
        return Ok(None);
    }
    // The comparison sees the moment both sides were equal in their checkpoints,
    // while the workers go on.
    let exported: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *held)
        .await?;
    let mut reader = pool.acquire().await?;
    let mut snapshot = crate::verify::begin_snapshot(&mut reader).await?;
    sqlx::query(&format!(
        "SET TRANSACTION SNAPSHOT '{}'",
        exported.replace('\'', "")
    ))
    .execute(&mut *snapshot)
    .await?;
    held.rollback().await?;
    let comparison = compare::compare(&mut snapshot, run.schemas, spec).await?;
    snapshot.rollback().await?;
    drop_schema(pool, &run.schemas.rebuilt).await?;
    Ok(Some(comparison))
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
