//! `bot_updates`: every update Telegram sent, stored before Telegram is told it
//! arrived, and handled from here. Long polling stores a batch before asking for the
//! next (whose offset confirms the batch); a webhook stores the update before it
//! answers 200. An update is handled at least once: one whose handling was cut off
//! by a crash is handled again after the restart. Handled updates are deleted after
//! a week.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use teloxide::types::{Update, UpdateKind};

/// One stored update not handled yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredUpdate {
    pub update_id: i64,
    pub chat_id: Option<i64>,
    pub body: Value,
    /// When it was stored: with the update id, a key no other update has (Telegram
    /// starts ids afresh after a quiet week).
    pub received_at: DateTime<Utc>,
    /// Whether an earlier attempt moved the chat's dialogue on, and from which step
    /// (`bot::dialogue`).
    pub dialogue_kept: bool,
    pub dialogue_before: Option<Value>,
}

/// Stores an update (a repeat of one already stored changes nothing).
pub async fn store(
    pool: &PgPool,
    update_id: i64,
    chat_id: Option<i64>,
    body: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bot_updates (update_id, chat_id, body) VALUES ($1, $2, $3) \
         ON CONFLICT (update_id) DO NOTHING",
    )
    .bind(update_id)
    .bind(chat_id)
    .bind(body)
    .execute(pool)
    .await?;
    Ok(())
}

/// Counts one more attempt at `update_id` cut short by an outage; how many so far,
/// and when the update arrived.
pub async fn attempted(
    pool: &PgPool,
    update_id: i64,
) -> Result<(i32, chrono::DateTime<chrono::Utc>), sqlx::Error> {
    sqlx::query_as(
        "UPDATE bot_updates SET attempts = attempts + 1 WHERE update_id = $1 \
         RETURNING attempts, received_at",
    )
    .bind(update_id)
    .fetch_one(pool)
    .await
}

/// Deletes updates handled before `before` (they hold people's messages); how many.
pub async fn prune(
    pool: &PgPool,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM bot_updates WHERE handled_at < $1")
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected())
}

/// Up to `limit` updates not handled yet, oldest first.
pub async fn unhandled(pool: &PgPool, limit: i64) -> Result<Vec<StoredUpdate>, sqlx::Error> {
    sqlx::query_as(
        "SELECT update_id, chat_id, body, received_at, dialogue_kept, dialogue_before \
         FROM bot_updates WHERE handled_at IS NULL \
         ORDER BY update_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Marks an update handled, with how long it took; `error` when its handling failed
/// for good (the user was told).
pub async fn mark_handled(
    pool: &PgPool,
    update_id: i64,
    error: Option<&str>,
    handling: Option<std::time::Duration>,
) -> Result<(), sqlx::Error> {
    let handling_ms = handling.map(|took| i32::try_from(took.as_millis()).unwrap_or(i32::MAX));
    sqlx::query(
        "UPDATE bot_updates SET handled_at = now(), error = $2, handling_ms = $3 WHERE update_id = $1",
    )
    .bind(update_id)
    .bind(error)
    .bind(handling_ms)
    .execute(pool)
    .await?;
    Ok(())
}

/// The update in `body`, or `None` when this version cannot read it. Parsed from
/// text: teloxide's `Update` reads its kind only from a JSON string, not from a
/// `serde_json::Value`.
pub fn parse(body: &Value) -> Option<Update> {
    let update: Update = serde_json::from_str(&body.to_string()).ok()?;
    match update.kind {
        UpdateKind::Error(_) => None,
        _ => Some(update),
    }
}
