//! The refund calls loop: takes due refund calls one at a time under a lease and makes
//! them through the payments use case, outside any transaction
//! (`domain::use_cases::payments::refund_calls` says how a call ends). Any number of
//! workers processes run it; the lease keeps a call to one of them.

use std::sync::Arc;
use std::time::Duration;

use domain::use_cases::Core;
use domain::use_cases::payments::{CallOutcome, RefundCallPauses};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

/// How often due calls are looked for when nothing woke the loop.
const POLL: Duration = Duration::from_secs(1);

/// The loop that makes refund calls. [`RefundCalls::waker`] is given to the refund
/// executor so a new call is made at once.
pub struct RefundCalls {
    core: Arc<Core>,
    wake: Arc<Notify>,
    pauses: RefundCallPauses,
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
    pub fn new(core: Arc<Core>, pauses: RefundCallPauses) -> Self {
        Self {
            core,
            wake: Arc::new(Notify::new()),
            pauses,
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
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Makes every call that is due now, one at a time (each under its own lease).
    pub async fn run_due(&self) -> Result<RefundRound, sqlx::Error> {
        let mut round = RefundRound::default();
        while let Some(call) = self.core.take_due_refund_call().await? {
            match self.core.make_refund_call(&call, &self.pauses).await? {
                CallOutcome::Done(_) => round.settled += 1,
                CallOutcome::Pending => round.pending += 1,
                CallOutcome::AskAgain(failure) => {
                    round.retrying += 1;
                    warn!(payment = %call.payment_id, refund = call.refund_id, attempts = call.attempts, reason = %failure.message, "a refund got no verdict; asking again later");
                }
                CallOutcome::Parked(failure) => {
                    round.parked += 1;
                    error!(payment = %call.payment_id, refund = call.refund_id, reason = %failure.message, "a refund call can never be made as it is; parked");
                }
            }
        }
        Ok(round)
    }
}
