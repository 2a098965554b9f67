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
mod vacuum;
pub mod wakeup;

use std::time::{Duration, Instant};

use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

pub use metrics::RelayMetrics;
pub use outbox::{OutboxStatus, status as outbox_status};
pub use publisher::PublishError;

use crate::stream::StreamSettings;
use outbox::{OutboxError, PendingEvent};
use publisher::EventPublisher;
use wakeup::Wakeup;

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
    /// NATS failed; the round is retried after a pause.
    #[error("NATS: {0}")]
    Nats(#[from] PublishError),
}

/// Why a relay stopped leading.
#[derive(Debug, thiserror::Error)]
enum LeadError {
    #[error("lost the Postgres connection: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("NATS has been failing for {0:?}; handing over to a standby that may reach it")]
    NatsUnavailable(Duration),
}

const MAX_BACKOFF: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// After this long without a successful publish, the active relay gives up the lock
/// for a while so that a standby with a working path to NATS can take over.
const HAND_OVER_AFTER: Duration = Duration::from_secs(30);

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
    /// NATS outages are waited out. The batch in flight when shutdown is asked for is
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
            let pause = match outcome {
                Ok(()) => {
                    info!("relay stopped");
                    return;
                }
                Err(LeadError::Postgres(error)) => {
                    warn!(%error, "relay lost its Postgres connection; trying to take over again");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    backoff
                }
                Err(error @ LeadError::NatsUnavailable(_)) => {
                    warn!(%error, "relay stepped down");
                    // Long enough for a standby's next try to find the lock free.
                    self.settings.standby_interval * 3
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Relays while holding the lock on `lock`. Returns `Ok` on shutdown.
    async fn lead(
        &self,
        mut lock: PgConnection,
        shutdown: &CancellationToken,
    ) -> Result<(), LeadError> {
        let wakeup = Wakeup::listen(&self.pool, outbox::OUTBOX_CHANNEL).await?;
        let mut stream_ready = false;
        let mut nats_backoff = MIN_BACKOFF;
        let mut failing_since: Option<Instant> = None;
        let mut vacuum = vacuum::OutboxVacuum::new(self.metrics.events_published.get());
        loop {
            if shutdown.is_cancelled() {
                leadership::release(lock).await;
                return Ok(());
            }
            match self.round(&mut lock, &mut stream_ready, shutdown).await {
                Ok(round) => {
                    nats_backoff = MIN_BACKOFF;
                    failing_since = None;
                    if let Round::Drained = round {
                        vacuum
                            .when_due(&mut lock, self.metrics.events_published.get())
                            .await;
                        tokio::select! {
                            _ = shutdown.cancelled() => {}
                            _ = wakeup.wait(self.settings.poll_interval) => {}
                        }
                    }
                }
                Err(RoundError::Postgres(error)) => return Err(error.into()),
                Err(RoundError::Nats(error)) => {
                    self.metrics.publish_failures.inc();
                    stream_ready = false;
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= HAND_OVER_AFTER {
                        leadership::release(lock).await;
                        return Err(LeadError::NatsUnavailable(since.elapsed()));
                    }
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
        let mut batch = match outbox::pending_after(lock, 0, limit).await {
            Ok(pending) => pending.events,
            Err(error) => return self.park_unreadable(lock, error).await,
        };
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
            let (outcome, next) = tokio::join!(
                self.publisher.publish(&batch),
                remove_then_read(lock, relayed, last, limit)
            );
            acknowledged = positions(&batch[..outcome.acknowledged]);
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
            if let Some(failure) = outcome.failure {
                outbox::remove(lock, &acknowledged).await?;
                return match batch.get(outcome.acknowledged) {
                    Some(event) if failure.is_permanent() => {
                        self.park(lock, event, &failure.to_string()).await?;
                        Ok(Round::MoreWaiting)
                    }
                    _ => Err(failure.into()),
                };
            }
            let next = match next {
                Ok(next) => next,
                Err(error) => {
                    outbox::remove(lock, &acknowledged).await?;
                    return self.park_unreadable(lock, error).await;
                }
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

    async fn park(
        &self,
        lock: &mut PgConnection,
        event: &PendingEvent,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        error!(
            message_id = %event.message_id(),
            global_position = event.global_position,
            reason,
            "an event cannot be published; parked in outbox_parked"
        );
        outbox::park(lock, event.global_position, reason).await?;
        self.metrics.events_parked.inc();
        Ok(())
    }

    /// A stored event that cannot be encoded is parked; a Postgres failure ends the
    /// round.
    async fn park_unreadable(
        &self,
        lock: &mut PgConnection,
        error: OutboxError,
    ) -> Result<Round, RoundError> {
        match error {
            OutboxError::Postgres(error) => Err(error.into()),
            OutboxError::Encode {
                global_position, ..
            } => {
                let reason = error.to_string();
                error!(global_position, %reason, "a stored event cannot be encoded; parked in outbox_parked");
                outbox::park(lock, global_position, &reason).await?;
                self.metrics.events_parked.inc();
                Ok(Round::MoreWaiting)
            }
        }
    }
}

/// Deletes the rows of the batch whose acks are all in, then reads the next batch.
async fn remove_then_read(
    lock: &mut PgConnection,
    relayed: Vec<i64>,
    after: i64,
    limit: i64,
) -> Result<outbox::Pending, OutboxError> {
    outbox::remove(lock, &relayed).await?;
    outbox::pending_after(lock, after, limit).await
}

fn positions(events: &[PendingEvent]) -> Vec<i64> {
    events.iter().map(|event| event.global_position).collect()
}
