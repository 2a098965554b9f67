//! Sends confirmed broadcasts. A confirmed broadcast's recipients are fixed once
//! (`broadcast_recipients`, in the transaction that moves it to `sending`); each is
//! then sent to through the paced way out, marked `sending` just before the call and
//! given its outcome after, so a restart continues where it stopped and never sends
//! anyone the message twice. When none is pending the author gets the report. The
//! records are `projections::read_models::broadcasts`.

use std::time::Duration;

use chrono::Utc;
use futures_util::{StreamExt, stream};
use projections::read_models::broadcasts::{self, RecipientState, SendingBroadcast};
use tokio_util::sync::CancellationToken;

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

async fn step(context: &BotContext, shutdown: &CancellationToken) -> Result<Worked, BotError> {
    let pool = context.pool();
    if let Some((broadcast_id, recipients)) =
        broadcasts::start_next_confirmed(pool, Utc::now()).await?
    {
        tracing::info!(%broadcast_id, recipients, "a broadcast started");
        return Ok(Worked::Yes);
    }
    let Some(broadcast) = broadcasts::sending(pool).await? else {
        return Ok(Worked::No);
    };
    let batch = broadcasts::pending_recipients(pool, broadcast.broadcast_id, BATCH).await?;
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
    broadcast: &SendingBroadcast,
    caption: &str,
    chat: i64,
) -> Result<Option<Duration>, BotError> {
    let id = broadcast.broadcast_id;
    let mark = |state: RecipientState, error: Option<String>| async move {
        broadcasts::mark(
            context.pool(),
            id,
            chat,
            state,
            error.as_deref(),
            Utc::now(),
        )
        .await
    };
    if context.out.is_blocked(chat).await? {
        mark(RecipientState::Blocked, None).await?;
        return Ok(None);
    }
    // Marked just before the call (after the wait), so a kill leaves as few as
    // possible in doubt.
    context.out.wait_turn(chat, Pace::Bulk).await;
    mark(RecipientState::Sending, None).await?;
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
        Ok(_) => mark(RecipientState::Delivered, None).await?,
        Err(SendError::Blocked) => mark(RecipientState::Blocked, None).await?,
        Err(SendError::Refused(reason) | SendError::InDoubt(reason)) => {
            mark(RecipientState::Failed, Some(reason)).await?;
        }
        Err(SendError::RetryAfter(wait)) => {
            mark(RecipientState::Pending, None).await?;
            return Ok(Some(wait));
        }
        Err(SendError::Unreachable(reason)) => {
            mark(RecipientState::Pending, None).await?;
            tracing::warn!(%reason, "Telegram could not be reached during a broadcast");
            return Ok(Some(Duration::from_secs(5)));
        }
    }
    Ok(None)
}

/// Every recipient was tried: the broadcast is done and its author gets the report.
async fn finish(context: &BotContext, broadcast: &SendingBroadcast) -> Result<(), BotError> {
    let id = broadcast.broadcast_id;
    let Some(report) = broadcasts::finish(context.pool(), id, Utc::now()).await? else {
        return Ok(());
    };
    tracing::info!(broadcast_id = %id, delivered = report.delivered, blocked = report.blocked, failed = report.failed, "a broadcast is done");
    let Some(chat) = broadcast.report_chat else {
        return Ok(());
    };
    let author = context.reads.me(broadcast.created_by, None).await?;
    let lang = Lang::of(author.and_then(|author| author.language).as_deref());
    let text = fill(
        texts::broadcast_report(lang),
        &[
            ("delivered", report.delivered.to_string()),
            ("blocked", report.blocked.to_string()),
            ("failed", report.failed.to_string()),
        ],
    );
    if let Err(error) = context.out.html(chat, &text, None, Pace::Reply).await {
        tracing::warn!(%error, broadcast_id = %id, "a broadcast's report could not be sent");
    }
    Ok(())
}
