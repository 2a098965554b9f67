//! Sends confirmed broadcasts. A confirmed broadcast's recipients are fixed once
//! (`broadcast_recipients`, in the transaction that moves it to `sending`); each is
//! then sent to through the paced way out, marked `sending` just before the call and
//! given its outcome after, so a restart continues where it stopped and never sends
//! anyone the message twice. When none is pending the author gets the report.

use std::time::Duration;

use chrono::Utc;
use domain::use_cases::broadcasts::Audience;
use futures_util::{StreamExt, stream};
use projections::read_models::users::audience::fix_recipients;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::handlers::BotContext;
use crate::html::escape;
use crate::outgoing::{Pace, SendError};
use crate::runner::BotError;
use crate::texts::{self, Lang, fill};

const BATCH: i64 = 300;
/// Sends waiting for their turn at once (the pacer keeps them within the limits).
const IN_FLIGHT: usize = 32;

/// Sends broadcasts until `shutdown`.
pub async fn run(context: BotContext, shutdown: CancellationToken) {
    // A previous run's last sends may still be inside Telegram's one-second window:
    // this run's pacer does not know them, so it starts after that second.
    tokio::select! {
        () = shutdown.cancelled() => return,
        () = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
    while !shutdown.is_cancelled() {
        let pause = match step(&context, &shutdown).await {
            Ok(Worked::Yes) => Duration::ZERO,
            Ok(Worked::No) => context.settings.sender_poll,
            Ok(Worked::Wait(pause)) => pause,
            Err(error) => {
                tracing::warn!(%error, "a broadcast could not go on; trying again");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

enum Worked {
    Yes,
    No,
    /// Telegram asked every send to wait.
    Wait(Duration),
}

#[derive(sqlx::FromRow)]
struct Sending {
    broadcast_id: Uuid,
    created_by: Uuid,
    text: String,
    photo: Option<String>,
    report_chat: Option<i64>,
}

async fn step(context: &BotContext, shutdown: &CancellationToken) -> Result<Worked, BotError> {
    if fix_next_confirmed(context).await? {
        return Ok(Worked::Yes);
    }
    let sending: Option<Sending> = sqlx::query_as(
        "SELECT broadcast_id, created_by, text, photo, report_chat FROM broadcasts \
         WHERE state = 'sending' ORDER BY confirmed_at, broadcast_id LIMIT 1",
    )
    .fetch_optional(context.pool())
    .await?;
    let Some(broadcast) = sending else {
        return Ok(Worked::No);
    };
    let batch: Vec<i64> = sqlx::query_scalar(
        "SELECT chat_id FROM broadcast_recipients WHERE broadcast_id = $1 AND state = 'pending' \
         ORDER BY chat_id LIMIT $2",
    )
    .bind(broadcast.broadcast_id)
    .bind(BATCH)
    .fetch_all(context.pool())
    .await?;
    if batch.is_empty() {
        finish(context, &broadcast).await?;
        return Ok(Worked::Yes);
    }
    let caption = escape(&broadcast.text);
    // Side by side: each send waits for its own turn (overall and in its chat), so
    // one chat's pause does not hold the others up.
    let outcomes: Vec<Result<Option<Duration>, BotError>> = stream::iter(batch)
        .take_while(|_| futures_util::future::ready(!shutdown.is_cancelled()))
        .map(|chat| send_one(context, &broadcast, &caption, chat))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut wait = None;
    for outcome in outcomes {
        if let Some(pause) = outcome? {
            wait = Some(wait.map_or(pause, |longest: Duration| longest.max(pause)));
        }
    }
    Ok(wait.map_or(Worked::Yes, Worked::Wait))
}

/// Sends the broadcast to `chat`; `Some(pause)` when Telegram asked to wait (the
/// recipient stays pending).
async fn send_one(
    context: &BotContext,
    broadcast: &Sending,
    caption: &str,
    chat: i64,
) -> Result<Option<Duration>, BotError> {
    let id = broadcast.broadcast_id;
    if context.out.is_blocked(chat).await? {
        mark(context, id, chat, "blocked", None).await?;
        return Ok(None);
    }
    // Marked just before the call (after the wait), so a kill leaves as few as
    // possible in doubt.
    context.out.wait_turn(chat, Pace::Bulk).await;
    mark(context, id, chat, "sending", None).await?;
    let sent = match &broadcast.photo {
        Some(photo) => {
            context
                .out
                .photo(chat, photo, caption, None, Pace::Waited)
                .await
        }
        None => context.out.html(chat, caption, None, Pace::Waited).await,
    };
    match sent {
        Ok(_) => mark(context, id, chat, "delivered", None).await?,
        Err(SendError::Blocked) => mark(context, id, chat, "blocked", None).await?,
        Err(SendError::Refused(reason) | SendError::InDoubt(reason)) => {
            mark(context, id, chat, "failed", Some(&reason)).await?;
        }
        Err(SendError::RetryAfter(wait)) => {
            mark(context, id, chat, "pending", None).await?;
            return Ok(Some(wait));
        }
        Err(SendError::Unreachable(reason)) => {
            mark(context, id, chat, "pending", None).await?;
            tracing::warn!(%reason, "Telegram could not be reached during a broadcast");
            return Ok(Some(Duration::from_secs(5)));
        }
    }
    Ok(None)
}

/// Fixes the recipients of the oldest confirmed broadcast and starts sending it;
/// false when none waits.
async fn fix_next_confirmed(context: &BotContext) -> Result<bool, BotError> {
    let mut transaction = context.pool().begin().await?;
    let confirmed: Option<(Uuid, serde_json::Value)> = sqlx::query_as(
        "SELECT broadcast_id, audience FROM broadcasts WHERE state = 'confirmed' \
         ORDER BY confirmed_at, broadcast_id LIMIT 1 FOR UPDATE",
    )
    .fetch_optional(&mut *transaction)
    .await?;
    let Some((broadcast_id, audience)) = confirmed else {
        return Ok(false);
    };
    let fixed = match serde_json::from_value::<Audience>(audience) {
        Ok(audience) => {
            fix_recipients(&mut transaction, broadcast_id, &audience, Utc::now()).await?
        }
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
    tracing::info!(%broadcast_id, recipients = fixed, "a broadcast started");
    Ok(true)
}

async fn mark(
    context: &BotContext,
    broadcast_id: Uuid,
    chat: i64,
    state: &str,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE broadcast_recipients SET state = $3, error = $4, updated_at = $5 \
         WHERE broadcast_id = $1 AND chat_id = $2",
    )
    .bind(broadcast_id)
    .bind(chat)
    .bind(state)
    .bind(error)
    .bind(Utc::now())
    .execute(context.pool())
    .await?;
    Ok(())
}

/// Every recipient was tried: those a crash left `sending` are counted as not
/// delivered (never sent again), the broadcast is done, and its author is told.
async fn finish(context: &BotContext, broadcast: &Sending) -> Result<(), BotError> {
    let id = broadcast.broadcast_id;
    let mut transaction = context.pool().begin().await?;
    sqlx::query(
        "UPDATE broadcast_recipients SET state = 'failed', \
                error = 'interrupted by a restart; not sent again', updated_at = $2 \
         WHERE broadcast_id = $1 AND state = 'sending'",
    )
    .bind(id)
    .bind(Utc::now())
    .execute(&mut *transaction)
    .await?;
    let (delivered, blocked, failed): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'delivered'), count(*) FILTER (WHERE state = 'blocked'), \
                count(*) FILTER (WHERE state = 'failed') \
         FROM broadcast_recipients WHERE broadcast_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *transaction)
    .await?;
    let finished = sqlx::query(
        "UPDATE broadcasts SET state = 'done', finished_at = $2 WHERE broadcast_id = $1 AND state = 'sending'",
    )
    .bind(id)
    .bind(Utc::now())
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await?;
    tracing::info!(broadcast_id = %id, delivered, blocked, failed, "a broadcast is done");
    if let (1, Some(chat)) = (finished.rows_affected(), broadcast.report_chat) {
        let author = context.reads.me(broadcast.created_by, None).await?;
        let lang = Lang::of(author.and_then(|author| author.language).as_deref());
        let report = fill(
            texts::broadcast_report(lang),
            &[
                ("delivered", delivered.to_string()),
                ("blocked", blocked.to_string()),
                ("failed", failed.to_string()),
            ],
        );
        if let Err(error) = context.out.html(chat, &report, None, Pace::Reply).await {
            tracing::warn!(%error, broadcast_id = %id, "a broadcast's report could not be sent");
        }
    }
    Ok(())
}
