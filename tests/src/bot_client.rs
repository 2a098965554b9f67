//! Driving the bot in tests: the app with its bot pointed at the fake Bot API, the
//! buttons of a message, a customer registered through /start, the events a flow
//! wrote.

use serde_json::Value;

use crate::TestContext;
use crate::api_client::settings;
use crate::app::{TestApp, spawn_app_with_bot};
use crate::telegram_fake::{BOT_USERNAME, FakeTelegram, TgUser};

/// The app with the bot polling `telegram`; `staff_chat` is the staff group.
pub async fn bot_app_with(
    context: &TestContext,
    telegram: &FakeTelegram,
    staff_chat: Option<i64>,
) -> TestApp {
    let mut settings = settings(context);
    settings.bot.api_url = telegram.url();
    settings.bot.long_poll_secs = 1;
    settings.bot.staff_chat_id = staff_chat;
    settings.bot_username = Some(BOT_USERNAME.to_owned());
    spawn_app_with_bot(settings).await
}

pub async fn bot_app(context: &TestContext, telegram: &FakeTelegram) -> TestApp {
    bot_app_with(context, telegram, None).await
}

/// Where the copies of Telegram's own Update samples are kept (from
/// `shared/reference/tg_updates/`, see `SOURCES.md` there).
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tg_updates");

/// One of Telegram's own Update samples, from the copies in `tests/fixtures/`.
pub fn reference_update(name: &str) -> Value {
    let path = format!("{FIXTURES}/{name}");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("the reference update"))
        .expect("JSON")
}

/// The button data of a sent message, row by row.
pub fn buttons(message: &Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["callback_data"].as_str().map(str::to_owned))
        .collect()
}

/// The first button of `message` whose data starts with `prefix`.
pub fn button(message: &Value, prefix: &str) -> String {
    buttons(message)
        .into_iter()
        .find(|data| data.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}… button under {message:#}"))
}

/// The labels of a sent message's buttons, row by row.
pub fn labels(message: &Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["text"].as_str().map(str::to_owned))
        .collect()
}

/// The latest message to `chat` with a button whose data starts with `prefix`, once
/// it came (within 20 s).
pub async fn message_with_button(telegram: &FakeTelegram, chat: i64, prefix: &str) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found = telegram
            .texts_to(chat)
            .into_iter()
            .rev()
            .find(|message| buttons(message).iter().any(|data| data.starts_with(prefix)));
        if let Some(found) = found {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "chat {chat} got no message with a {prefix}… button: {:#?}",
            telegram.texts_to(chat)
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The text of a sent message.
pub fn text(message: &Value) -> &str {
    message["text"].as_str().unwrap_or_default()
}

/// `user` arrives with /start and accepts the terms; the main menu was shown.
pub async fn registered(telegram: &FakeTelegram, user: &TgUser) {
    let before = telegram.texts_to(user.id).len();
    telegram.write(user, "/start");
    let consent = telegram
        .wait_for_texts(user.id, before + 1)
        .await
        .remove(before);
    telegram.press(user, 2, &button(&consent, "consent:"));
    telegram.wait_for_texts(user.id, before + 2).await;
}

pub async fn events_of(
    context: &TestContext,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Vec<(String, Value)> {
    sqlx::query_as(
        "SELECT event_type, payload FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_all(&context.pool)
    .await
    .expect("events")
}
