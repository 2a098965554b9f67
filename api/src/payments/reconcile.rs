//! Payments YooKassa never told us about: a notification lost for good (the webhook URL
//! misconfigured, 24 hours of redeliveries missed). Now and then, pending payments
//! between a few minutes and a week old are read from YooKassa's API and applied the
//! same way a notification would be, so a paid customer is never left waiting.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::webhook::{Applied, apply_payment};
use crate::http::AppState;

/// How often the pending payments are looked at.
pub const ROUND: Duration = Duration::from_secs(300);

/// One round: returns how many payments it settled.
pub async fn reconcile_once(state: &AppState) -> Result<usize, sqlx::Error> {
    let pending: Vec<(String, String)> = sqlx::query_as(
        "SELECT payment_id, provider_payment_id FROM rm_payments \
         WHERE status = 'pending' AND provider_payment_id IS NOT NULL \
           AND created_at < now() - interval '5 minutes' AND created_at > now() - interval '7 days' \
         ORDER BY created_at LIMIT 100",
    )
    .fetch_all(&state.pool)
    .await?;
    let mut settled = 0;
    for (payment_id, provider_id) in pending {
        match state.payments.client.get_payment(&provider_id).await {
            Ok(object) if object.status.is_final() => {
                match apply_payment(state, &state.payments, &object).await {
                    Ok(Applied::Done) => {
                        settled += 1;
                        info!(payment = %payment_id, status = object.status.as_str(), "a payment settled without its notification");
                    }
                    Ok(Applied::Ignored) => {}
                    Err(error) => {
                        warn!(payment = %payment_id, %error, "reconciling a payment failed; next round")
                    }
                }
            }
            Ok(_) => {}
            Err(error) => {
                warn!(payment = %payment_id, %error, "YooKassa did not show a pending payment; next round")
            }
        }
    }
    Ok(settled)
}

/// Runs rounds until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(ROUND) => {}
        }
        if let Err(error) = reconcile_once(&state).await {
            warn!(%error, "reading pending payments failed; next round");
        }
    }
}
