//! Wakes a waiting loop when a trigger sends a NOTIFY: the relay on the outbox's
//! channel, the API's live-update watcher on `live_updates`.
//!
//! A task of its own reads the listening connection all the time, so notifications
//! never pile up unread on it (an unread listener would eventually stall Postgres's
//! server-wide notification queue, and with it every insert into `events`).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tracing::warn;

pub struct Wakeup {
    notify: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Wakeup {
    /// Listens on `channel` over a connection of its own taken from `pool`.
    pub async fn listen(pool: &PgPool, channel: &str) -> Result<Self, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(channel).await?;
        let notify = Arc::new(Notify::new());
        let signal = notify.clone();
        let task = tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(_) => signal.notify_one(),
                    Err(error) => {
                        // The listener reconnects on the next recv; notifications sent
                        // meanwhile are lost, which the waiting loop's polling covers.
                        warn!(%error, "lost a notification listener; reconnecting");
                        signal.notify_one();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Self { notify, task })
    }

    /// Returns at the next notification (or at once if one came since the last
    /// call), or after `limit`.
    pub async fn wait(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.notify.notified()).await;
    }
}

impl Drop for Wakeup {
    fn drop(&mut self) {
        self.task.abort();
    }
}
