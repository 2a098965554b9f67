//! The outbox relay: carries every committed event from the Postgres outbox into the
//! JetStream stream, in order, at least once (JetStream's de-duplication by message
//! id makes it effectively once inside the duplicate window).
//!
//! One relay is active per database (see [`leadership`]); any number stand by. The
//! active one loops: read the oldest outbox rows, publish them pipelined, await every
//! ack, delete the acknowledged rows, and when the outbox is drained sleep until a
//! NOTIFY from the outbox trigger or the poll interval, whichever comes first.

mod leadership;
mod metrics;
pub mod outbox;
mod publisher;

use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

pub use metrics::RelayMetrics;
pub use outbox::{OutboxStatus, status as outbox_status};
pub use publisher::PublishError;

use crate::stream::StreamSettings;
use publisher::EventPublisher;

/// How the relay paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySettings {
    /// Most events read from the outbox and published in one round.
    pub batch_size: u32,
    /// Longest sleep between outbox reads when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// How often a standing-by relay tries to take over.
    pub standby_interval: Duration,
    /// How long to wait for one JetStream acknowledgement.
    pub ack_timeout: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 2_000,
            poll_interval: Duration::from_millis(500),
            standby_interval: Duration::from_secs(1),
            ack_timeout: Duration::from_secs(5),
        }
    }
}

pub struct Relay {
    pool: PgPool,
    publisher: EventPublisher,
    settings: RelaySettings,
    metrics: RelayMetrics,
}

/// Where one round left the outbox.
enum Round {
    /// The batch was full: there may be more right away.
    MoreWaiting,
    /// The outbox was drained.
    Drained,
}

/// Why a round stopped short.
#[derive(Debug, thiserror::Error)]
enum RoundError {
    /// Postgres failed; the lock connection may be gone, so leadership is given up.
    #[error("Postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    /// A stored event could not be encoded; it stays in the outbox.
    #[error(transparent)]
    Outbox(outbox::OutboxError),
    /// NATS failed; leadership is kept and the round retried after a pause.
    #[error("NATS: {0}")]
    Nats(#[from] PublishError),
}

impl From<outbox::OutboxError> for RoundError {
    fn from(error: outbox::OutboxError) -> Self {
        match error {
            outbox::OutboxError::Postgres(error) => Self::Postgres(error),
            other => Self::Outbox(other),
        }
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(100);

impl Relay {
    pub fn new(
        pool: PgPool,
        nats: async_nats::Client,
        stream: StreamSettings,
        settings: RelaySettings,
        metrics: RelayMetrics,
    ) -> Self {
        let publisher = EventPublisher::new(nats, stream, settings.ack_timeout);
        Self {
            pool,
            publisher,
            settings,
            metrics,
        }
    }

    /// Relays until `shutdown` is cancelled. Never gives up on its own: Postgres and
    /// NATS outages are waited out. A round in progress when shutdown is asked for is
    /// finished first (its acks awaited and its rows deleted).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let Some(lock) =
                leadership::acquire(&self.pool, self.settings.standby_interval, &shutdown).await
            else {
                return;
            };
            info!("this relay is now the active one");
            self.metrics.active.set(1);
            let outcome = self.lead(lock, &shutdown).await;
            self.metrics.active.set(0);
            match outcome {
                Ok(()) => {
                    info!("relay stopped");
                    return;
                }
                Err(error) => {
                    warn!(%error, "relay lost its Postgres connection; trying to take over again");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Relays while holding the lock on `lock`. Returns `Ok` on shutdown and `Err`
    /// when Postgres fails (leadership is then given up and taken again).
    async fn lead(
        &self,
        mut lock: PgConnection,
        shutdown: &CancellationToken,
    ) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(outbox::OUTBOX_CHANNEL).await?;
        let mut stream_ready = false;
        let mut nats_backoff = MIN_BACKOFF;
        loop {
            if shutdown.is_cancelled() {
                leadership::release(lock).await;
                return Ok(());
            }
            match self.round(&mut lock, &mut stream_ready, shutdown).await {
                Ok(Round::MoreWaiting) => {
                    nats_backoff = MIN_BACKOFF;
                    continue;
                }
                Ok(Round::Drained) => {
                    nats_backoff = MIN_BACKOFF;
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        notified = listener.recv() => {
                            notified?;
                            while listener.next_buffered().is_some() {}
                        }
                        _ = tokio::time::sleep(self.settings.poll_interval) => {}
                    }
                }
                Err(RoundError::Postgres(error)) => return Err(error),
                Err(RoundError::Outbox(error)) => {
                    warn!(%error, "a stored event cannot be relayed; retrying after a pause");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(MAX_BACKOFF) => {}
                    }
                }
                Err(RoundError::Nats(error)) => {
                    self.metrics.publish_failures.inc();
                    stream_ready = false;
                    warn!(%error, retry_in_ms = nats_backoff.as_millis() as u64, "publishing to NATS failed; the events stay in the outbox");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(nats_backoff) => {}
                    }
                    nats_backoff = (nats_backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// One pass over the outbox, oldest row first. While one batch is published and
    /// its acks awaited, the previous batch's rows are deleted (all their acks are in)
    /// and the next batch is read. Stops early on shutdown, after the batch in flight.
    async fn round(
        &self,
        lock: &mut PgConnection,
        stream_ready: &mut bool,
        shutdown: &CancellationToken,
    ) -> Result<Round, RoundError> {
        let limit = i64::from(self.settings.batch_size);
        let mut batch = outbox::pending_after(lock, 0, limit).await?.events;
        if batch.is_empty() {
            return Ok(Round::Drained);
        }
        if !self.publisher.is_connected() {
            return Err(PublishError::NotConnected(self.publisher.connection_state()).into());
        }
        if !*stream_ready {
            self.publisher.ensure_stream().await?;
            *stream_ready = true;
        }
        let mut acknowledged: Vec<i64> = Vec::new();
        loop {
            let last = batch.last().map_or(0, |event| event.global_position);
            let relayed = std::mem::take(&mut acknowledged);
            let (outcome, next) = tokio::join!(self.publisher.publish(&batch), async {
                outbox::remove(lock, &relayed).await?;
                outbox::pending_after(lock, last, limit).await
            });
            acknowledged = batch[..outcome.acknowledged]
                .iter()
                .map(|event| event.global_position)
                .collect();
            self.metrics
                .events_published
                .inc_by(outcome.acknowledged as u64);
            self.metrics
                .duplicates_suppressed
                .inc_by(outcome.duplicates);
            debug!(
                relayed = outcome.acknowledged,
                duplicates = outcome.duplicates,
                "relayed a batch"
            );
            let next = match (outcome.failure, next) {
                (Some(failure), _) => {
                    outbox::remove(lock, &acknowledged).await?;
                    return Err(failure.into());
                }
                (None, Err(error)) => return Err(error.into()),
                (None, Ok(next)) => next,
            };
            // At the prefetch, only this batch's rows should have been at or below
            // `last`. More means events committed late below it (their positions
            // were taken before ours): start again from the oldest row so they go
            // out before anything that follows them in their aggregate.
            let late_commits = next.at_or_before != batch.len() as i64;
            if next.events.is_empty() || late_commits || shutdown.is_cancelled() {
                outbox::remove(lock, &acknowledged).await?;
                return Ok(if next.events.is_empty() {
                    Round::Drained
                } else {
                    Round::MoreWaiting
                });
            }
            batch = next.events;
        }
    }
}
