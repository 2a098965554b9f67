//! Doing something in one process at a time: a session advisory lock held on one
//! connection for the length of the work. The connection is checked every few
//! seconds; if it is gone (and with it the lock, which another process may now
//! take) the work is stopped at once rather than carried on alongside.

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;

/// How often the lock's connection is checked.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Runs `work` while this process holds advisory lock `key`; `None` (and `work` not
/// run) when another holds it. An error when the lock's connection was lost (the
/// work was stopped).
pub async fn while_holding<T, E>(
    pool: &PgPool,
    key: i64,
    work: impl Future<Output = Result<T, E>>,
) -> Result<Option<T>, E>
where
    E: From<sqlx::Error>,
{
    let mut lock = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *lock)
        .await?;
    if !locked {
        return Ok(None);
    }
    let outcome = {
        let connection = &mut *lock;
        let watch = async move {
            loop {
                tokio::time::sleep(CHECK_EVERY).await;
                if let Err(error) = sqlx::query("SELECT 1").execute(&mut *connection).await {
                    return error;
                }
            }
        };
        tokio::pin!(work);
        tokio::select! {
            outcome = &mut work => Ok(outcome),
            lost = watch => Err(lost),
        }
    };
    match outcome {
        Ok(outcome) => {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut *lock)
                .await?;
            outcome.map(Some)
        }
        Err(lost) => {
            tracing::warn!(key, error = %lost, "the advisory lock's connection is gone; the work stops");
            // Never back into the pool: if the session still lives, closing it is what
            // releases the lock.
            drop(lock.detach());
            Err(lost.into())
        }
    }
}
