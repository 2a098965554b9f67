//! One active relay per database: a session-level Postgres advisory lock.
//!
//! The lock lives as long as the connection that took it. When the active relay's
//! process dies, Postgres closes that connection, releases the lock, and a standing-by
//! relay takes it on its next try (every `standby_interval`).

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// The advisory lock key: the ASCII bytes of "ldgrelay" read as a big-endian i64.
const RELAY_LOCK_KEY: i64 = i64::from_be_bytes(*b"ldgrelay");

/// Waits until this process holds the relay lock, returning the connection that holds
/// it, or `None` when shutdown was asked for first.
pub async fn acquire(
    pool: &PgPool,
    standby_interval: Duration,
    shutdown: &CancellationToken,
) -> Option<PgConnection> {
    let mut announced_standby = false;
    loop {
        match try_acquire(pool).await {
            Ok(Some(connection)) => return Some(connection),
            Ok(None) if !announced_standby => {
                info!("another relay is active; standing by");
                announced_standby = true;
            }
            Ok(None) => {}
            Err(error) => warn!(%error, "cannot reach Postgres to take the relay lock"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(standby_interval) => {}
        }
    }
}

async fn try_acquire(pool: &PgPool) -> Result<Option<PgConnection>, sqlx::Error> {
    let mut connection = pool.acquire().await?.detach();
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(RELAY_LOCK_KEY)
        .fetch_one(&mut connection)
        .await?;
    Ok(locked.then_some(connection))
}

/// Gives the lock back explicitly (closing the connection would too).
pub async fn release(mut connection: PgConnection) {
    let released = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(RELAY_LOCK_KEY)
        .execute(&mut connection)
        .await;
    if let Err(error) = released {
        warn!(%error, "could not release the relay lock; closing its connection instead");
    }
    drop(connection);
}
