//! The operator's commands on parked events (`ledgerbot parked …`) and the
//! auditor's (`ledgerbot replay …`).

use std::sync::Arc;

use projections::ProjectionName;
use projections::worker::parked::{self, ParkedEvent, RetryOutcome};
use tokio::sync::Notify;

use super::{StartupError, offline_core, prepare_database, workers};
use crate::config::Settings;

fn known(projection: &str) -> Result<(), StartupError> {
    if ProjectionName::ALL
        .iter()
        .any(|name| name.as_str() == projection)
    {
        return Ok(());
    }
    let names: Vec<&str> = ProjectionName::ALL
        .iter()
        .map(|name| name.as_str())
        .collect();
    Err(StartupError::UnknownProjection {
        name: projection.to_owned(),
        known: names.join(", "),
    })
}

/// The parked events of `projection` (of all with `None`).
pub async fn parked_list(
    settings: &Settings,
    projection: Option<&str>,
) -> Result<Vec<ParkedEvent>, StartupError> {
    if let Some(name) = projection {
        known(name)?;
    }
    let pool = prepare_database(settings).await?;
    let listed = parked::list(&pool, projection).await;
    pool.close().await;
    listed.map_err(|error| StartupError::Parked(error.to_string()))
}

/// Applies `projection`'s parked events again (only `aggregate_id`'s with `Some`).
pub async fn parked_retry(
    settings: &Settings,
    projection: &str,
    aggregate_id: Option<&str>,
) -> Result<Vec<RetryOutcome>, StartupError> {
    known(projection)?;
    let pool = prepare_database(settings).await?;
    let core = Arc::new(offline_core(pool.clone(), settings)?);
    let all = workers::projections(
        settings,
        &core,
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    );
    let outcome = match all.iter().find(|candidate| candidate.name() == projection) {
        Some(found) => parked::retry(&pool, found.as_ref(), aggregate_id)
            .await
            .map_err(|error| StartupError::Parked(error.to_string())),
        None => Err(StartupError::Parked(format!(
            "the workers part does not run {projection}"
        ))),
    };
    pool.close().await;
    outcome
}

/// Runs `work` on a small pool over the store as it is, without migrating it (an
/// auditor's read changes nothing), and closes the pool.
async fn on_store<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&sqlx::PgPool) -> Result<T, replay::ReplayError>,
) -> Result<T, StartupError> {
    let pool = domain::event_store::connect(&settings.database.url, 2).await?;
    let outcome = work(&pool).await;
    pool.close().await;
    Ok(outcome?)
}

/// Every event of one aggregate (`ledgerbot replay history`).
pub async fn replay_history(
    settings: &Settings,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<replay::history::HistoryEvent>, StartupError> {
    replay::known_type(aggregate_type)?;
    on_store(settings, async |pool| {
        replay::history::history(pool, aggregate_type, aggregate_id).await
    })
    .await
}

/// One aggregate as of `at` (`ledgerbot replay state`).
pub async fn replay_state(
    settings: &Settings,
    aggregate_type: &str,
    aggregate_id: &str,
    at: replay::state::Point,
) -> Result<replay::state::StateAt, StartupError> {
    replay::known_type(aggregate_type)?;
    on_store(settings, async |pool| {
        replay::state::state(pool, aggregate_type, aggregate_id, at).await
    })
    .await
}

/// What changed in one aggregate between two points (`ledgerbot replay diff`).
pub async fn replay_diff(
    settings: &Settings,
    aggregate_type: &str,
    aggregate_id: &str,
    from: replay::state::Point,
    to: replay::state::Point,
) -> Result<replay::state::Diff, StartupError> {
    replay::known_type(aggregate_type)?;
    on_store(settings, async |pool| {
        replay::state::diff(pool, aggregate_type, aggregate_id, from, to).await
    })
    .await
}

/// Every chain verified, against a checkpoint when given (`ledgerbot replay verify`).
pub async fn replay_verify(
    settings: &Settings,
    against: Option<replay::checkpoint::Checkpoint>,
) -> Result<replay::verify::Report, StartupError> {
    on_store(settings, async |pool| {
        replay::verify::verify(pool, against).await
    })
    .await
}

/// Every head signed into `out` (`ledgerbot replay checkpoint`).
pub async fn replay_checkpoint(
    settings: &Settings,
    key: &std::path::Path,
    out: &std::path::Path,
) -> Result<replay::checkpoint::Written, StartupError> {
    on_store(settings, async |pool| {
        replay::checkpoint::checkpoint(pool, key, out).await
    })
    .await
}

/// `projection` (or every read model, for `all`) rebuilt from the store, one after
/// another; with `verify`, compared instead of switched (`ledgerbot replay rebuild`).
pub async fn replay_rebuild(
    settings: &Settings,
    projection: &str,
    verify: bool,
) -> Result<Vec<Result<replay::rebuild::Rebuilt, replay::ReplayError>>, StartupError> {
    if projection != "all" {
        known(projection)?;
    }
    let pool = prepare_database(settings).await?;
    let core = Arc::new(offline_core(pool.clone(), settings)?);
    let all = workers::projections(
        settings,
        &core,
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    );
    let chosen: Vec<&Arc<dyn projections::worker::Projection>> = all
        .iter()
        .filter(|candidate| {
            if projection == "all" {
                candidate.rebuildable().is_some()
            } else {
                candidate.name() == projection
            }
        })
        .collect();
    let chosen: Vec<&dyn projections::worker::Projection> = chosen
        .into_iter()
        .map(|projection| projection.as_ref())
        .collect();
    let rebuilt = replay::rebuild::rebuild_all(&pool, &chosen, verify).await;
    pool.close().await;
    Ok(rebuilt?)
}

/// The events of `range` to `out` (standard output with `None`), streamed
/// (`ledgerbot replay export events`).
pub async fn replay_export_events(
    settings: &Settings,
    range: &replay::export::EventRange,
    format: replay::export::Format,
    out: Option<&std::path::Path>,
) -> Result<u64, StartupError> {
    replay::export::check_events(range, format)?;
    let mut writer: Box<dyn std::io::Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(replay::ReplayError::Output)?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    on_store(settings, async |pool| {
        replay::export::events(pool, range, format, writer.as_mut()).await
    })
    .await
}

/// The tax ledger of `period` (`ledgerbot replay export tax-ledger`).
pub async fn replay_export_tax_ledger(
    settings: &Settings,
    period: replay::export::TaxPeriod,
    format: replay::export::Format,
    out: &std::path::Path,
) -> Result<replay::export::Files, StartupError> {
    on_store(settings, async |pool| {
        replay::export::tax_ledger(pool, period, format, out).await
    })
    .await
}

/// The receipts register of `month` (`ledgerbot replay export receipts`).
pub async fn replay_export_receipts(
    settings: &Settings,
    month: replay::export::TaxPeriod,
    format: replay::export::Format,
    out: &std::path::Path,
) -> Result<replay::export::Files, StartupError> {
    on_store(settings, async |pool| {
        replay::export::receipts(pool, month, format, out).await
    })
    .await
}

/// The analysts' read-only role (`ledgerbot replay analyst-role`).
pub async fn replay_analyst_role(
    settings: &Settings,
    name: &str,
    password: Option<&str>,
) -> Result<replay::analysts::AnalystRole, StartupError> {
    let pool = prepare_database(settings).await?;
    let role = replay::analysts::analyst_role(&pool, name, password).await;
    pool.close().await;
    Ok(role?)
}
