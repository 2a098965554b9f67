//! Building and running the process: connect to Postgres (creating the database on
//! first start) and NATS, apply migrations, bind the HTTP listener, then run the
//! parts asked for until shutdown. Tests drive the same code (`Application::build`).

pub mod ai;
mod bot;
mod composition;
mod operator;
mod parts;
pub mod workers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::ServerAddr;
use domain::event_store::connect;

use projections::ReadModels;
use projections::read_your_writes::Checkpoints;
use projections::relay::Relay;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::auth::AuthState;
use crate::config::{NatsSettings, Settings};
use crate::http::limits::RateLimiter;
use crate::http::{self, AppState};
use crate::live::LiveHub;
use crate::metrics::Metrics;
use bot::bot_part;
pub(crate) use composition::offline_core;
pub use composition::{core_over, grant_owner};
use composition::{gateway, grant_configured_owners};
pub use operator::{
    parked_list, parked_retry, replay_analyst_role, replay_checkpoint, replay_diff,
    replay_export_events, replay_export_receipts, replay_export_tax_ledger, replay_history,
    replay_rebuild, replay_state, replay_verify,
};
use parts::RunningParts;
use workers::WorkersPart;

/// Which parts of the product this process runs. The HTTP listener with the health
/// and metrics endpoints always runs, so every process can be watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// The outbox relay (Postgres outbox → JetStream).
    pub relay: bool,
    /// The projection workers that keep the read models.
    pub workers: bool,
    /// The Telegram bot (when a bot token is set).
    pub bot: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        relay: true,
        workers: true,
        bot: true,
    };
    pub const RELAY_ONLY: Parts = Parts {
        relay: true,
        workers: false,
        bot: false,
    };
    pub const WORKERS_ONLY: Parts = Parts {
        relay: false,
        workers: true,
        bot: false,
    };
    pub const BOT_ONLY: Parts = Parts {
        relay: false,
        workers: false,
        bot: true,
    };
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] domain::event_store::DatabaseError),
    #[error(transparent)]
    Migration(#[from] domain::event_store::MigrationError),
    #[error("NATS_URL is not usable: {0}")]
    NatsAddress(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error("cannot prepare sign-in: {0}")]
    Auth(String),
    #[error("payments: {0}")]
    Payments(String),
    #[error("cannot grant the owner role: {0}")]
    Owners(String),
    #[error("there is no projection {name}; the projections are: {known}")]
    UnknownProjection { name: String, known: String },
    #[error("parked events: {0}")]
    Parked(String),
    #[error("replay: {0}")]
    Replay(#[from] replay::ReplayError),
    #[error("the {part} stopped unexpectedly: {reason}")]
    PartStopped { part: &'static str, reason: String },
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    settings: Settings,
    parts: Parts,
}

impl Application {
    pub async fn build(settings: Settings, parts: Parts) -> Result<Self, StartupError> {
        let pool = prepare_database(&settings).await?;
        let nats = connect_nats(&settings.nats).await?;
        let listener = TcpListener::bind(settings.http_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: settings.http_addr,
                source,
            })?;
        let auth = AuthState::from_settings(&settings.auth)
            .map_err(|error| StartupError::Auth(error.message))?;
        let bound = listener.local_addr().map_err(StartupError::Serve)?;
        let own_ip = if bound.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            bound.ip()
        };
        let own_url = format!("http://{}", SocketAddr::new(own_ip, bound.port()));
        let (payments, public_url) = gateway(&settings, &pool, own_url)?;
        if payments.rules.sandbox {
            warn!(
                checkout = %format!("{public_url}{}", crate::yookassa::sandbox::CHECKOUT_PATH),
                "payments go to the built-in YooKassa SANDBOX: no money moves (set LEDGERBOT_YOOKASSA_SHOP_ID and LEDGERBOT_YOOKASSA_SECRET_KEY for real payments)"
            );
        }
        ai::announce(&settings);
        let metrics = Metrics::new();
        let core = Arc::new(core_over(
            pool.clone(),
            &settings,
            &payments,
            &public_url,
            &metrics.projections,
        ));
        grant_configured_owners(&core, &settings.owner_telegram_ids).await?;
        let reads = ReadModels::new(pool.clone(), Checkpoints::watch(pool.clone()));
        let state = AppState {
            core,
            live: LiveHub::start(reads.clone()),
            reads,
            payments,
            pool,
            nats,
            metrics,
            auth,
            bot_username: settings.bot_username.as_deref().map(Arc::from),
            limiter: RateLimiter::new(settings.limits),
            cors_origins: settings.cors_origins.clone().into(),
            telegram_webhook: bot::webhook_of(&settings),
            app_settings: crate::app_settings::AppSettings::from_settings(&settings),
        };
        Ok(Self {
            listener,
            state,
            settings,
            parts,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.settings.http_addr)
    }

    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }

    /// What the handlers share (for tests that drive a part directly).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs until `shutdown` is cancelled, then gives in-flight work up to the
    /// configured grace period to finish, and aborts what is still running after it.
    /// A part that ends on its own before shutdown (the HTTP server failing, the relay
    /// panicking) stops the whole process with an error, so a supervisor restarts it
    /// instead of leaving it half-alive and "ready".
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let Application {
            listener,
            state,
            settings,
            parts,
        } = self;
        let address = listener.local_addr().map_err(StartupError::Serve)?;
        let mut running = RunningParts::default();
        if parts.relay {
            let pool = connect(&settings.database.url, RELAY_CONNECTIONS).await?;
            let relay = Relay::new(
                pool,
                state.nats.clone(),
                settings.stream.clone(),
                settings.relay.clone(),
                state.metrics.relay.clone(),
            );
            let token = shutdown.clone();
            running.spawn("relay", async move {
                relay.run(token).await;
                Ok(())
            });
        }
        if parts.workers {
            let pool = connect(&settings.database.url, WORKER_CONNECTIONS).await?;
            let core = Arc::new(core_over(
                pool,
                &settings,
                &state.payments,
                &state.core.files.public_url(),
                &state.metrics.projections,
            ));
            let part = WorkersPart {
                settings: &settings,
                nats: &state.nats,
                metrics: &state.metrics,
                shutdown: &shutdown,
                reads: &state.reads,
            };
            part.spawn(&mut running, core, |pool| {
                Box::pin(async move {
                    crate::auth::tokens::prune_expired(&pool, chrono::Utc::now())
                        .await
                        .map_err(|error| error.to_string())
                })
            });
        }
        if parts.bot {
            bot_part(&mut running, &settings, &state, &shutdown);
        }
        let server = axum::serve(
            listener,
            http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future();
        running.spawn("http", async move {
            server.await.map_err(|error| error.to_string())
        });
        info!(
            %address,
            relay = parts.relay,
            workers = parts.workers,
            bot = parts.bot,
            stream = %settings.stream.name,
            "ledgerbot is serving: health at /health/ready, metrics at /metrics"
        );

        let failure = tokio::select! {
            biased;
            _ = shutdown.cancelled() => None,
            ended = running.next() => match ended {
                // Parts end by themselves once shutdown is asked for; that is no failure.
                Some((part, Ok(()))) if shutdown.is_cancelled() => {
                    info!(part, "stopped");
                    None
                }
                Some((part, outcome)) => Some(StartupError::PartStopped {
                    part,
                    reason: outcome.err().unwrap_or_else(|| "it ended on its own".to_owned()),
                }),
                None => None,
            },
        };
        shutdown.cancel();
        running.finish(settings.shutdown_grace).await;
        if tokio::time::timeout(Duration::from_secs(5), state.pool.close())
            .await
            .is_err()
        {
            warn!("database connections did not close within 5 s");
        }
        match failure {
            Some(error) => Err(error),
            None => {
                info!("ledgerbot stopped");
                Ok(())
            }
        }
    }
}

/// Connections of the relay's own pool: the lock connection it works on, the NOTIFY
/// listener, and one for status queries. Its own, so the API's load never makes it
/// wait for a connection.
const RELAY_CONNECTIONS: u32 = 3;

/// Connections of the workers' own pool, shared by the projection workers (each holds
/// one only while it applies a batch) and the commands the process managers and the
/// scheduler issue. Its own, for the same reason: measured at 1,000 commands/s,
/// sharing one pool with the command load tripled the p99 lag (connection waits, not
/// database time).
const WORKER_CONNECTIONS: u32 = 8;

/// Connects to Postgres, creating the database when missing, and applies migrations.
pub async fn prepare_database(settings: &Settings) -> Result<PgPool, StartupError> {
    let pool = domain::event_store::connect_creating_database(
        &settings.database.url,
        settings.database.max_connections,
    )
    .await?;
    domain::event_store::migrate(&pool).await?;
    info!(database = %settings.database.redacted_url(), "database is migrated");
    Ok(pool)
}

/// Connects to NATS in the background: the process starts even while NATS is down
/// (readiness says so) and the client reconnects by itself for as long as it runs.
pub async fn connect_nats(settings: &NatsSettings) -> Result<async_nats::Client, StartupError> {
    let addresses = settings
        .urls
        .iter()
        .map(|url| url.parse::<ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| StartupError::NatsAddress(error.to_string()))?;
    let mut options = async_nats::ConnectOptions::new();
    // async-nats does not log in with credentials written into the URL; pass them on.
    if let Some(first) = addresses.first() {
        match (first.username(), first.password()) {
            (Some(user), Some(password)) => {
                options = options.user_and_password(user.to_owned(), password.to_owned());
            }
            (Some(token), None) if !token.is_empty() => {
                options = options.token(token.to_owned());
            }
            _ => {}
        }
    }
    options
        .name("ledgerbot")
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => info!("connected to NATS"),
                async_nats::Event::Disconnected => warn!("disconnected from NATS; reconnecting"),
                other => info!(event = %other, "NATS client event"),
            }
        })
        .connect(addresses)
        .await
        .map_err(|error| StartupError::NatsAddress(error.to_string()))
}
