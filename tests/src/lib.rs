//! The black-box test harness: every test gets its own Postgres database and its own
//! JetStream stream and subject prefix, so tests run in parallel against the one
//! Postgres and the one NATS of the machine (never mocks).
//!
//! Where the servers are: `LEDGERBOT_TEST_DATABASE_URL` (an admin URL of any database
//! on the server; default `postgres://postgres@127.0.0.1:5432/postgres`) and
//! `LEDGERBOT_TEST_NATS_URL` (default `nats://127.0.0.1:4222`). The project's test
//! script sets both.

pub mod ai_fakes;
pub mod api_client;
pub mod app;
pub mod big_store;
pub mod bot_client;
pub mod cpu;
pub mod drill;
pub mod events;
pub mod generation_stand;
pub mod history;
pub mod live_client;
pub mod nats_server;
pub mod openapi;
pub mod paying;
pub mod people;
pub mod plain_spend;
pub mod postgres_server;
pub mod probe;
pub mod random_history;
pub mod redelivery;
pub mod stream;
pub mod tcp_proxy;
pub mod telegram;
pub mod telegram_fake;
pub mod yookassa_fake;

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgPool};
use uuid::Uuid;

use api::config::Settings;
use projections::StreamSettings;

pub fn admin_database_url() -> String {
    std::env::var("LEDGERBOT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub fn shared_nats_url() -> String {
    std::env::var("LEDGERBOT_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// The URL of database `name` on the test Postgres server.
pub fn database_url(name: &str) -> String {
    let options: PgConnectOptions = admin_database_url()
        .parse()
        .expect("LEDGERBOT_TEST_DATABASE_URL is a Postgres URL");
    options.database(name).to_url_lossy().to_string()
}

/// One test's private corner of the shared servers.
pub struct TestContext {
    /// Short unique id, used in the database, stream and subject names.
    pub id: String,
    pub database_url: String,
    pub pool: PgPool,
    pub stream: StreamSettings,
    pub nats_url: String,
}

impl TestContext {
    /// A fresh, migrated database and an unused stream name, on the shared NATS.
    pub async fn new() -> Self {
        Self::with_nats(shared_nats_url()).await
    }

    /// Same, with events going to the NATS server at `nats_url`.
    pub async fn with_nats(nats_url: String) -> Self {
        let id = Uuid::now_v7().simple().to_string();
        let database_url = database_url(&format!("lbt_{id}"));
        let pool = domain::event_store::connect_creating_database(&database_url, 30)
            .await
            .expect("the test database can be created");
        domain::event_store::migrate(&pool)
            .await
            .expect("the migrations apply");
        Self {
            stream: StreamSettings {
                name: format!("LBT_{id}"),
                subject_prefix: format!("lbt{id}"),
                duplicate_window: Duration::from_secs(120),
                replicas: 1,
            },
            id,
            database_url,
            pool,
            nats_url,
        }
    }

    /// Application settings aimed at this test's database and stream, HTTP on a free
    /// port, with a short relay poll so tests do not wait on it.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::from_lookup(|_| None).expect("the defaults are valid");
        settings.database.url = self.database_url.clone();
        settings.nats.urls = vec![self.nats_url.clone()];
        settings.http_addr = "127.0.0.1:0".parse().expect("a socket address");
        settings.stream = self.stream.clone();
        settings.relay.poll_interval = Duration::from_millis(100);
        settings.relay.ack_timeout = Duration::from_secs(2);
        settings.shutdown_grace = Duration::from_secs(10);
        settings.payments.mode = Some(api::config::PaymentMode::Sandbox);
        // Files a test keeps go to its own folder, never into the source tree.
        settings.files.folder = self.files_folder();
        settings
    }

    /// The folder this test's kept files go to (removed by `cleanup`).
    pub fn files_folder(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("lbt_files_{}", self.id))
    }

    /// The same settings as environment variables, for a `ledgerbot` child process.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), self.database_url.clone()),
            ("NATS_URL".into(), self.nats_url.clone()),
            ("LEDGERBOT_HTTP_ADDR".into(), "127.0.0.1:0".into()),
            ("LEDGERBOT_STREAM".into(), self.stream.name.clone()),
            (
                "LEDGERBOT_SUBJECT_PREFIX".into(),
                self.stream.subject_prefix.clone(),
            ),
            ("LEDGERBOT_RELAY_POLL_MS".into(), "100".into()),
            ("LEDGERBOT_RELAY_ACK_TIMEOUT_MS".into(), "2000".into()),
            ("LEDGERBOT_LOG_FORMAT".into(), "json".into()),
            ("LEDGERBOT_YOOKASSA_MODE".into(), "sandbox".into()),
            (
                "LEDGERBOT_FILES_DIR".into(),
                self.files_folder().display().to_string(),
            ),
        ]
    }

    pub async fn outbox_depth(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await
            .expect("the outbox can be counted")
    }

    /// Drops the database and the stream. A failing test never gets here and leaves
    /// both behind (`lbt_<id>` / `LBT_<id>`) for a look.
    pub async fn cleanup(self) {
        self.pool.close().await;
        let _ = std::fs::remove_dir_all(self.files_folder());
        if let Ok(client) = async_nats::connect(&self.nats_url).await {
            let jetstream = async_nats::jetstream::new(client);
            let _ = jetstream.delete_stream(&self.stream.name).await;
        }
        let options: PgConnectOptions = admin_database_url()
            .parse()
            .expect("LEDGERBOT_TEST_DATABASE_URL is a Postgres URL");
        if let Ok(mut admin) = options.connect().await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS \"lbt_{}\" WITH (FORCE)",
                self.id
            ))
            .execute(&mut admin)
            .await;
        }
    }
}

/// A whole-number benchmark setting from the environment, or `default`.
pub fn bench_setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Gives each of `users` (their user ids) credits enough for any benchmark, 20 at a
/// time.
pub async fn grant_bench_credits<'a>(
    commands: &domain::command::Commands,
    users: impl IntoIterator<Item = &'a str>,
) {
    use domain::credit::{CreditCommand, GrantReason};
    use futures_util::StreamExt;
    let system = domain::command::CommandContext::system("bench");
    futures_util::stream::iter(users)
        .map(|user| {
            let system = &system;
            async move {
                commands
                    .credits
                    .execute(
                        user,
                        CreditCommand::Grant {
                            amount: 1_000_000,
                            reason: GrantReason::Admin,
                            reference: "bench".to_owned(),
                            expires_at: None,
                        },
                        system,
                    )
                    .await
                    .expect("granted");
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<()>>()
        .await;
}

/// A pool for a benchmark's own load: more connections than a test needs.
pub async fn bench_pool(context: &TestContext) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(40)
        .connect(&context.database_url)
        .await
        .expect("a benchmark pool")
}

/// Polls `condition` every 50 ms until it holds or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `check` holds (within `limit`), failing the test with `what` if it never does.
pub async fn settles(what: &str, limit: Duration, check: impl AsyncFn() -> bool) {
    assert!(eventually(limit, || check()).await, "{what}");
}

/// Waits until the relay has published everything, no aggregate is held back for a
/// retry and no projection has moved for three seconds.
pub async fn settled(pool: &PgPool) {
    settled_within(pool, Duration::from_secs(120)).await;
}

/// The same, for at most `limit`.
pub async fn settled_within(pool: &PgPool, limit: Duration) {
    let mut last = (-1, -1, -1);
    let mut still = 0;
    for _ in 0..(limit.as_millis() / 500).max(1) {
        let now: (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM projection_retrying), \
                    (SELECT count(*) FROM events), \
                    (SELECT COALESCE(sum(sequence), 0)::bigint FROM projection_checkpoints)",
        )
        .fetch_one(pool)
        .await
        .unwrap_or((-2, -2, -2)); // the database is coming back
        if now.0 == 0 && now == last {
            still += 1;
            if still >= 6 {
                return;
            }
        } else {
            still = 0;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the projections never settled: {last:?}");
}
