//! Command throughput and latency over 10,000 credit accounts with a grant/spend mix,
//! at 8 and 32 concurrent callers, for three ways of running a command against the
//! same Postgres event store (same schema, triggers and outbox included):
//!
//! * ours: `domain::command::CommandService`;
//! * (a) cqrs-es + postgres-es wired as their documentation shows, with an
//!   in-process `GenericQuery` view (a `PostgresViewRepository`) updated on every
//!   command;
//! * (b) raw Postgres: one transaction that reads the aggregate's stream and then
//!   inserts one event.
//!
//! Run: `cargo bench -p tests --bench command_throughput` (servers as for the tests).
//! `LEDGERBOT_BENCH_COMMANDS` sets the commands per run (default 6,000).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cqrs_es::persist::GenericQuery;
use cqrs_es::{EventEnvelope, Query, View};
use domain::command::{CommandContext, CommandService};
use domain::credit::{CreditAccount, CreditCommand, CreditEvent, GrantReason};
use postgres_es::{PostgresViewRepository, postgres_cqrs};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tests::TestContext;

const ACCOUNTS: u64 = 10_000;

/// Numbers every command of the whole benchmark, so grant references and spend
/// operation ids never repeat (a repeat would be an idempotent no-op).
static RUN: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Default, Serialize, Deserialize)]
struct BalanceView {
    balance: i64,
    changes: u64,
}

impl View<CreditAccount> for BalanceView {
    fn update(&mut self, event: &EventEnvelope<CreditAccount>) {
        self.changes += 1;
        match &event.payload {
            CreditEvent::CreditsGranted { amount, .. } => self.balance += *amount as i64,
            CreditEvent::CreditsSpent { amount, .. } => self.balance -= *amount as i64,
            CreditEvent::SpendRefunded { amount, .. } => self.balance += *amount as i64,
            CreditEvent::PointsExpired { amount, .. } => self.balance -= *amount as i64,
            CreditEvent::CreditsRevoked { amount, .. } => self.balance -= *amount as i64,
            CreditEvent::SubscriptionActivated { .. } => {}
        }
    }
}

/// A small deterministic generator, so every system gets the same workload.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The n-th command of a run: 60 % grants, 40 % spends of 1 credit (every account
/// starts with 1,000 credits, so spends succeed).
fn command(n: u64, draw: u64) -> (u64, CreditCommand) {
    let draw = draw >> 1;
    let account = draw % ACCOUNTS;
    let command = if draw % 10 < 6 {
        CreditCommand::Grant {
            amount: 5,
            reason: GrantReason::Purchase,
            reference: format!("payment-{n}"),
            expires_at: None,
        }
    } else {
        CreditCommand::Spend {
            amount: 1,
            reason: "image generation".to_owned(),
            operation_id: format!("op-{n}"),
            at: chrono::Utc::now(),
        }
    };
    (account, command)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum System {
    Ours,
    CqrsWithView,
    RawSql,
}

impl System {
    fn label(self) -> &'static str {
        match self {
            System::Ours => "ours: CommandService",
            System::CqrsWithView => "(a) cqrs-es + postgres-es + GenericQuery view",
            System::RawSql => "(b) raw SQL: read stream, insert one event",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            System::Ours => "ours",
            System::CqrsWithView => "docs",
            System::RawSql => "raw",
        }
    }
}

struct Runner {
    pool: PgPool,
    ours: CommandService<CreditAccount>,
    documented: postgres_es::PostgresCqrs<CreditAccount>,
}

impl Runner {
    async fn run(&self, system: System, account: u64, command: CreditCommand) {
        let id = format!("{}-{account}", system.prefix());
        match system {
            System::Ours => {
                self.ours
                    .execute(&id, command, &CommandContext::system("bench"))
                    .await
                    .expect("command");
            }
            System::CqrsWithView => {
                let metadata = HashMap::from([("actor_kind".to_owned(), "system".to_owned())]);
                let mut attempts = 0;
                loop {
                    match self
                        .documented
                        .execute_with_metadata(&id, command.clone(), metadata.clone())
                        .await
                    {
                        Ok(()) => break,
                        Err(cqrs_es::AggregateError::AggregateConflict) if attempts < 5 => {
                            attempts += 1
                        }
                        Err(error) => panic!("command failed: {error}"),
                    }
                }
            }
            System::RawSql => raw_append(&self.pool, &id, &command).await,
        }
    }
}

async fn raw_append(pool: &PgPool, id: &str, command: &CreditCommand) {
    let payload = match command {
        CreditCommand::Grant {
            amount, reference, ..
        } => serde_json::json!({
            "CreditsGranted": {"amount": amount, "reason": "purchase", "reference": reference, "expires_at": null}
        }),
        CreditCommand::Spend {
            amount,
            operation_id,
            reason,
            at,
        } => serde_json::json!({
            "CreditsSpent": {"amount": amount, "reason": reason, "operation_id": operation_id, "spent_at": at}
        }),
        _ => serde_json::json!({}),
    };
    loop {
        let mut transaction = pool.begin().await.expect("begin");
        let stream: Vec<(i64, serde_json::Value)> = sqlx::query_as(
            "SELECT sequence, payload FROM events WHERE aggregate_type = 'CreditAccount' AND aggregate_id = $1 ORDER BY sequence",
        )
        .bind(id)
        .fetch_all(&mut *transaction)
        .await
        .expect("read stream");
        let next = stream.last().map_or(1, |(sequence, _)| sequence + 1);
        let inserted = sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             VALUES ('CreditAccount', $1, $2, 'CreditsGranted', '1.0', $3, '{}')",
        )
        .bind(id)
        .bind(next)
        .bind(&payload)
        .execute(&mut *transaction)
        .await;
        match inserted {
            Ok(_) => {
                transaction.commit().await.expect("commit");
                return;
            }
            Err(_) => continue,
        }
    }
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p95: Duration,
    p99: Duration,
}

async fn measure(
    runner: Arc<Runner>,
    system: System,
    callers: usize,
    commands: u64,
    seed: u64,
) -> Figures {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let runner = runner.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut mix = Mix(seed.wrapping_mul(31).wrapping_add(caller as u64 * 7919 + 1));
                let mut latencies = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= commands {
                        return latencies;
                    }
                    // Unique references per run, the same accounts for the same seed.
                    let (account, command) =
                        command(RUN.fetch_add(1, Ordering::Relaxed), mix.next());
                    let began = Instant::now();
                    runner.run(system, account, command).await;
                    latencies.push(began.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(commands as usize);
    for task in tasks {
        latencies.extend(task.await.expect("caller"));
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        per_second: commands as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
    }
}

#[tokio::main]
async fn main() {
    let commands: u64 = tests::bench_setting("LEDGERBOT_BENCH_COMMANDS", 6_000);
    let context = TestContext::new().await;
    let pool = tests::bench_pool(&context).await;
    sqlx::query(
        "CREATE TABLE credit_view (view_id text PRIMARY KEY, version bigint NOT NULL, payload json NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("view table");
    let view = Arc::new(PostgresViewRepository::<BalanceView, CreditAccount>::new(
        "credit_view",
        pool.clone(),
    ));
    let query: Box<dyn Query<CreditAccount>> = Box::new(GenericQuery::new(view));
    let runner = Arc::new(Runner {
        pool: pool.clone(),
        ours: CommandService::new(pool.clone(), ()),
        documented: postgres_cqrs(pool.clone(), vec![query], ()),
    });

    // Every account of every system starts with one grant (not measured).
    for system in [System::Ours, System::CqrsWithView, System::RawSql] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             SELECT 'CreditAccount', $1 || '-' || g, 1, 'CreditsGranted', '1.0', \
                    json_build_object('CreditsGranted', json_build_object('amount', 1000, 'reason', 'promo', 'reference', 'seed', 'expires_at', null)), '{}' \
             FROM generate_series(0, $2 - 1) AS g",
        )
        .bind(system.prefix())
        .bind(ACCOUNTS as i64)
        .execute(&pool)
        .await
        .expect("seed");
    }
    sqlx::query("DELETE FROM outbox")
        .execute(&pool)
        .await
        .expect("clear outbox");

    println!(
        "command throughput: {commands} commands per run over {ACCOUNTS} credit accounts, 60 % grant / 40 % spend"
    );
    println!(
        "{:<48} {:>7} {:>10} {:>9} {:>9} {:>9}",
        "system", "callers", "cmds/s", "p50 ms", "p95 ms", "p99 ms"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    let mut seed = 1;
    for callers in [8, 32] {
        for (system, warm) in [
            (System::CqrsWithView, false),
            (System::RawSql, false),
            (System::Ours, false),
            (System::Ours, true),
        ] {
            // The warm run repeats the cold run's accounts: they are in the cache.
            if !warm {
                seed += 1;
            }
            let figures = measure(runner.clone(), system, callers, commands, seed).await;
            let label = match (system, warm) {
                (System::Ours, false) => "ours, cold (first command on each account)",
                (System::Ours, true) => "ours, warm (accounts seen before)",
                _ => system.label(),
            };
            println!(
                "{:<48} {:>7} {:>10.0} {:>9.1} {:>9.1} {:>9.1}",
                label,
                callers,
                figures.per_second,
                ms(figures.p50),
                ms(figures.p95),
                ms(figures.p99)
            );
            // Keep the outbox from growing across runs (no relay runs here).
            sqlx::query("DELETE FROM outbox")
                .execute(&pool)
                .await
                .expect("clear outbox");
        }
    }
    pool.close().await;
    context.cleanup().await;
}
