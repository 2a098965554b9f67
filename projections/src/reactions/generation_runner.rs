//! The generation runner: takes due jobs under a lease and makes their attempts at
//! the image provider through the generation use case, outside any transaction, a
//! few at a time (`domain::use_cases::generation` says how an attempt ends). Any
//! number of workers processes run it; the lease keeps a job to one of them, and a
//! user's limit of running jobs is kept by the take.

use std::sync::Arc;
use std::time::Duration;

use domain::use_cases::Core;
use domain::use_cases::generation::AttemptOutcome;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How often due jobs are looked for when nothing woke the runner.
const POLL: Duration = Duration::from_millis(500);

pub struct GenerationRunner {
    core: Arc<Core>,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
}

impl GenerationRunner {
    /// `concurrency`: how many attempts this process makes at once.
    pub fn new(core: Arc<Core>, concurrency: usize) -> Self {
        Self {
            core,
            wake: Arc::new(Notify::new()),
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut attempts = tokio::task::JoinSet::new();
        loop {
            while attempts.try_join_next().is_some() {}
            loop {
                let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                    break;
                };
                let call = match self.core.take_due_generation().await {
                    Ok(Some(call)) => call,
                    Ok(None) => break,
                    Err(error) => {
                        warn!(%error, "due generations could not be read; trying again");
                        break;
                    }
                };
                let core = self.core.clone();
                let wake = self.wake.clone();
                attempts.spawn(async move {
                    match core.attempt_generation(&call).await {
                        Ok(AttemptOutcome::Succeeded(file)) => {
                            info!(job_id = %call.job_id, attempt = call.attempts, result_file = %file, "a generation succeeded");
                        }
                        Ok(AttemptOutcome::Retrying { after, error }) => {
                            info!(job_id = %call.job_id, attempt = call.attempts, ?after, %error, "a generation will be tried again");
                        }
                        Ok(AttemptOutcome::Failed(reason)) => {
                            info!(job_id = %call.job_id, attempt = call.attempts, %reason, "a generation failed");
                        }
                        Ok(AttemptOutcome::Dropped) => {}
                        Err(error) => {
                            // The lease runs out and the job is taken again.
                            warn!(job_id = %call.job_id, %error, "a generation attempt could not be recorded");
                        }
                    }
                    drop(slot);
                    wake.notify_one();
                });
            }
            tokio::select! {
                _ = shutdown.cancelled() => {
                    // Attempts in flight are cut off; their leases run out and another
                    // runner takes them as their next attempt.
                    attempts.abort_all();
                    return;
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
