//! Building and running the process: connect to Postgres (creating the database on
//! first start) and NATS, apply migrations, bind the HTTP listener, then run the
//! parts asked for until shutdown. Tests drive the same code (`Application::build`).

use std::net::SocketAddr;
use std::time::Duration;

use async_nats::ServerAddr;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{NatsSettings, Settings};
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use projections::relay::Relay;

/// Which parts of the product this process runs. The HTTP listener with the health
/// and metrics endpoints always runs, so every process can be watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// The outbox relay (Postgres outbox → JetStream).
    pub relay: bool,
}

impl Parts {
    pub const RELAY_ONLY: Parts = Parts { relay: true };
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
        let state = AppState {
            pool,
            nats,
            metrics: Metrics::new(),
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

    /// Runs until `shutdown` is cancelled, then gives in-flight work up to the
    /// configured grace period to finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let Application {
            listener,
            state,
            settings,
            parts,
        } = self;
        let address = listener.local_addr().map_err(StartupError::Serve)?;
        let mut tasks: Vec<(&'static str, JoinHandle<()>)> = Vec::new();
        if parts.relay {
            let relay = Relay::new(
                state.pool.clone(),
                state.nats.clone(),
                settings.stream.clone(),
                settings.relay.clone(),
                state.metrics.relay.clone(),
            );
            tasks.push(("relay", tokio::spawn(relay.run(shutdown.clone()))));
        }

        let router = http::router(state.clone());
        let server = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .into_future();
        let mut server = tokio::spawn(server);
        info!(
            %address,
            relay = parts.relay,
            stream = %settings.stream.name,
            "ledgerbot is serving: health at /health/ready, metrics at /metrics"
        );

        let early_exit = tokio::select! {
            _ = shutdown.cancelled() => None,
            ended = &mut server => Some(ended),
        };
        if let Some(ended) = early_exit {
            shutdown.cancel();
            wait_for(tasks, settings.shutdown_grace).await;
            return match ended {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(StartupError::Serve(error)),
                Err(join) => Err(StartupError::Serve(std::io::Error::other(join))),
            };
        }
        tasks.push((
            "http",
            tokio::spawn(async move {
                if let Ok(Err(error)) = server.await {
                    warn!(%error, "the HTTP server stopped with an error");
                }
            }),
        ));
        wait_for(tasks, settings.shutdown_grace).await;
        state.pool.close().await;
        info!("ledgerbot stopped");
        Ok(())
    }
}

async fn wait_for(tasks: Vec<(&'static str, JoinHandle<()>)>, grace: Duration) {
    for (name, task) in tasks {
        match tokio::time::timeout(grace, task).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => warn!(part = name, %error, "a part ended abnormally"),
            Err(_) => warn!(
                part = name,
                grace_secs = grace.as_secs(),
                "a part did not finish within the shutdown grace period"
            ),
        }
    }
}

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
    async_nats::ConnectOptions::new()
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
