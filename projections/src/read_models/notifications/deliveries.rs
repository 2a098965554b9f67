//! What the bot's sender has to send, and what became of each sending
//! (`notification_deliveries`, written by the sender alone). Notifications and
//! reminders are read from their own tables; a row is pending until a delivery of it
//! is sent, failed for good, or refused because the user blocked the bot. A delivery
//! that is retrying waits until its next attempt.

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// One notification or reminder to send.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PendingNotice {
    /// The row's id in `rm_notifications` or `scheduled_reminders`.
    pub notification_id: String,
    /// `user` or `staff_group`.
    pub recipient: String,
    pub user_id: Option<Uuid>,
    pub template: String,
    pub params: Value,
    pub created_at: DateTime<Utc>,
    /// Attempts made so far.
    pub attempts: i32,
}

/// What became of one attempt to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// About to be sent: recorded before the call, so a process that dies during it
    /// never sends the notice again (it stays `sending`).
    Sending,
    Sent,
    /// Try again at `next_attempt_at`.
    Retrying {
        error: String,
        next_attempt_at: DateTime<Utc>,
    },
    /// Given up: it can never be sent.
    Failed {
        error: String,
    },
    /// The recipient blocked the bot.
    Blocked,
}

/// Up to `limit` notices due by `now`, oldest first.
pub async fn pending(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PendingNotice>, CommandError> {
    Ok(sqlx::query_as(
        "SELECT n.notification_id, n.recipient, n.user_id, n.template, n.params, n.created_at, \
                COALESCE(d.attempts, 0) AS attempts \
         FROM (SELECT notification_id, recipient, user_id, template, params, created_at FROM rm_notifications \
               UNION ALL \
               SELECT reminder_id, recipient, user_id, template, params, created_at FROM scheduled_reminders) n \
         LEFT JOIN notification_deliveries d ON d.notification_id = n.notification_id \
         WHERE d.notification_id IS NULL OR (d.state = 'retrying' AND d.next_attempt_at <= $1) \
         ORDER BY n.created_at, n.notification_id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Records what became of an attempt to send `notification_id`.
pub async fn record(
    pool: &PgPool,
    notification_id: &str,
    delivery: &Delivery,
    now: DateTime<Utc>,
) -> Result<(), CommandError> {
    let (state, error, next_attempt_at) = match delivery {
        Delivery::Sending => ("sending", None, None),
        Delivery::Sent => ("sent", None, None),
        Delivery::Retrying {
            error,
            next_attempt_at,
        } => ("retrying", Some(error.as_str()), Some(*next_attempt_at)),
        Delivery::Failed { error } => ("failed", Some(error.as_str()), None),
        Delivery::Blocked => ("blocked", None, None),
    };
    sqlx::query(
        "INSERT INTO notification_deliveries (notification_id, state, attempts, last_error, next_attempt_at, updated_at) \
         VALUES ($1, $2, 1, $3, $4, $5) \
         ON CONFLICT (notification_id) DO UPDATE SET state = $2, attempts = notification_deliveries.attempts \
                 + CASE WHEN notification_deliveries.state = 'sending' THEN 0 ELSE 1 END, \
             last_error = $3, next_attempt_at = $4, updated_at = $5",
    )
    .bind(notification_id)
    .bind(state)
    .bind(error)
    .bind(next_attempt_at)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}
