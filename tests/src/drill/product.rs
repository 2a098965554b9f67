//! The drill's product: its own Postgres and NATS, the YooKassa-compatible server,
//! the API, the relay and the workers as `ledgerbot` processes, and an in-process
//! write side (no relay, no workers) that the load calls.

use std::sync::Arc;

use api::startup::Parts;
use domain::use_cases::Core;
use sqlx::PgPool;

use super::Plan;
use crate::app::{LedgerbotProcess, TestApp, spawn_app};
use crate::nats_server::NatsServer;
use crate::postgres_server::PostgresServer;
use crate::yookassa_fake::FakeYooKassa;

const DATABASE: &str = "ledgerbot_drill";
const STREAM: &str = "DRILL";
const SUBJECTS: &str = "drill";
const JWT_SECRET: &str = "a-drill-secret-of-at-least-32-characters";

pub struct Product {
    pub postgres: PostgresServer,
    pub nats: NatsServer,
    pub yookassa: FakeYooKassa,
    yookassa_url: String,
    pub pool: PgPool,
    pub api: Option<LedgerbotProcess>,
    pub relay: Option<LedgerbotProcess>,
    pub workers: Vec<Option<LedgerbotProcess>>,
    writer: Option<TestApp>,
}

impl Product {
    pub async fn start(plan: &Plan) -> Self {
        let postgres = PostgresServer::start().await;
        let nats = NatsServer::start().await;
        let (yookassa, yookassa_url) = FakeYooKassa::start().await;
        let pool = domain::event_store::connect_creating_database(&postgres.url(DATABASE), 30)
            .await
            .expect("the drill's database can be created");
        domain::event_store::migrate(&pool)
            .await
            .expect("the migrations apply");
        let mut product = Self {
            postgres,
            nats,
            yookassa,
            yookassa_url,
            pool,
            api: None,
            relay: None,
            workers: Vec::new(),
            writer: None,
        };
        let env = product.env();
        product.api = Some(
            LedgerbotProcess::start(&["serve", "--no-relay", "--no-workers", "--no-bot"], &env)
                .await,
        );
        product.relay = Some(LedgerbotProcess::start(&["relay"], &env).await);
        for _ in 0..plan.workers {
            product
                .workers
                .push(Some(LedgerbotProcess::start(&["workers"], &env).await));
        }
        product.writer = Some(product.start_writer().await);
        product
    }

    /// What every process is started with.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("DATABASE_URL", self.postgres.url(DATABASE)),
            ("NATS_URL", self.nats.url()),
            ("LEDGERBOT_HTTP_ADDR", "127.0.0.1:0".to_owned()),
            ("LEDGERBOT_STREAM", STREAM.to_owned()),
            ("LEDGERBOT_SUBJECT_PREFIX", SUBJECTS.to_owned()),
            ("LEDGERBOT_RELAY_POLL_MS", "100".to_owned()),
            ("LEDGERBOT_RELAY_ACK_TIMEOUT_MS", "2000".to_owned()),
            ("LEDGERBOT_LOG_FORMAT", "json".to_owned()),
            ("LEDGERBOT_JWT_SECRET", JWT_SECRET.to_owned()),
            ("LEDGERBOT_YOOKASSA_MODE", "live".to_owned()),
            ("LEDGERBOT_YOOKASSA_SHOP_ID", "100500".to_owned()),
            ("LEDGERBOT_YOOKASSA_SECRET_KEY", "live_secret".to_owned()),
            ("LEDGERBOT_YOOKASSA_API_URL", self.yookassa_url.clone()),
            (
                "LEDGERBOT_YOOKASSA_NOTIFICATION_IPS",
                "127.0.0.1".to_owned(),
            ),
            ("LEDGERBOT_RATE_LIMIT_PER_USER", "1000000".to_owned()),
            ("LEDGERBOT_RATE_LIMIT_PER_IP", "1000000".to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// The write side the load calls: the same settings, in this process, with no
    /// relay, no workers and no bot (those run as the processes above).
    async fn start_writer(&self) -> TestApp {
        let lookup: std::collections::HashMap<String, String> = self.env().into_iter().collect();
        let mut settings = api::config::Settings::from_lookup(|key| lookup.get(key).cloned())
            .expect("the drill's settings are valid");
        settings.http_addr = "127.0.0.1:0".parse().expect("an address");
        spawn_app(
            settings,
            Parts {
                relay: false,
                workers: false,
                bot: false,
            },
        )
        .await
    }

    pub fn core(&self) -> Arc<Core> {
        self.writer
            .as_ref()
            .expect("the write side runs")
            .state
            .core
            .clone()
    }

    pub fn api_url(&self, path: &str) -> String {
        self.api.as_ref().expect("the API runs").url(path)
    }

    pub async fn stop(mut self) {
        if let Some(writer) = self.writer.take() {
            writer.shutdown.cancel();
            let _ = writer.task.await;
        }
        for process in [self.api.take(), self.relay.take()]
            .into_iter()
            .chain(self.workers.drain(..))
            .flatten()
        {
            process.kill().await;
        }
        self.pool.close().await;
    }
}
