//! The composition of the core: the use cases over a pool, with what the businesses
//! sell, the payment provider and the inline read models; and the owners granted at
//! start.

use std::sync::Arc;

use domain::command::Commands;
use domain::use_cases::{Core, Offer};
use projections::worker::ProjectionMetrics;
use sqlx::PgPool;
use tracing::info;

use super::{StartupError, ai, prepare_database};
use crate::config::Settings;
use crate::payments::PaymentGateway;

/// The use cases over `pool`, with what the businesses sell, YooKassa (or the
/// sandbox) as the payment provider, and the inline read models (counted in
/// `metrics`).
pub fn core_over(
    pool: PgPool,
    settings: &Settings,
    payments: &PaymentGateway,
    public_url: &str,
    metrics: &ProjectionMetrics,
) -> Core {
    Core::new(
        pool.clone(),
        Arc::new(Commands::over(pool).with_inline(&projections::read_models::inline(metrics))),
        Offer {
            catalogue: settings.catalogue.clone(),
            shopfront: settings.shopfront.clone(),
            salon: settings.salon,
            booking_rules: settings.booking_rules,
        },
        Arc::new(payments.client.clone()),
        payments.rules.clone(),
        ai::files(settings, public_url),
        ai::ai(settings),
    )
}

/// YooKassa (or the sandbox this process serves at `own_url`), and the public URL.
pub(super) fn gateway(
    settings: &Settings,
    pool: &PgPool,
    own_url: String,
) -> Result<(PaymentGateway, String), StartupError> {
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| own_url.clone());
    let payments = PaymentGateway::new(&settings.payments, pool.clone(), &own_url, &public_url)
        .map_err(|error| StartupError::Payments(error.to_string()))?;
    Ok((payments, public_url))
}

/// `ledgerbot owner grant`: migrates, then grants the owner role to `telegram_id`.
pub async fn grant_owner(
    settings: &Settings,
    telegram_id: i64,
    reason: &str,
) -> Result<domain::use_cases::owners::OwnerGrantOutcome, StartupError> {
    let pool = prepare_database(settings).await?;
    let core = offline_core(pool.clone(), settings)?;
    let outcome = core
        .grant_owner(telegram_id, reason, "command-line")
        .await
        .map_err(|error| StartupError::Owners(error.message));
    pool.close().await;
    outcome
}

/// The core for a one-shot command that takes no payment (an owner grant, a parked
/// event applied again): with no payment mode chosen, the sandbox stands in, unused.
pub(crate) fn offline_core(pool: PgPool, settings: &Settings) -> Result<Core, StartupError> {
    let mut settings = settings.clone();
    if settings.payments.mode.is_none() {
        settings.payments.mode = Some(crate::config::PaymentMode::Sandbox);
    }
    let (payments, public_url) =
        gateway(&settings, &pool, format!("http://{}", settings.http_addr))?;
    // A one-shot command's inline applies are not served on any /metrics.
    Ok(core_over(
        pool,
        &settings,
        &payments,
        &public_url,
        &ProjectionMetrics::default(),
    ))
}

/// `LEDGERBOT_OWNER_TELEGRAM_IDS`: owners granted at every start (a repeat changes
/// nothing), for deployments configured by environment.
pub(super) async fn grant_configured_owners(
    core: &Core,
    telegram_ids: &[i64],
) -> Result<(), StartupError> {
    for telegram_id in telegram_ids {
        let outcome = core
            .grant_owner(*telegram_id, "LEDGERBOT_OWNER_TELEGRAM_IDS", "environment")
            .await
            .map_err(|error| StartupError::Owners(error.message))?;
        info!(
            telegram_id,
            ?outcome,
            "owner granted by LEDGERBOT_OWNER_TELEGRAM_IDS"
        );
    }
    Ok(())
}
