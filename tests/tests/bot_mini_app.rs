//! The bot opens the Mini App: with an https public URL the chats' menu button is
//! set to the app and the main menu's first button opens it (`web_app`); without
//! one (Telegram opens only https web apps) neither appears.

use serde_json::Value;
use tests::TestContext;
use tests::api_client::settings;
use tests::app::spawn_app_with_bot;
use tests::bot_client::registered;
use tests::telegram_fake::{BOT_USERNAME, FakeTelegram, TgUser};

async fn app_with(
    context: &TestContext,
    telegram: &FakeTelegram,
    public_url: Option<&str>,
) -> tests::app::TestApp {
    let mut configured = settings(context);
    configured.bot.api_url = telegram.url();
    configured.bot.long_poll_secs = 1;
    configured.bot_username = Some(BOT_USERNAME.to_owned());
    configured.public_url = public_url.map(str::to_owned);
    spawn_app_with_bot(configured).await
}

fn web_app_urls(message: &Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["web_app"]["url"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn with_an_https_address_the_menu_button_and_the_main_menu_open_the_app() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = app_with(&context, &telegram, Some("https://shop.example")).await;
    let set = telegram.wait_for_calls("setChatMenuButton", 1).await;
    assert_eq!(
        set[0].body["menu_button"]["type"], "web_app",
        "{}",
        set[0].body
    );
    assert_eq!(
        set[0].body["menu_button"]["web_app"]["url"],
        "https://shop.example/app/"
    );
    assert_eq!(set[0].body["menu_button"]["text"], "Приложение");

    let customer = TgUser::new(920_001, "Оля", "ru");
    registered(&telegram, &customer).await;
    let menu = telegram.texts_to(customer.id).pop().expect("the main menu");
    assert_eq!(
        web_app_urls(&menu),
        ["https://shop.example/app/"],
        "{menu:#}"
    );
    assert_eq!(
        menu["reply_markup"]["inline_keyboard"][0][0]["text"],
        "📱 Открыть приложение"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn without_an_https_address_no_app_button_is_offered() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = app_with(&context, &telegram, Some("http://127.0.0.1:8080")).await;
    let customer = TgUser::new(920_101, "Петя", "ru");
    registered(&telegram, &customer).await;
    let menu = telegram.texts_to(customer.id).pop().expect("the main menu");
    assert!(web_app_urls(&menu).is_empty(), "{menu:#}");
    assert!(
        telegram.calls("setChatMenuButton").is_empty(),
        "the menu button is left alone"
    );
    app.stop().await;
    context.cleanup().await;
}
