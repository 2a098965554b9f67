//! Refund calls: every refund the domain recorded as requested is asked of the
//! provider here, outside any transaction. The refund executor (a projection)
//! records the intent in `refund_calls` in its worker's transaction; this loop takes
//! due calls under a lease, asks through the payments use case (under the refund's
//! own id as Idempotence-Key, or re-reading a refund the provider already has), and
//! records the answer:
//! - a verdict (succeeded, failed, canceled, already settled): the call is done;
//! - the provider still working on it (pending): asked again later, like a pending
//!   payment, until it has a verdict;
//! - no verdict (unreachable, a timeout, 5xx, 429) or the store unavailable: tried
//!   again with backoff, without a limit;
//! - anything else (a bug): the call is parked with its error, for an operator.
//!
//! A crash between taking a call and recording its answer leaves the lease to
//! expire; the call is then asked again under the same key, so the provider makes
//! the refund once.

use std::sync::Arc;
use std::time::Duration;

use domain::use_cases::Core;
use domain::use_cases::payments::RefundState;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use uuid::Uuid;

use crate::worker::retrying::backoff;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundCallSettings {
    /// How often due calls are looked for when nothing woke the loop.
    pub poll: Duration,
    /// How long a taken call is kept from others: longer than the provider client's
    /// longest call with all its attempts.
    pub lease: Duration,
    /// The pause after the first try without a verdict; it doubles per try.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// The pause before re-reading a refund the provider has pending; it doubles.
    pub first_pending_check: Duration,
    pub max_pending_check: Duration,
}

impl Default for RefundCallSettings {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(120),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(30),
            first_pending_check: Duration::from_secs(30),
            max_pending_check: Duration::from_secs(1_800),
        }
    }
}

/// The loop that makes refund calls. [`RefundCalls::waker`] is given to the refund
/// executor so a new call is made at once.
pub struct RefundCalls {
    pool: PgPool,
    core: Arc<Core>,
    wake: Arc<Notify>,
    settings: RefundCallSettings,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundRound {
    pub settled: usize,
    pub pending: usize,
    pub retrying: usize,
    pub parked: usize,
}

impl RefundCalls {
    pub fn new(pool: PgPool, core: Arc<Core>, settings: RefundCallSettings) -> Self {
        Self {
            pool,
            core,
            wake: Arc::new(Notify::new()),
            settings,
        }
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.run_due().await {
                Ok(round) if round != RefundRound::default() => {
                    info!(?round, "refund calls made");
                }
                Ok(_) => {}
                Err(error) => warn!(%error, "refund calls could not be read; trying again"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.settings.poll) => {}
            }
        }
    }

    /// Makes every call that is due now, a few at a time.
    pub async fn run_due(&self) -> Result<RefundRound, sqlx::Error> {
        let mut round = RefundRound::default();
        loop {
            let taken = self.take(8).await?;
            if taken.is_empty() {
                return Ok(round);
            }
            for (payment_id, refund_id, attempts) in taken {
                self.call(payment_id, &refund_id, attempts, &mut round)
                    .await?;
            }
        }
    }

    /// Takes up to `limit` due calls under a lease, in a statement of its own.
    async fn take(&self, limit: i64) -> Result<Vec<(Uuid, String, i32)>, sqlx::Error> {
        sqlx::query_as(
            "UPDATE refund_calls c SET leased_until = now() + $2 * interval '1 millisecond', \
                    attempts = c.attempts + 1 \
             FROM (SELECT payment_id, refund_id FROM refund_calls \
                   WHERE parked_at IS NULL AND due_at <= now() \
                     AND (leased_until IS NULL OR leased_until < now()) \
                   ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) due \
             WHERE c.payment_id = due.payment_id AND c.refund_id = due.refund_id \
             RETURNING c.payment_id, c.refund_id, c.attempts",
        )
        .bind(limit)
        .bind(self.settings.lease.as_millis() as f64)
        .fetch_all(&self.pool)
        .await
    }

    async fn call(
        &self,
        payment_id: Uuid,
        refund_id: &str,
        attempts: i32,
        round: &mut RefundRound,
    ) -> Result<(), sqlx::Error> {
        let payment = payment_id.to_string();
        match self.core.execute_refund(&payment, refund_id).await {
            Ok(RefundState::Pending) => {
                round.pending += 1;
                let pause = backoff(
                    i64::from(attempts),
                    self.settings.first_pending_check,
                    self.settings.max_pending_check,
                );
                self.again(payment_id, refund_id, pause, "pending at the provider")
                    .await
            }
            Ok(_) => {
                round.settled += 1;
                sqlx::query("DELETE FROM refund_calls WHERE payment_id = $1 AND refund_id = $2")
                    .bind(payment_id)
                    .bind(refund_id)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
            }
            Err(failure) if failure.is_transient() => {
                round.retrying += 1;
                let pause = backoff(
                    i64::from(attempts),
                    self.settings.first_retry,
                    self.settings.max_retry,
                );
                warn!(payment = %payment_id, refund = refund_id, attempts, reason = %failure.message, ?pause, "a refund got no verdict; asking again");
                self.again(payment_id, refund_id, pause, &failure.message)
                    .await
            }
            Err(failure) => {
                round.parked += 1;
                error!(payment = %payment_id, refund = refund_id, reason = %failure.message, "a refund call can never be made; parked");
                sqlx::query(
                    "UPDATE refund_calls SET parked_at = now(), leased_until = NULL, last_error = $3 \
                     WHERE payment_id = $1 AND refund_id = $2",
                )
                .bind(payment_id)
                .bind(refund_id)
                .bind(&failure.message)
                .execute(&self.pool)
                .await
                .map(|_| ())
            }
        }
    }

    async fn again(
        &self,
        payment_id: Uuid,
        refund_id: &str,
        pause: Duration,
        why: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE refund_calls SET due_at = now() + $3 * interval '1 millisecond', \
                    leased_until = NULL, last_error = $4 \
             WHERE payment_id = $1 AND refund_id = $2",
        )
        .bind(payment_id)
        .bind(refund_id)
        .bind(pause.as_millis() as f64)
        .bind(why)
        .execute(&self.pool)
        .await
        .map(|_| ())
    }
}
