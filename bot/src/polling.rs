//! Long polling: getUpdates, each batch stored in the inbox before the next call,
//! whose offset tells Telegram the batch arrived. A crash between the two loses
//! nothing: the next start asks from the newest stored update on.

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
    while !shutdown.is_cancelled() {
        let pause = match fetch_once(&context, &bot, timeout, &shutdown).await {
            Ok(Some(0)) | Ok(None) => Duration::ZERO,
            Ok(Some(_)) => {
                failures = 0;
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

/// One getUpdates; the number of updates stored, `None` when shut down meanwhile.
/// The call is made by hand so each update is stored exactly as Telegram sent it
/// (teloxide's `Update` does not serialize back to its JSON).
async fn fetch_once(
    context: &BotContext,
    bot: &Bot,
    timeout: u32,
    shutdown: &CancellationToken,
) -> Result<Option<usize>, Fetch> {
    let pool = context.pool();
    let offset = inbox::next_offset(pool)
        .await
        .map_err(|error| Fetch::Failed(error.to_string()))?;
    let url = format!(
        "{}/bot{}/getUpdates",
        context.settings.api_url.trim_end_matches('/'),
        bot.token()
    );
    let request = bot
        .client()
        .post(url)
        .timeout(Duration::from_secs(u64::from(timeout) + 10))
        .json(&json!({
            "offset": offset,
            "timeout": timeout,
            "allowed_updates": ["message", "callback_query"],
        }))
        .send();
    let answer: Value = tokio::select! {
        () = shutdown.cancelled() => return Ok(None),
        answer = request => match answer {
            Ok(response) => response.json().await.map_err(|error| Fetch::Failed(error.to_string()))?,
            Err(error) => return Err(Fetch::Failed(error.to_string())),
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
    for body in &updates {
        let Some(update_id) = body["update_id"].as_i64() else {
            tracing::warn!("Telegram sent an update without an update_id; skipped");
            continue;
        };
        let chat = inbox::parse(body).and_then(|update| update.chat().map(|chat| chat.id.0));
        inbox::store(pool, update_id, chat, body)
            .await
            .map_err(|error| Fetch::Failed(error.to_string()))?;
    }
    Ok(Some(updates.len()))
}
