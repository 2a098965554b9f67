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

/// Session settings of the lock connection. Server-side TCP keepalives let Postgres
/// notice within about half a minute that the active relay's machine is gone (and so
/// release the lock for a standby) instead of after the OS default of two hours; the
/// statement timeout keeps a half-open connection from hanging the relay.
const LOCK_SESSION_SETTINGS: &str = "SELECT set_config('tcp_keepalives_idle', '10', false), \
            set_config('tcp_keepalives_interval', '5', false), \
            set_config('tcp_keepalives_count', '3', false), \
            set_config('tcp_user_timeout', '30000', false), \
            set_config('statement_timeout', '60s', false)";

async fn try_acquire(pool: &PgPool) -> Result<Option<PgConnection>, sqlx::Error> {
    let mut connection = pool.acquire().await?.detach();
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(RELAY_LOCK_KEY)
        .fetch_one(&mut connection)
        .await?;
    if !locked {
        return Ok(None);
    }
    sqlx::query(LOCK_SESSION_SETTINGS)
        .execute(&mut connection)
        .await?;
    Ok(Some(connection))
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
