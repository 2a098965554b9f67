//! Doing something in one process at a time: a session advisory lock held on one
//! connection for the length of the work.

use std::future::Future;

use sqlx::PgPool;

/// Runs `work` while this process holds advisory lock `key`; `None` (and `work` not
/// run) when another holds it.
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
    let outcome = work.await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *lock)
        .await?;
    outcome.map(Some)
}
