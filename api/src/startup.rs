//! Building and running the process: connect to Postgres (creating the database on
//! first start) and NATS, apply migrations, bind the HTTP listener, then run the
//! parts asked for until shutdown. Tests drive the same code (`Application::build`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::ServerAddr;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::auth::AuthState;
use crate::config::{NatsSettings, Settings};
use crate::http::limits::RateLimiter;
use crate::http::{self, AppState};
use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::payments::PaymentGateway;
use crate::payments::executor::RefundExecutor;
use crate::read_your_writes::Checkpoints;
use domain::command::Commands;
use domain::event_store::connect;
use domain::money::tax::TaxRules;
use projections::reactions::allowance::MonthlyAllowance;
use projections::reactions::loyalty::LoyaltyCashback;
use projections::reactions::payments::PaymentReactions;
use projections::reactions::refunds::RefundReactions;
use projections::read_models::analytics::Analytics;
use projections::read_models::credit_lots::CreditLots;
use projections::read_models::credits::CreditBalances;
use projections::read_models::live_updates::LiveUpdates;
use projections::read_models::notifications::Notifications;
use projections::read_models::orders::Orders;
use projections::read_models::payments::Payments;
use projections::read_models::tax_ledger::TaxLedger;
use projections::read_models::ticket_categories::TicketCategories;
use projections::read_models::tickets::Tickets;
use projections::read_models::users::Users;
use projections::relay::Relay;
use projections::scheduler::Scheduler;
use projections::worker::{Projection, Worker, WorkerSettings};

/// Which parts of the product this process runs. The HTTP listener with the health
/// and metrics endpoints always runs, so every process can be watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// The outbox relay (Postgres outbox → JetStream).
    pub relay: bool,
    /// The projection workers that keep the read models.
    pub workers: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        relay: true,
        workers: true,
    };
    pub const RELAY_ONLY: Parts = Parts {
        relay: true,
        workers: false,
    };
    pub const WORKERS_ONLY: Parts = Parts {
        relay: false,
        workers: true,
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
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| own_url.clone());
        let payments = PaymentGateway::new(&settings.payments, pool.clone(), &own_url, &public_url)
            .map_err(|error| StartupError::Payments(error.to_string()))?;
        if payments.sandbox {
            warn!(
                checkout = %format!("{public_url}{}", crate::yookassa::sandbox::CHECKOUT_PATH),
                "payments go to the built-in YooKassa SANDBOX: no money moves (set LEDGERBOT_YOOKASSA_SHOP_ID and LEDGERBOT_YOOKASSA_SECRET_KEY for real payments)"
            );
        }
        let checkpoints = Checkpoints::watch(pool.clone());
        let state = AppState {
            payments,
            commands: Arc::new(Commands::over(pool.clone())),
            live: LiveHub::start(pool.clone(), checkpoints.clone()),
            checkpoints,
            pool,
            nats,
            metrics: Metrics::new(),
            auth,
            catalogue: Arc::new(settings.catalogue.clone()),
            salon: settings.salon,
            shopfront: Arc::new(settings.shopfront.clone()),
            bot_username: settings.bot_username.as_deref().map(Arc::from),
            limiter: RateLimiter::new(settings.limits),
            cors_origins: settings.cors_origins.clone().into(),
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
            let commands = Arc::new(Commands::over(pool.clone()));
            let context = (&pool, &state, &settings, &shutdown);
            spawn_projection(
                &mut running,
                "credit balances worker",
                CreditBalances,
                context,
            );
            spawn_projection(&mut running, "credit lots worker", CreditLots, context);
            spawn_projection(&mut running, "users worker", Users, context);
            let ledger = TaxLedger::new(TaxRules::default());
            spawn_projection(&mut running, "tax ledger worker", ledger, context);
            spawn_projection(&mut running, "orders worker", Orders, context);
            let payments = Payments::new(settings.programs.clone());
            spawn_projection(&mut running, "payments worker", payments, context);
            spawn_projection(&mut running, "tickets worker", Tickets, context);
            spawn_projection(
                &mut running,
                "ticket categories worker",
                TicketCategories,
                context,
            );
            spawn_projection(&mut running, "analytics worker", Analytics, context);
            spawn_projection(&mut running, "notifications worker", Notifications, context);
            let retention = chrono::Duration::from_std(settings.live_updates_retention)
                .unwrap_or(chrono::Duration::days(7));
            let live = LiveUpdates::new(retention);
            spawn_projection(&mut running, "live updates worker", live, context);
            let programs = &settings.programs;
            let reactions = PaymentReactions::new(commands.clone(), programs.clone());
            spawn_projection(&mut running, "payment reactions worker", reactions, context);
            let executor =
                RefundExecutor::new(commands.clone(), pool.clone(), state.payments.clone());
            spawn_projection(&mut running, "refund executor worker", executor, context);
            let refunds = RefundReactions::new(commands.clone());
            spawn_projection(&mut running, "refund reactions worker", refunds, context);
            let cashback = LoyaltyCashback::new(commands.clone(), pool.clone(), programs.clone());
            spawn_projection(&mut running, "loyalty cashback worker", cashback, context);
            let allowance = MonthlyAllowance::new(commands.clone(), programs.monthly_allowance);
            spawn_projection(&mut running, "monthly allowance worker", allowance, context);
            let scheduler = Scheduler::new(pool.clone(), commands, settings.scheduler.clone());
            let token = shutdown.clone();
            running.spawn("scheduler", async move {
                scheduler.run(token).await;
                Ok(())
            });
        }
        // Sign-in housekeeping: every process that serves the API prunes; the DELETE
        // is the same whoever runs it.
        let pool = state.pool.clone();
        let token = shutdown.clone();
        running.spawn("refresh token pruning", async move {
            loop {
                match crate::auth::tokens::prune_expired(&pool, chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(deleted) => info!(deleted, "expired refresh tokens pruned"),
                    Err(error) => {
                        warn!(%error, "pruning refresh tokens failed; trying again later")
                    }
                }
                match crate::auth::login_codes::prune_expired(&pool, chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(deleted) => info!(deleted, "expired login codes pruned"),
                    Err(error) => warn!(%error, "pruning login codes failed; trying again later"),
                }
                tokio::select! {
                    _ = token.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(3_600)) => {}
                }
            }
        });
        // Payments whose notification never came are asked about now and then.
        let reconciling = state.clone();
        let token = shutdown.clone();
        running.spawn("payment reconciliation", async move {
            crate::payments::reconcile::run(reconciling, token).await;
            Ok(())
        });
        // Live updates older than the retention go; clients resuming from before are
        // told to re-read.
        let pool = state.pool.clone();
        let token = shutdown.clone();
        let retention = settings.live_updates_retention;
        running.spawn("live updates pruning", async move {
            loop {
                let before = chrono::Utc::now()
                    - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(7));
                match crate::live::feed::prune(&pool, before).await {
                    Ok(0) => {}
                    Ok(deleted) => info!(deleted, "old live updates pruned"),
                    Err(error) => warn!(%error, "pruning live updates failed; trying again later"),
                }
                tokio::select! {
                    _ = token.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(3_600)) => {}
                }
            }
        });
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

/// Every projection the workers part runs, by name (the admin status lists them).
pub const PROJECTION_NAMES: &[&str] = &[
    "credit_balances",
    "credit_lots",
    "users",
    "tax_ledger",
    "orders",
    "payments",
    "tickets",
    "ticket_categories",
    "analytics",
    "notifications",
    "live_updates",
    "payment_reactions",
    "refund_reactions",
    "refund_executor",
    "loyalty_cashback",
    "monthly_allowance",
];

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

/// Starts a worker for `projection` as a part of this process.
fn spawn_projection<P: Projection>(
    running: &mut RunningParts,
    part: &'static str,
    projection: P,
    (pool, state, settings, shutdown): (&PgPool, &AppState, &Settings, &CancellationToken),
) {
    let worker = Worker::new(
        pool.clone(),
        state.nats.clone(),
        settings.stream.clone(),
        Arc::new(projection),
        WorkerSettings::default(),
        state.metrics.projections.clone(),
    );
    let token = shutdown.clone();
    running.spawn(part, async move {
        worker.run(token).await;
        Ok(())
    });
}

/// The parts running in this process, by name.
#[derive(Default)]
struct RunningParts {
    tasks: JoinSet<Result<(), String>>,
    names: HashMap<tokio::task::Id, &'static str>,
}

impl RunningParts {
    fn spawn(
        &mut self,
        name: &'static str,
        part: impl std::future::Future<Output = Result<(), String>> + Send + 'static,
    ) {
        let handle = self.tasks.spawn(part);
        self.names.insert(handle.id(), name);
    }

    /// The next part to end, with how it ended (a panic counts as an error).
    async fn next(&mut self) -> Option<(&'static str, Result<(), String>)> {
        let ended = self.tasks.join_next_with_id().await?;
        Some(match ended {
            Ok((id, outcome)) => (self.name(id), outcome),
            Err(error) => (self.name(error.id()), Err(error.to_string())),
        })
    }

    fn name(&self, id: tokio::task::Id) -> &'static str {
        self.names.get(&id).copied().unwrap_or("a part")
    }

    /// Waits up to `grace` for every part to end, then aborts the rest.
    async fn finish(&mut self, grace: Duration) {
        let drained = tokio::time::timeout(grace, async {
            while let Some((part, outcome)) = self.next().await {
                if let Err(reason) = outcome {
                    warn!(part, %reason, "a part ended with an error during shutdown");
                }
            }
        })
        .await;
        if drained.is_err() {
            warn!(
                grace_secs = grace.as_secs(),
                "some work did not finish within the shutdown grace period; abandoning it"
            );
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
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
