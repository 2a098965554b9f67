//! The workers part: every projection's worker, the scheduler and the housekeeping
//! jobs, over a pool of their own.

use std::sync::Arc;
use std::time::Duration;

use domain::money::tax::TaxRules;
use domain::use_cases::Core;
use domain::use_cases::payments::RefundCallPauses;
use projections::ReadModels;
use projections::housekeeping::{self, Housekeeping, Job};
use projections::reactions::allowance::MonthlyAllowance;
use projections::reactions::generation_runner::GenerationRunner;
use projections::reactions::generations::Generations;
use projections::reactions::loyalty::LoyaltyCashback;
use projections::reactions::payments::PaymentReactions;
use projections::reactions::refund_calls::RefundCalls;
use projections::reactions::refund_executor::RefundExecutor;
use projections::reactions::refunds::RefundReactions;
use projections::read_models::analytics::Analytics;
use projections::read_models::credit_lots::CreditLots;
use projections::read_models::credits::CreditBalances;
use projections::read_models::generations::GenerationJobs;
use projections::read_models::live_updates::LiveUpdates;
use projections::read_models::notifications::Notifications;
use projections::read_models::orders::Orders;
use projections::read_models::payments::Payments;
use projections::read_models::tax_ledger::TaxLedger;
use projections::read_models::ticket_categories::TicketCategories;
use projections::read_models::tickets::Tickets;
use projections::read_models::users::Users;
use projections::scheduler::Scheduler;
use projections::worker::{Projection, Worker, WorkerSettings};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::parts::RunningParts;
use crate::config::Settings;
use crate::metrics::Metrics;

/// How often the housekeeping loop looks for jobs that are due.
const HOUSEKEEPING_ROUND: Duration = Duration::from_secs(30);
/// How often pending payments are asked about at the provider.
const RECONCILIATION_EVERY: Duration = Duration::from_secs(300);
/// How often expired tokens, codes and live updates are pruned.
const PRUNING_EVERY: Duration = Duration::from_secs(3_600);
/// How often files, prompts and chats past their retention are erased.
const ERASURE_EVERY: Duration = Duration::from_secs(600);

/// Every projection the workers part runs, in the order of [`ProjectionName::ALL`];
/// `refund_calls` is woken when the refund executor records a call.
pub fn projections(
    settings: &Settings,
    core: &Arc<Core>,
    refund_calls: Arc<Notify>,
    generations: Arc<Notify>,
) -> Vec<Arc<dyn Projection>> {
    let commands = core.commands.clone();
    let pool = core.pool().clone();
    let programs = &settings.programs;
    let retention = chrono::Duration::from_std(settings.live_updates_retention)
        .unwrap_or(chrono::Duration::days(7));
    vec![
        Arc::new(CreditBalances),
        Arc::new(CreditLots::default()),
        Arc::new(Users),
        Arc::new(TaxLedger::new(TaxRules::default())),
        Arc::new(Orders),
        Arc::new(Payments::new(programs.clone())),
        Arc::new(Tickets),
        Arc::new(TicketCategories),
        Arc::new(Analytics),
        Arc::new(Notifications),
        Arc::new(LiveUpdates::new(retention)),
        Arc::new(PaymentReactions::new(commands.clone(), programs.clone())),
        Arc::new(RefundReactions::new(commands.clone())),
        Arc::new(RefundExecutor::new(refund_calls)),
        Arc::new(LoyaltyCashback::new(
            commands.clone(),
            pool,
            programs.clone(),
        )),
        Arc::new(MonthlyAllowance::new(commands, programs.monthly_allowance)),
        Arc::new(GenerationJobs),
        Arc::new(Generations::new(core.clone(), generations)),
    ]
}

/// What the workers part needs besides its pool's core.
pub(super) struct WorkersPart<'a> {
    pub settings: &'a Settings,
    pub nats: &'a async_nats::Client,
    pub metrics: &'a Metrics,
    pub shutdown: &'a CancellationToken,
    /// The process's read models (reconciliation finds its candidates there).
    pub reads: &'a ReadModels,
}

impl WorkersPart<'_> {
    /// Starts every projection, the scheduler and housekeeping; `prune_tokens`
    /// prunes the API's refresh tokens.
    pub(super) fn spawn(
        &self,
        running: &mut RunningParts,
        core: Arc<Core>,
        prune_tokens: impl Fn(PgPool) -> housekeeping::JobFuture + Send + Sync + 'static,
    ) {
        let pool = core.pool().clone();
        let refund_calls = RefundCalls::new(core.clone(), RefundCallPauses::default());
        let generation_runner = GenerationRunner::new(core.clone(), self.settings.ai.runners);
        for projection in projections(
            self.settings,
            &core,
            refund_calls.waker(),
            generation_runner.waker(),
        ) {
            let part = projection.name();
            let worker = Worker::new(
                pool.clone(),
                self.nats.clone(),
                self.settings.stream.clone(),
                projection,
                WorkerSettings::default(),
                self.metrics.projections.clone(),
            );
            let token = self.shutdown.clone();
            running.spawn(part, async move {
                worker.run(token).await;
                Ok(())
            });
        }
        let token = self.shutdown.clone();
        running.spawn("refund calls", async move {
            refund_calls.run(token).await;
            Ok(())
        });
        let token = self.shutdown.clone();
        running.spawn("generation runner", async move {
            generation_runner.run(token).await;
            Ok(())
        });
        let scheduler = Scheduler::new(
            pool.clone(),
            core.commands.clone(),
            self.settings.scheduler.clone(),
        );
        let token = self.shutdown.clone();
        running.spawn("scheduler", async move {
            scheduler.run(token).await;
            Ok(())
        });
        let jobs = jobs(self.settings, core, self.reads.clone(), prune_tokens);
        let housekeeping = Housekeeping::new(pool, jobs, HOUSEKEEPING_ROUND);
        let token = self.shutdown.clone();
        running.spawn("housekeeping", async move {
            housekeeping.run(token).await;
            Ok(())
        });
    }
}

fn jobs(
    settings: &Settings,
    core: Arc<Core>,
    reads: ReadModels,
    prune_tokens: impl Fn(PgPool) -> housekeeping::JobFuture + Send + Sync + 'static,
) -> Vec<Job> {
    let pool = core.pool().clone();
    let retention = settings.live_updates_retention;
    let tokens_pool = pool.clone();
    let codes = core.clone();
    let live_pool = pool;
    let erasing = core.clone();
    vec![
        Job::new("erase expired files and chats", ERASURE_EVERY, move || {
            let core = erasing.clone();
            Box::pin(async move {
                core.erase_expired(chrono::Utc::now())
                    .await
                    .map(|erased| erased.files + erased.prompts + erased.chats)
                    .map_err(|error| error.to_string())
            })
        }),
        Job::new("prune refresh tokens", PRUNING_EVERY, move || {
            prune_tokens(tokens_pool.clone())
        }),
        Job::new("prune login codes", PRUNING_EVERY, move || {
            let core = codes.clone();
            Box::pin(async move {
                core.prune_login_codes(chrono::Utc::now())
                    .await
                    .map_err(|error| error.message)
            })
        }),
        Job::new("prune live updates", PRUNING_EVERY, move || {
            let pool = live_pool.clone();
            Box::pin(async move { housekeeping::prune_live_updates(&pool, retention).await })
        }),
        Job::new("reconcile payments", RECONCILIATION_EVERY, move || {
            let (reads, core) = (reads.clone(), core.clone());
            Box::pin(async move { housekeeping::reconcile_payments(&reads, &core).await })
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_workers_part_runs_every_projection_once_in_order() {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .expect("a lazy pool");
        let mut settings = Settings::from_lookup(|_| None).expect("defaults");
        settings.payments.mode = Some(crate::config::PaymentMode::Sandbox);
        let gateway = crate::payments::PaymentGateway::new(
            &settings.payments,
            pool.clone(),
            "http://127.0.0.1:1",
            "http://127.0.0.1:1",
        )
        .expect("a sandbox gateway");
        let core = Arc::new(crate::startup::core_over(
            pool,
            &settings,
            &gateway,
            "http://127.0.0.1:1",
            &projections::worker::ProjectionMetrics::default(),
        ));
        let names: Vec<&str> = projections(
            &settings,
            &core,
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
        )
        .iter()
        .map(|projection| projection.name())
        .collect();
        let expected: Vec<&str> = projections::ProjectionName::ALL
            .iter()
            .map(|name| name.as_str())
            .collect();
        assert_eq!(names, expected);
    }
}
