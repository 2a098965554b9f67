//! `bot_updates`: every update Telegram sent, stored before Telegram is told it
//! arrived, and handled from here. Long polling stores a batch before asking for the
//! next (whose offset confirms the batch); a webhook stores the update before it
//! answers 200. An update is handled at least once: one whose handling was cut off
//! by a crash is handled again after the restart.

use serde_json::Value;
use sqlx::PgPool;
use teloxide::types::{Update, UpdateKind};

/// One stored update not handled yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredUpdate {
    pub update_id: i64,
    pub chat_id: Option<i64>,
    pub body: Value,
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

/// The getUpdates offset that confirms everything stored: one past the newest.
pub async fn next_offset(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let newest: Option<i64> = sqlx::query_scalar("SELECT max(update_id) FROM bot_updates")
        .fetch_one(pool)
        .await?;
    Ok(newest.map_or(0, |newest| newest + 1))
}

/// Up to `limit` updates not handled yet, oldest first.
pub async fn unhandled(pool: &PgPool, limit: i64) -> Result<Vec<StoredUpdate>, sqlx::Error> {
    sqlx::query_as(
        "SELECT update_id, chat_id, body FROM bot_updates WHERE handled_at IS NULL \
         ORDER BY update_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Marks an update handled; `error` when its handling failed for good (the user was
/// told).
pub async fn mark_handled(
    pool: &PgPool,
    update_id: i64,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE bot_updates SET handled_at = now(), error = $2 WHERE update_id = $1")
        .bind(update_id)
        .bind(error)
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
