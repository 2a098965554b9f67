//! The notification sender: delivers what the notifications read model says is
//! pending, once each. A delivery is recorded `sending` before the call and its
//! outcome after, so a restart neither repeats a notice Telegram may have shown nor
//! forgets one not yet tried; a 429 is waited out, a user who blocked the bot is
//! skipped, a transient failure is tried again with a doubling pause.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use domain::backoff::doubling;
use domain::command::CommandError;
use futures_util::{StreamExt, stream};
use projections::read_models::files::Variant;
use projections::read_models::notifications::deliveries::{self, Delivery, PendingNotice};
use teloxide::types::ThreadId;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::handlers::BotContext;
use crate::notices::{buttons, render};
use crate::outgoing::{Pace, SendError};
use crate::texts::Lang;

const BATCH: i64 = 100;
/// Recipients sent to side by side.
const RECIPIENTS_AT_ONCE: usize = 16;

/// Delivers notifications until `shutdown`, batch by batch: within a batch each
/// recipient's oldest first, recipients side by side (one waiting for its chat's gap
/// does not hold up the others' sends in the batch).
pub async fn deliver(context: BotContext, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let pause = match deliveries::pending(context.pool(), Utc::now(), BATCH).await {
            Ok(due) if due.is_empty() => context.settings.sender_poll,
            Ok(due) => deliver_batch(&context, due, &shutdown).await,
            Err(error) => {
                tracing::warn!(%error, "pending notifications could not be read; trying again");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Delivers `due`, oldest first per recipient; the pause before the next batch.
async fn deliver_batch(
    context: &BotContext,
    due: Vec<PendingNotice>,
    shutdown: &CancellationToken,
) -> Duration {
    let mut by_recipient: BTreeMap<(String, Option<Uuid>), Vec<PendingNotice>> = BTreeMap::new();
    for notice in due {
        let key = (notice.recipient.clone(), notice.user_id);
        by_recipient.entry(key).or_default().push(notice);
    }
    let pauses: Vec<Duration> = stream::iter(by_recipient.into_values())
        .map(|notices| async move {
            for notice in notices {
                if shutdown.is_cancelled() {
                    break;
                }
                match deliver_one(context, &notice).await {
                    Ok(Some(wait)) => return wait,
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(notification = %notice.notification_id, %error, "a notification's delivery could not be recorded; trying again");
                        return Duration::from_secs(1);
                    }
                }
            }
            Duration::ZERO
        })
        .buffer_unordered(RECIPIENTS_AT_ONCE)
        .collect()
        .await;
    pauses.into_iter().max().unwrap_or_default()
}

/// Delivers one notice; `Some(pause)` when Telegram asked every send to wait.
async fn deliver_one(
    context: &BotContext,
    notice: &PendingNotice,
) -> Result<Option<Duration>, CommandError> {
    let now = Utc::now();
    let pool = context.pool();
    let id = notice.notification_id.as_str();
    if notice
        .params
        .get("deleted")
        .and_then(|deleted| deleted.as_bool())
        == Some(true)
    {
        let gone = Delivery::Failed {
            error: "the message was deleted before it was sent".into(),
        };
        deliveries::record(pool, id, &gone, now).await?;
        return Ok(None);
    }
    let (chat, lang) = match (notice.recipient.as_str(), notice.user_id) {
        ("staff_group", _) => match context.settings.staff_chat_id {
            Some(chat) => (chat, Lang::Ru),
            None => {
                let unset = Delivery::Failed {
                    error: "no staff group is configured (LEDGERBOT_STAFF_CHAT_ID)".into(),
                };
                deliveries::record(pool, id, &unset, now).await?;
                return Ok(None);
            }
        },
        (_, Some(user_id)) => match context.core.telegram_of_user(user_id).await? {
            Some(chat) => {
                let me = context.reads.me(user_id, None).await?;
                (chat, Lang::of(me.and_then(|me| me.language).as_deref()))
            }
            None => {
                let unknown = Delivery::Failed {
                    error: "the user has no Telegram account".into(),
                };
                deliveries::record(pool, id, &unknown, now).await?;
                return Ok(None);
            }
        },
        (recipient, None) => {
            let unknown = Delivery::Failed {
                error: format!("unknown recipient {recipient}"),
            };
            deliveries::record(pool, id, &unknown, now).await?;
            return Ok(None);
        }
    };
    if context.out.is_blocked(chat).await? {
        deliveries::record(pool, id, &Delivery::Blocked, now).await?;
        return Ok(None);
    }
    let text = render(&notice.template, &notice.params, lang);
    let to_staff_group = notice.recipient == "staff_group";
    let keyboard = buttons(&notice.template, &notice.params, to_staff_group, lang);
    let sent = match topic_of(context, notice, chat).await {
        Ok(thread) => {
            // Marked just before the call (after the wait for its turn), so a kill
            // leaves only a request in flight in doubt.
            let attached = attached_image(context, notice).await;
            context.out.wait_turn(chat, Pace::Bulk).await;
            deliveries::record(pool, id, &Delivery::Sending, Utc::now()).await?;
            let with_file = match attached {
                Some((file, name)) => Some(
                    context
                        .out
                        .kept_file(chat, file, &name, &text, keyboard.clone(), Pace::Waited)
                        .await,
                ),
                None => None,
            };
            match with_file {
                // Telegram refused the file itself (its shape, its size): the notice
                // still goes, as text.
                Some(Err(SendError::Refused(reason))) => {
                    tracing::warn!(%reason, "a generation's image was refused; its notice goes as text");
                    context
                        .out
                        .html_in(chat, thread, &text, keyboard, Pace::Waited)
                        .await
                }
                Some(sent) => sent,
                None => {
                    context
                        .out
                        .html_in(chat, thread, &text, keyboard, Pace::Waited)
                        .await
                }
            }
        }
        Err(refusal) => Err(refusal),
    };
    let now = Utc::now();
    let retry_in = |pause: Duration| Delivery::Retrying {
        error: String::new(),
        next_attempt_at: now + chrono::Duration::from_std(pause).unwrap_or_default(),
    };
    let (outcome, pause) = match sent {
        Ok(_) => (Delivery::Sent, None),
        Err(SendError::Blocked) => (Delivery::Blocked, None),
        Err(SendError::RetryAfter(wait)) => {
            let mut outcome = retry_in(wait);
            if let Delivery::Retrying { error, .. } = &mut outcome {
                *error = format!("Telegram asked to wait {} s", wait.as_secs());
            }
            (outcome, Some(wait))
        }
        Err(SendError::Unreachable(reason)) => {
            let pause = doubling(
                i64::from(notice.attempts) + 1,
                Duration::from_secs(1),
                Duration::from_secs(600),
            );
            let mut outcome = retry_in(pause);
            if let Delivery::Retrying { error, .. } = &mut outcome {
                *error = reason;
            }
            (outcome, None)
        }
        Err(SendError::Refused(reason)) => (Delivery::Failed { error: reason }, None),
        // Telegram may have shown it: not sent again.
        Err(SendError::InDoubt(reason)) => (
            Delivery::Failed {
                error: format!("in doubt, not sent again: {reason}"),
            },
            None,
        ),
    };
    deliveries::record(pool, id, &outcome, now).await?;
    Ok(pause)
}

/// The image a "generation succeeded" notice carries to its owner: the result's
/// bytes to stream (with their size) and a name, read as the owner may read them.
/// `None` (the notice goes as text) when the file cannot be read now, was erased,
/// or is not an image.
async fn attached_image(
    context: &BotContext,
    notice: &PendingNotice,
) -> Option<((tokio::fs::File, u64), String)> {
    let (Some(owner), "generation_succeeded") = (notice.user_id, notice.template.as_str()) else {
        return None;
    };
    let file_id = notice
        .params
        .get("result_file")
        .and_then(|id| id.as_str())
        .and_then(|id| id.parse::<Uuid>().ok())?;
    let domain::use_cases::identity::Standing::Active { caller, .. } =
        context.core.standing_of(owner).await.ok()?
    else {
        return None;
    };
    let content = context
        .reads
        .file_content(
            caller,
            file_id,
            Variant::Original,
            &context.core.files.store,
        )
        .await
        .map_err(|error| tracing::warn!(%error, %file_id, "a generation's image is sent as text"))
        .ok()?;
    if !content.content_type.starts_with("image/") || content.size > LARGEST_ATTACHED {
        return None;
    }
    let name = format!(
        "image.{}",
        content.content_type.trim_start_matches("image/")
    );
    Some(((content.bytes, content.size), name))
}

/// The largest file a notice carries (Telegram's bots send documents up to 50 MB).
const LARGEST_ATTACHED: u64 = 50 * 1024 * 1024;

/// The forum topic of the ticket a staff group notice is about, if the group has
/// topics.
async fn topic_of(
    context: &BotContext,
    notice: &PendingNotice,
    chat: i64,
) -> Result<Option<ThreadId>, SendError> {
    let ticket = notice
        .params
        .get("ticket_id")
        .and_then(|id| id.as_str())
        .and_then(|id| id.parse::<Uuid>().ok());
    let (true, Some(ticket_id)) = (notice.recipient == "staff_group", ticket) else {
        return Ok(None);
    };
    let title = notice
        .params
        .get("title")
        .and_then(|title| title.as_str())
        .unwrap_or("ticket");
    context
        .topics
        .of_ticket(&context.out, chat, ticket_id, title, true)
        .await
}
