//! The bot while it runs: one active bot per database (an advisory lock; other
//! processes stand by), fetching updates into the inbox, handling them from there
//! (each chat's in order, chats side by side), and delivering notifications.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use domain::backoff::doubling;
use domain::command::{CommandError, ErrorKind, once_under};
use domain::use_cases::Core;
use domain::use_cases::login_codes::LoginCodeError;
use futures_util::future::join_all;
use projections::ReadModels;
use teloxide::prelude::*;
use teloxide::types::{MenuButton, Update, WebAppInfo};
use tokio::sync::{Mutex, Notify};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::dialogue;
use crate::handlers::{BotContext, Schema, schema};
use crate::html::escape;
use crate::inbox::{self, StoredUpdate};
use crate::outgoing::{Limits, Outgoing, Pace, SendError};
use crate::settings::BotSettings;
use crate::texts::{self, Lang, fill};
use crate::topics::Topics;
use crate::{broadcaster, polling, sender, webhook};

/// The advisory lock of the active bot.
const BOT_LOCK: i64 = 0x4c42_424f_5401;
/// Updates read from the inbox per round.
const ROUND: i64 = 200;
/// At most one error report to the owners per this long.
const ALERT_EVERY: Duration = Duration::from_secs(60);
/// An update cut short by outages fails for good (the user is told) after this many
/// attempts and this long, so one chat is never held up for ever.
const MAX_ATTEMPTS: i32 = 5;
const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::minutes(10);
/// Handled updates are kept this long: under a day, so a photo's caption (an
/// editing's prompt, erasable) never outlives the prompt's own 24 hours (pruning runs
/// hourly).
const KEEP_HANDLED: chrono::Duration = chrono::Duration::hours(22);

/// Why the bot failed.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    LoginCode(#[from] LoginCodeError),
    #[error("the bot cannot start: {0}")]
    Start(String),
}

impl BotError {
    /// Whether handling again later may succeed (an outage), so the update waits.
    fn is_transient(&self) -> bool {
        match self {
            BotError::Command(error) => {
                matches!(error.kind, ErrorKind::Unavailable | ErrorKind::Conflict)
            }
            BotError::Database(error) => domain::event_store::is_transient(error),
            // Not a failed send: what the handler did before it (a command) must not
            // be done again for an answer that did not go out.
            BotError::Send(_) => false,
            BotError::LoginCode(LoginCodeError::Unavailable(_)) => true,
            _ => false,
        }
    }
}

/// Runs the bot until `shutdown`: stands by while another process runs it.
pub async fn run(
    core: Arc<Core>,
    reads: ReadModels,
    settings: BotSettings,
    shutdown: CancellationToken,
) -> Result<(), BotError> {
    let api_url = settings
        .api_url
        .parse()
        .map_err(|error| BotError::Start(format!("LEDGERBOT_BOT_API_URL: {error}")))?;
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .map_err(|error| BotError::Start(error.to_string()))?;
    let bot = Bot::with_client(settings.token.clone(), client).set_api_url(api_url);
    let pool = core.pool().clone();
    let mut attempt = 0;
    while !shutdown.is_cancelled() {
        let active = projections::advisory::while_holding(
            &pool,
            BOT_LOCK,
            active(&core, &reads, &settings, &bot, &shutdown),
        )
        .await;
        let pause = match active {
            Ok(Some(())) => return Ok(()),
            Ok(None) => Duration::from_secs(5),
            Err(error) => {
                attempt += 1;
                tracing::warn!(%error, "the bot could not run; trying again");
                doubling(attempt, Duration::from_secs(1), Duration::from_secs(30))
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
    Ok(())
}

async fn active(
    core: &Arc<Core>,
    reads: &ReadModels,
    settings: &BotSettings,
    bot: &Bot,
    shutdown: &CancellationToken,
) -> Result<(), BotError> {
    let Some(username) = who_am_i(bot, shutdown).await else {
        return Ok(());
    };
    tracing::info!(%username, "the bot is running");
    offer_the_app(bot, settings).await;
    let context = BotContext {
        core: core.clone(),
        reads: reads.clone(),
        out: Outgoing::new(
            bot.clone(),
            core.pool().clone(),
            Limits::with_overall_rate(settings.sends_per_second),
        ),
        settings: Arc::new(settings.clone()),
        username: username.into(),
        topics: Topics::new(core.pool().clone()),
    };
    // The parts below stop with this run: when the run is dropped (the advisory lock
    // was lost) the guard cancels them, so no second sender outlives it.
    let scope = shutdown.child_token();
    let _stop_parts = scope.clone().drop_guard();
    let arrived = Arc::new(Notify::new());
    let fetching = match settings.webhook.clone() {
        Some(webhook) => tokio::spawn(webhook::serve(
            bot.clone(),
            core.pool().clone(),
            webhook,
            arrived.clone(),
            scope.clone(),
        )),
        None => tokio::spawn(polling::poll(
            context.clone(),
            arrived.clone(),
            scope.clone(),
        )),
    };
    let delivering = tokio::spawn(sender::deliver(context.clone(), scope.clone()));
    let broadcasting = tokio::spawn(broadcaster::run(context.clone(), scope.clone()));
    handle_inbox(context, arrived, scope.clone()).await;
    let _ = fetching.await;
    let _ = delivering.await;
    let _ = broadcasting.await;
    Ok(())
}

/// Makes the chats' menu button open the Mini App, when it has an address. A
/// failure is only logged: the bot works without it.
async fn offer_the_app(bot: &Bot, settings: &BotSettings) {
    let Some(url) = settings.app_url.clone() else {
        return;
    };
    let button = MenuButton::WebApp {
        text: texts::menu_button_app(Lang::Ru).to_owned(),
        web_app: WebAppInfo { url },
    };
    match bot.set_chat_menu_button().menu_button(button).await {
        Ok(_) => tracing::info!("the menu button opens the Mini App"),
        Err(error) => tracing::warn!(%error, "the menu button could not be set to the Mini App"),
    }
}

/// The bot's @username from getMe, asked until Telegram answers or `shutdown`.
async fn who_am_i(bot: &Bot, shutdown: &CancellationToken) -> Option<String> {
    let mut attempt = 0;
    loop {
        match bot.get_me().await {
            Ok(me) => return Some(me.user.username.unwrap_or_default()),
            Err(error) => {
                attempt += 1;
                tracing::warn!(%error, "Telegram's getMe failed; trying again");
            }
        }
        let pause = doubling(attempt, Duration::from_secs(1), Duration::from_secs(60));
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Handles what the inbox holds until `shutdown`.
async fn handle_inbox(context: BotContext, arrived: Arc<Notify>, shutdown: CancellationToken) {
    let schema = Arc::new(schema());
    let alerts = Arc::new(Mutex::new(None::<Instant>));
    let mut pruned_at: Option<Instant> = None;
    let mut failed_rounds = 0;
    while !shutdown.is_cancelled() {
        if pruned_at.is_none_or(|at| at.elapsed() > Duration::from_secs(3_600)) {
            pruned_at = Some(Instant::now());
            match inbox::prune(context.pool(), chrono::Utc::now() - KEEP_HANDLED).await {
                Ok(0) => {}
                Ok(deleted) => {
                    tracing::info!(deleted, "handled updates older than 22 hours deleted")
                }
                Err(error) => tracing::warn!(%error, "old handled updates could not be deleted"),
            }
        }
        let pause = match inbox::unhandled(context.pool(), ROUND).await {
            Ok(updates) if updates.is_empty() => Duration::from_millis(500),
            Ok(updates) => {
                let mut by_chat: BTreeMap<Option<i64>, Vec<StoredUpdate>> = BTreeMap::new();
                for update in updates {
                    by_chat.entry(update.chat_id).or_default().push(update);
                }
                let rounds = by_chat.into_values().map(|updates| {
                    let (context, schema, alerts) =
                        (context.clone(), schema.clone(), alerts.clone());
                    async move {
                        for update in updates {
                            if !handle_one(&context, &schema, &alerts, update).await {
                                return false;
                            }
                        }
                        true
                    }
                });
                if join_all(rounds).await.iter().all(|done| *done) {
                    failed_rounds = 0;
                    Duration::ZERO
                } else {
                    failed_rounds += 1;
                    doubling(
                        failed_rounds,
                        Duration::from_secs(1),
                        Duration::from_secs(30),
                    )
                }
            }
            Err(error) => {
                tracing::warn!(%error, "the bot's inbox could not be read; trying again");
                Duration::from_secs(1)
            }
        };
        if pause.is_zero() {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = arrived.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Handles one stored update; `false` when it must wait (an outage), which holds
/// back its chat's later updates.
async fn handle_one(
    context: &BotContext,
    schema: &Schema,
    alerts: &Mutex<Option<Instant>>,
    stored: StoredUpdate,
) -> bool {
    let Some(update) = inbox::parse(&stored.body) else {
        tracing::info!(
            update = stored.update_id,
            "an update this version cannot read; skipped"
        );
        let error = "an update of a kind or shape this version cannot read";
        return inbox::mark_handled(context.pool(), stored.update_id, Some(error), None)
            .await
            .is_ok();
    };
    // Handled again: the dialogue goes back to the step the first attempt met (a
    // failure to do so counts as an attempt cut short by an outage).
    let restored = match (stored.dialogue_kept, stored.chat_id) {
        (true, Some(chat)) => {
            dialogue::restore(context.pool(), chat, stored.dialogue_before.as_ref()).await
        }
        _ => Ok(()),
    };
    let started = Instant::now();
    // Handled again after an outage, its commands that had committed are not
    // run twice.
    let key = format!(
        "telegram-update:{}@{}",
        stored.update_id,
        stored.received_at.timestamp_micros()
    );
    let outcome = match restored {
        Err(error) => std::ops::ControlFlow::Break(Err(BotError::from(error))),
        Ok(()) => {
            let dispatched =
                schema.dispatch(teloxide::dptree::deps![context.clone(), update.clone()]);
            once_under(
                key,
                stored.received_at,
                dialogue::handling_update(stored.update_id, dispatched),
            )
            .await
        }
    };
    let error = match outcome {
        std::ops::ControlFlow::Break(Ok(())) | std::ops::ControlFlow::Continue(_) => None,
        std::ops::ControlFlow::Break(Err(error)) if error.is_transient() => {
            match inbox::attempted(context.pool(), stored.update_id).await {
                Ok((attempts, received_at))
                    if attempts >= MAX_ATTEMPTS
                        && chrono::Utc::now() - received_at > GIVE_UP_AFTER =>
                {
                    tracing::warn!(update = stored.update_id, %error, attempts, "an update failed on every attempt; given up");
                    Some(error)
                }
                _ => {
                    tracing::warn!(update = stored.update_id, %error, "an update could not be handled now; it waits");
                    return false;
                }
            }
        }
        std::ops::ControlFlow::Break(Err(error)) => Some(error),
    };
    let took = Some(started.elapsed());
    tracing::debug!(
        update = stored.update_id,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "update handled"
    );
    let recorded = match &error {
        None => None,
        Some(error) => Some(apologise(context, alerts, &update, error).await),
    };
    match inbox::mark_handled(context.pool(), stored.update_id, recorded.as_deref(), took).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(update = stored.update_id, %error, "a handled update could not be marked; it will be handled again");
            false
        }
    }
}

/// Tells the user something went wrong and the owners what (at most once a minute);
/// the error as recorded, with its id.
async fn apologise(
    context: &BotContext,
    alerts: &Mutex<Option<Instant>>,
    update: &Update,
    error: &BotError,
) -> String {
    let id = Uuid::now_v7().simple().to_string()[20..].to_owned();
    tracing::error!(error_id = %id, %error, "an update could not be handled");
    let lang = Lang::of(update.from().and_then(|user| user.language_code.as_deref()));
    if let Some(chat) = update.chat().filter(|chat| chat.is_private()) {
        let apology = fill(texts::apology(lang), &[("id", id.clone())]);
        let _ = context
            .out
            .html(chat.id.0, &apology, None, Pace::Reply)
            .await;
    }
    let due = {
        let mut last = alerts.lock().await;
        let due = last.is_none_or(|at| at.elapsed() >= ALERT_EVERY);
        if due {
            *last = Some(Instant::now());
        }
        due
    };
    if due {
        let alert = fill(
            texts::owner_alert(Lang::Ru),
            &[("id", id.clone()), ("error", escape(&error.to_string()))],
        );
        for owner in &context.settings.owner_telegram_ids {
            let _ = context.out.html(*owner, &alert, None, Pace::Bulk).await;
        }
    }
    format!("{id}: {error}")
}
