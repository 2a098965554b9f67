//! Sending broadcasts, as records (like `notifications::deliveries`): the next
//! confirmed broadcast started with its recipients fixed once, the one being sent,
//! its pending recipients, each recipient's outcome, and the end with its figures.
//! `broadcasts` is written by `domain::use_cases::broadcasts` up to its
//! confirmation; from there these functions move it on, for the bot's broadcaster.

use chrono::{DateTime, Utc};
use domain::use_cases::broadcasts::Audience;
use sqlx::PgPool;
use uuid::Uuid;

use crate::read_models::users::audience::fix_recipients;

/// A broadcast being sent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SendingBroadcast {
    pub broadcast_id: Uuid,
    pub created_by: Uuid,
    pub text: String,
    /// A Telegram file id.
    pub photo: Option<String>,
    /// Where the report goes.
    pub report_chat: Option<i64>,
}

/// What became of one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientState {
    /// Not tried yet (or to be tried again: the request never reached Telegram).
    Pending,
    /// Just before the call: one left so by a crash is never sent again.
    Sending,
    Delivered,
    Blocked,
    Failed,
}

impl RecipientState {
    fn as_str(self) -> &'static str {
        match self {
            RecipientState::Pending => "pending",
            RecipientState::Sending => "sending",
            RecipientState::Delivered => "delivered",
            RecipientState::Blocked => "blocked",
            RecipientState::Failed => "failed",
        }
    }
}

/// A finished broadcast's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BroadcastReport {
    pub delivered: i64,
    pub blocked: i64,
    pub failed: i64,
}

/// Starts the oldest confirmed broadcast: its recipients fixed (everyone its audience
/// reaches now) in the transaction that moves it to `sending`. Its id and how many
/// recipients, or `None` when none waits.
pub async fn start_next_confirmed(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, u64)>, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    let confirmed: Option<(Uuid, serde_json::Value)> = sqlx::query_as(
        "SELECT broadcast_id, audience FROM broadcasts WHERE state = 'confirmed' \
         ORDER BY confirmed_at, broadcast_id LIMIT 1 FOR UPDATE",
    )
    .fetch_optional(&mut *transaction)
    .await?;
    let Some((broadcast_id, audience)) = confirmed else {
        return Ok(None);
    };
    let fixed = match serde_json::from_value::<Audience>(audience) {
        Ok(audience) => fix_recipients(&mut transaction, broadcast_id, &audience, now).await?,
        Err(error) => {
            tracing::warn!(%broadcast_id, %error, "a broadcast's audience is unreadable; it goes to nobody");
            0
        }
    };
    sqlx::query("UPDATE broadcasts SET state = 'sending' WHERE broadcast_id = $1")
        .bind(broadcast_id)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(Some((broadcast_id, fixed)))
}

/// The oldest broadcast being sent.
pub async fn sending(pool: &PgPool) -> Result<Option<SendingBroadcast>, sqlx::Error> {
    sqlx::query_as(
        "SELECT broadcast_id, created_by, text, photo, report_chat FROM broadcasts \
         WHERE state = 'sending' ORDER BY confirmed_at, broadcast_id LIMIT 1",
    )
    .fetch_optional(pool)
    .await
}

/// Up to `limit` chats of `broadcast_id` not tried yet.
pub async fn pending_recipients(
    pool: &PgPool,
    broadcast_id: Uuid,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT chat_id FROM broadcast_recipients WHERE broadcast_id = $1 AND state = 'pending' \
         ORDER BY chat_id LIMIT $2",
    )
    .bind(broadcast_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Records what became of recipient `chat` of `broadcast_id`.
pub async fn mark(
    pool: &PgPool,
    broadcast_id: Uuid,
    chat: i64,
    state: RecipientState,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE broadcast_recipients SET state = $3, error = $4, updated_at = $5 \
         WHERE broadcast_id = $1 AND chat_id = $2",
    )
    .bind(broadcast_id)
    .bind(chat)
    .bind(state.as_str())
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every recipient was tried: those a crash left `sending` count as failed (never
/// sent again) and the broadcast is done. Its figures, or `None` when another call
/// finished it already.
pub async fn finish(
    pool: &PgPool,
    broadcast_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<BroadcastReport>, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    sqlx::query(
        "UPDATE broadcast_recipients SET state = 'failed', \
                error = 'interrupted by a restart; not sent again', updated_at = $2 \
         WHERE broadcast_id = $1 AND state = 'sending'",
    )
    .bind(broadcast_id)
    .bind(now)
    .execute(&mut *transaction)
    .await?;
    let (delivered, blocked, failed): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'delivered'), count(*) FILTER (WHERE state = 'blocked'), \
                count(*) FILTER (WHERE state = 'failed') \
         FROM broadcast_recipients WHERE broadcast_id = $1",
    )
    .bind(broadcast_id)
    .fetch_one(&mut *transaction)
    .await?;
    let finished = sqlx::query(
        "UPDATE broadcasts SET state = 'done', finished_at = $2 WHERE broadcast_id = $1 AND state = 'sending'",
    )
    .bind(broadcast_id)
    .bind(now)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await?;
    Ok((finished.rows_affected() == 1).then_some(BroadcastReport {
        delivered,
        blocked,
        failed,
    }))
}
