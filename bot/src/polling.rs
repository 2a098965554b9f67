//! Long polling: getUpdates, each batch stored in the inbox before the next call,
//! whose offset tells Telegram the batch arrived. A crash between the two loses
//! nothing: the next start asks without an offset, Telegram sends again what was not
//! confirmed, and what was stored already is stored once. (Telegram may pick update
//! ids at random after a quiet week, so no offset is derived from stored ids.)

use std::sync::Arc;
use std::time::Duration;

use domain::backoff::doubling;
use serde_json::{Value, json};
use teloxide::prelude::*;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::handlers::BotContext;
use crate::inbox;

/// Fetches updates until `shutdown`, waking `arrived` after each stored batch.
pub async fn poll(context: BotContext, arrived: Arc<Notify>, shutdown: CancellationToken) {
    let bot = context.out.bot().clone();
    if let Err(error) = bot.delete_webhook().await {
        tracing::warn!(%error, "the webhook could not be removed before long polling");
    }
    let timeout = u32::try_from(context.settings.long_poll.as_secs()).unwrap_or(25);
    let mut failures = 0;
    let mut offset = None;
    while !shutdown.is_cancelled() {
        let pause = match fetch_once(&context, &bot, offset, timeout, &shutdown).await {
            Ok(Fetched::Nothing) => Duration::ZERO,
            Ok(Fetched::Stored { next_offset }) => {
                failures = 0;
                offset = Some(next_offset);
                arrived.notify_one();
                Duration::ZERO
            }
            Err(Fetch::Wait(wait)) => wait,
            Err(Fetch::Failed(error)) => {
                failures += 1;
                tracing::warn!(%error, "getUpdates failed; trying again");
                doubling(failures, Duration::from_secs(1), Duration::from_secs(60))
            }
        };
        if !pause.is_zero() {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

enum Fetch {
    Wait(Duration),
    Failed(String),
}

/// What one getUpdates brought.
enum Fetched {
    /// No update (or shut down meanwhile).
    Nothing,
    /// Updates stored; the offset that confirms them.
    Stored { next_offset: i64 },
}

/// One getUpdates from `offset` on, its updates stored. The call is made by hand so
/// each update is stored exactly as Telegram sent it (teloxide's `Update` does not
/// serialize back to its JSON).
async fn fetch_once(
    context: &BotContext,
    bot: &Bot,
    offset: Option<i64>,
    timeout: u32,
    shutdown: &CancellationToken,
) -> Result<Fetched, Fetch> {
    let pool = context.pool();
    let url = format!(
        "{}/bot{}/getUpdates",
        context.settings.api_url.trim_end_matches('/'),
        bot.token()
    );
    let mut parameters = json!({
        "timeout": timeout,
        "allowed_updates": ["message", "callback_query"],
    });
    if let Some(offset) = offset {
        parameters["offset"] = json!(offset);
    }
    let request = bot
        .client()
        .post(url)
        .timeout(Duration::from_secs(u64::from(timeout) + 10))
        .json(&parameters)
        .send();
    let answer: Value = tokio::select! {
        () = shutdown.cancelled() => return Ok(Fetched::Nothing),
        answer = request => match answer {
            // `without_url`: the URL carries the bot's token.
            Ok(response) => response.json().await.map_err(|error| Fetch::Failed(error.without_url().to_string()))?,
            Err(error) => return Err(Fetch::Failed(error.without_url().to_string())),
        },
    };
    if answer["ok"] != json!(true) {
        if let Some(wait) = answer["parameters"]["retry_after"].as_u64() {
            return Err(Fetch::Wait(Duration::from_secs(wait)));
        }
        return Err(Fetch::Failed(format!(
            "Telegram refused getUpdates: {}",
            answer["description"].as_str().unwrap_or("no description")
        )));
    }
    let updates = answer["result"].as_array().cloned().unwrap_or_default();
    let mut newest = None;
    for body in &updates {
        let Some(update_id) = body["update_id"].as_i64() else {
            tracing::warn!("Telegram sent an update without an update_id; skipped");
            continue;
        };
        let chat = inbox::parse(body).and_then(|update| update.chat().map(|chat| chat.id.0));
        inbox::store(pool, update_id, chat, body)
            .await
            .map_err(|error| Fetch::Failed(error.to_string()))?;
        newest = newest.max(Some(update_id));
    }
    Ok(match newest {
        Some(newest) => Fetched::Stored {
            next_offset: newest + 1,
        },
        None => Fetched::Nothing,
    })
}
