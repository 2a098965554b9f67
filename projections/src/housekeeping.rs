//! Housekeeping, once per deployment: pruning refresh tokens, login codes and old live
//! updates, reconciling payments whose notification never came. Every workers process
//! runs the loop; each round, the one that takes the advisory lock runs the jobs that
//! are due by `housekeeping_runs` (so a job runs once per period however many
//! processes run), the others do nothing. A job's failure is logged and it is tried
//! again next round.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// The advisory lock key one housekeeping round holds at a time.
const LOCK_KEY: i64 = 0x4c65_6467_486f_7573; // "LedgHous"

pub type JobFuture = Pin<Box<dyn Future<Output = Result<u64, String>> + Send>>;

/// One job: what it is called, how often it runs, and what it does (returning how
/// many things it dealt with, for the log).
#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    run: Arc<dyn Fn() -> JobFuture + Send + Sync>,
}

impl Job {
    pub fn new(
        name: &'static str,
        every: Duration,
        run: impl Fn() -> JobFuture + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            every,
            run: Arc::new(run),
        }
    }
}

pub struct Housekeeping {
    pool: PgPool,
    jobs: Vec<Job>,
    round: Duration,
}

impl Housekeeping {
    /// Jobs looked at every `round`.
    pub fn new(pool: PgPool, jobs: Vec<Job>, round: Duration) -> Self {
        Self { pool, jobs, round }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.run_once().await {
                Ok(ran) => {
                    for (job, done) in ran {
                        if done > 0 {
                            info!(job, done, "housekeeping job ran");
                        }
                    }
                }
                Err(error) => warn!(%error, "housekeeping could not run; next round"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.round) => {}
            }
        }
    }

    /// One round: the jobs due, if this process holds the lock; returns what ran
    /// and how much each did.
    pub async fn run_once(&self) -> Result<Vec<(&'static str, u64)>, sqlx::Error> {
        Ok(
            crate::advisory::while_holding(&self.pool, LOCK_KEY, self.due_jobs())
                .await?
                .unwrap_or_default(),
        )
    }

    async fn due_jobs(&self) -> Result<Vec<(&'static str, u64)>, sqlx::Error> {
        let mut ran = Vec::new();
        for job in &self.jobs {
            // By the database's clock, the one the runs are recorded in.
            let due: bool = sqlx::query_scalar(
                "SELECT NOT EXISTS (SELECT 1 FROM housekeeping_runs \
                 WHERE job = $1 AND last_run_at > now() - make_interval(secs => $2))",
            )
            .bind(job.name)
            .bind(job.every.as_secs_f64())
            .fetch_one(&self.pool)
            .await?;
            if !due {
                continue;
            }
            match (job.run)().await {
                Ok(done) => {
                    sqlx::query(
                        "INSERT INTO housekeeping_runs (job, last_run_at) VALUES ($1, now()) \
                         ON CONFLICT (job) DO UPDATE SET last_run_at = now()",
                    )
                    .bind(job.name)
                    .execute(&self.pool)
                    .await?;
                    ran.push((job.name, done));
                }
                Err(error) => {
                    warn!(job = job.name, %error, "a housekeeping job failed; next round")
                }
            }
        }
        Ok(ran)
    }
}

/// Pending payments between five minutes and a week old, read from the provider and
/// applied as a notification would be, so a paid customer is never left waiting when
/// a notification was lost for good; and payments that never reached the provider
/// (the client never came back after an outage) given up after an hour, so an order
/// they were for can be paid by another. Returns how many settled or were given up.
pub async fn reconcile_payments(
    reads: &crate::ReadModels,
    core: &domain::use_cases::Core,
) -> Result<u64, String> {
    let pending = reads
        .payments_to_reconcile(chrono::Duration::minutes(5), chrono::Duration::days(7), 100)
        .await
        .map_err(|error| error.message)?;
    let mut settled = 0;
    for (payment_id, provider_payment_id) in pending {
        match core.settle_provider_payment(&provider_payment_id).await {
            Ok(domain::use_cases::payments::Settled::Applied) => {
                settled += 1;
                info!(payment = %payment_id, "a payment settled without its notification");
            }
            Ok(domain::use_cases::payments::Settled::Ignored) => {}
            Err(error) => {
                warn!(payment = %payment_id, %error, "reconciling a payment failed; next round")
            }
        }
    }
    let unstarted = reads
        .payments_never_started(chrono::Duration::hours(1), chrono::Duration::days(7), 100)
        .await
        .map_err(|error| error.message)?;
    for payment_id in unstarted {
        match core.abandon_unstarted_payment(&payment_id).await {
            Ok(true) => {
                settled += 1;
                info!(payment = %payment_id, "a payment that never reached YooKassa was given up");
            }
            Ok(false) => {}
            Err(error) => {
                warn!(payment = %payment_id, %error, "giving up a payment failed; next round")
            }
        }
    }
    Ok(settled)
}

/// Live updates written longer than `retention` ago go; clients resuming from before
/// are told to re-read.
pub async fn prune_live_updates(pool: &PgPool, retention: Duration) -> Result<u64, String> {
    let before =
        Utc::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(7));
    crate::read_models::live_updates::feed::prune(pool, before)
        .await
        .map_err(|error| error.to_string())
}
