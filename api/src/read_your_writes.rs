//! Reading one's own writes: after a command, wait (bounded) until a projection has
//! applied the aggregate up to the command's sequence, so the response and the
//! client's next read show what it just did.

use std::time::Duration;

use sqlx::PgPool;

/// How long a request waits for the read models before answering anyway.
pub const READ_YOUR_WRITES_LIMIT: Duration = Duration::from_secs(2);

/// True once `projection` has applied `aggregate_type`/`aggregate_id` up to
/// `sequence`; false if that did not happen within `limit`.
pub async fn caught_up(
    pool: &PgPool,
    projection: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: usize,
    limit: Duration,
) -> Result<bool, sqlx::Error> {
    let sequence = i64::try_from(sequence).unwrap_or(i64::MAX);
    let deadline = tokio::time::Instant::now() + limit;
    let mut pause = Duration::from_millis(2);
    loop {
        let applied: Option<i64> = sqlx::query_scalar(
            "SELECT sequence FROM projection_checkpoints \
             WHERE projection = $1 AND aggregate_type = $2 AND aggregate_id = $3",
        )
        .bind(projection)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_optional(pool)
        .await?;
        if applied.unwrap_or(0) >= sequence {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
