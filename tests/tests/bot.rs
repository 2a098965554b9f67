//! The Telegram bot end to end: the real dispatcher of `ledgerbot serve` against a
//! fake Bot API (`telegram_fake`), down to the events in Postgres.

use std::time::Duration;

use chrono::Utc;
use domain::permissions::Role;
use domain::use_cases::login_codes::Collected;
use domain::use_cases::users::UserChange;
use serde_json::{Value, json};
use tests::TestContext;
use tests::bot_client::{bot_app, buttons, events_of, reference_update};
use tests::people::{owner, signed_in, staff};
use tests::settles;
use tests::telegram_fake::{FakeTelegram, TgUser};

#[tokio::test]
async fn a_newcomer_is_registered_only_after_agreeing_to_the_terms() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let core = app.state.core.clone();

    // Telegram's own sample of a /start message predates `is_bot`, which Telegram
    // sends today and teloxide requires: as it is, it is set aside, not a crash.
    let unreadable = telegram.feed(reference_update("official_message_start.json"));
    settles(
        "the unreadable update is set aside",
        Duration::from_secs(10),
        async || {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT error FROM bot_updates WHERE update_id = $1",
            )
            .bind(unreadable)
            .fetch_optional(&context.pool)
            .await
            .expect("reads")
            .flatten()
            .is_some_and(|error| error.contains("cannot read"))
        },
    )
    .await;
    // With `is_bot` it is a newcomer's /start (no language: Russian).
    let mut start = reference_update("official_message_start.json");
    start["message"]["from"]["is_bot"] = json!(false);
    telegram.feed(start);
    let consent = telegram.wait_for_texts(1_111_111, 1).await.remove(0);
    insta::assert_json_snapshot!(
        "bot_consent",
        json!({"text": consent["text"], "parse_mode": consent["parse_mode"], "keyboard": consent["reply_markup"]})
    );
    assert_eq!(
        core.user_of_telegram(1_111_111).await.expect("reads"),
        None,
        "nobody is registered before agreeing"
    );

    let stranger = TgUser::new(1_111_111, "Test Firstname", "ru");
    telegram.press(&stranger, 2, &buttons(&consent)[0]);
    let menu = telegram.wait_for_texts(1_111_111, 2).await.remove(1);
    insta::assert_json_snapshot!(
        "bot_main_menu",
        json!({"text": menu["text"], "keyboard": menu["reply_markup"]})
    );
    let edits = telegram.wait_for_calls("editMessageText", 1).await;
    assert!(
        edits[0].body["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Test Firstname")
    );
    let user_id = core
        .user_of_telegram(1_111_111)
        .await
        .expect("reads")
        .expect("registered");
    let events = events_of(&context, "User", &user_id.to_string()).await;
    let types: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(types, ["UserRegistered", "ConsentGiven"]);
    assert_eq!(
        events[1].1["ConsentGiven"]["terms_version"],
        json!("2026-12-01")
    );
    // A button press is always answered, so the client's spinner stops.
    assert_eq!(telegram.calls("answerCallbackQuery").len(), 1);
    // The update was confirmed to Telegram only once it was stored.
    assert!(telegram.confirmed(700_000_002));

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_referral_link_names_the_referrer_and_names_are_escaped() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let core = app.state.core.clone();
    let referrer = signed_in(&core, 5_001, "Вера").await;
    let (user, _) = core
        .commands
        .users
        .load(&referrer.user_id.to_string())
        .await
        .expect("loads");
    let code = user.referral_code().to_owned();

    let friend = TgUser::new(5_002, "<b>Bob</b> & Co", "en");
    telegram.write(&friend, &format!("/start ref_{code}"));
    let consent = telegram.wait_for_texts(5_002, 1).await.remove(0);
    assert!(
        consent["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Hello!"),
        "English for an English client"
    );
    telegram.press(&friend, 2, &buttons(&consent)[0]);
    let menu = telegram.wait_for_texts(5_002, 2).await.remove(1);
    assert_eq!(
        menu["text"],
        json!("Welcome, &lt;b&gt;Bob&lt;/b&gt; &amp; Co! What would you like to do?")
    );
    let friend_id = core
        .user_of_telegram(5_002)
        .await
        .expect("reads")
        .expect("registered");
    let (friend_user, _) = core
        .commands
        .users
        .load(&friend_id.to_string())
        .await
        .expect("loads");
    assert_eq!(friend_user.referrer_id(), Some(referrer.user_id));

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn staff_confirm_a_desktop_sign_in_once_and_customers_cannot() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 6_000).await;
    staff(&core, boss, 6_001, "Саша", Role::Support).await;
    signed_in(&core, 6_002, "Клиент").await;
    let issued = core
        .issue_login_code("203.0.113.7, <script>Firefox</script>", Utc::now())
        .await
        .expect("issued");

    let support = TgUser::new(6_001, "Саша", "ru");
    telegram.write(&support, &format!("/start login_{}", issued.code));
    let request = telegram.wait_for_texts(6_001, 1).await.remove(0);
    insta::assert_json_snapshot!("bot_login_request", request["text"]);
    let presses = buttons(&request);
    assert_eq!(
        presses,
        [
            format!("login:ok:{}", issued.code),
            format!("login:no:{}", issued.code)
        ]
    );
    telegram.press(&support, 2, &presses[0]);
    let edits = telegram.wait_for_calls("editMessageText", 1).await;
    assert!(
        edits[0].body["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("✅")
    );
    let collected = core
        .collect_login_code(
            &issued.code,
            &issued.secret,
            Utc::now(),
            |staff| async move { Ok::<_, ()>(staff.user_id) },
        )
        .await
        .expect("collects");
    assert!(matches!(collected, Collected::SignedIn { .. }));

    // Pressing again does not confirm twice.
    telegram.press(&support, 2, &presses[0]);
    let edits = telegram.wait_for_calls("editMessageText", 2).await;
    assert!(
        edits[1].body["text"]
            .as_str()
            .unwrap_or_default()
            .contains("уже подтверждён")
    );

    // A customer cannot confirm anyone's sign-in.
    let another = core
        .issue_login_code("198.51.100.1, Safari", Utc::now())
        .await
        .expect("issued");
    telegram.write(
        &TgUser::new(6_002, "Клиент", "ru"),
        &format!("/start login_{}", another.code),
    );
    // (Other notices, the welcome allowance's, may come first.)
    telegram
        .wait_for_text(6_002, "только для сотрудников")
        .await;

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_customer_opens_a_ticket_keeps_writing_and_gets_the_reply_once() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 7_000).await;
    let agent = staff(&core, boss, 7_001, "Саша", Role::Support).await;
    let customer = signed_in(&core, 7_002, "Дарья").await;
    let dasha = TgUser::new(7_002, "Дарья", "ru");

    telegram.write(&dasha, "/support");
    telegram.wait_for_text(7_002, "Опишите вопрос").await;
    telegram.write(&dasha, "Заказ <b>опаздывает</b>\nУже два дня");
    telegram
        .wait_for_text(7_002, "«Заказ &lt;b&gt;опаздывает&lt;/b&gt;» создано")
        .await;
    telegram.write(&dasha, "Номер заказа 42");
    telegram.wait_for_text(7_002, "Передано в поддержку").await;

    let page = projections::read_models::paging::Page::new(Some(5), None).expect("page");
    let filter = projections::read_models::tickets::TicketFilter::default();
    settles(
        "the ticket shows its messages",
        Duration::from_secs(10),
        async || {
            let tickets = app
                .state
                .reads
                .tickets(customer, &filter, &page)
                .await
                .expect("reads")
                .items;
            tickets
                .first()
                .is_some_and(|ticket| ticket.message_count >= 1)
        },
    )
    .await;
    let tickets = app
        .state
        .reads
        .tickets(customer, &filter, &page)
        .await
        .expect("reads")
        .items;
    assert_eq!(tickets.len(), 1);
    let ticket_id = tickets[0].ticket_id.clone();
    let types: Vec<String> = events_of(&context, "Ticket", &ticket_id)
        .await
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(types, ["TicketOpened", "MessagePosted"]);

    // The staff reply reaches the customer's chat, escaped, once.
    core.post_ticket_message(
        agent,
        ticket_id.parse().expect("uuid"),
        "Проверим <i>сегодня</i> & напишем".into(),
        false,
        Utc::now(),
    )
    .await
    .expect("replied");
    let reply = telegram
        .wait_for_text(7_002, "Проверим &lt;i&gt;сегодня&lt;/i&gt; &amp; напишем")
        .await;
    assert_eq!(reply["parse_mode"], json!("HTML"));
    insta::assert_json_snapshot!("bot_ticket_reply", reply["text"]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let replies = telegram
        .texts_to(7_002)
        .into_iter()
        .filter(|text| {
            text["text"]
                .as_str()
                .unwrap_or_default()
                .contains("Проверим")
        })
        .count();
    assert_eq!(replies, 1);

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_blocked_user_is_refused_politely() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 8_000).await;
    let troll = signed_in(&core, 8_001, "Тролль").await;
    core.change_user(
        boss,
        troll.user_id,
        UserChange::Block {
            reason: "spam".into(),
        },
        Utc::now(),
    )
    .await
    .expect("blocked");

    let user = TgUser::new(8_001, "Тролль", "ru");
    telegram.write(&user, "/orders");
    telegram.write(&user, "/start");
    let texts = telegram.wait_for_texts(8_001, 2).await;
    for text in &texts {
        assert!(
            text["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Ваш аккаунт заблокирован"),
            "{text}"
        );
    }
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn notifications_are_delivered_once_across_restarts_429s_and_blocked_chats() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 9_000).await;
    let promoted = signed_in(&core, 9_001, "Ира").await;
    let gone = signed_in(&core, 9_002, "Ушёл").await;
    telegram.block(9_002);
    telegram.too_many_next(1);
    core.change_user(
        boss,
        promoted.user_id,
        UserChange::Role(Role::Executor),
        Utc::now(),
    )
    .await
    .expect("promoted");
    core.change_user(
        boss,
        gone.user_id,
        UserChange::Role(Role::Support),
        Utc::now(),
    )
    .await
    .expect("promoted");
    core.change_user(
        boss,
        gone.user_id,
        UserChange::Role(Role::Executor),
        Utc::now(),
    )
    .await
    .expect("promoted");

    telegram
        .wait_for_text(9_001, "Ваша роль теперь: исполнитель")
        .await;
    let deliveries = async || -> Vec<(String, i32)> {
        sqlx::query_as(
            "SELECT state, attempts FROM notification_deliveries ORDER BY state, attempts",
        )
        .fetch_all(&context.pool)
        .await
        .expect("deliveries")
    };
    let to_gone = async || -> (i64, i64) {
        sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE d.state = 'blocked') FROM rm_notifications n \
             LEFT JOIN notification_deliveries d USING (notification_id) WHERE n.user_id = $1",
        )
        .bind(gone.user_id)
        .fetch_one(&context.pool)
        .await
        .expect("deliveries")
    };
    settles(
        "the notice answered 429 was shown",
        Duration::from_secs(20),
        async || {
            telegram.delivered_to(9_001).iter().any(|text| {
                text["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("исполнитель")
            })
        },
    )
    .await;
    settles(
        "every notice to the chat that blocked the bot is recorded blocked",
        Duration::from_secs(10),
        async || {
            let (notices, blocked) = to_gone().await;
            notices >= 3 && notices == blocked
        },
    )
    .await;
    // Telegram was asked once; the chat's later notices were never sent.
    assert_eq!(telegram.texts_to(9_002).len(), 1);
    let blocked_chats: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bot_blocked_chats WHERE chat_id = 9002")
            .fetch_one(&context.pool)
            .await
            .expect("reads");
    assert_eq!(blocked_chats, 1);
    app.stop().await;
    let app = bot_app(&context, &telegram).await;
    // A notice made after the restart is delivered: the sender ran, and sent nothing
    // of what it had sent before.
    let core = app.state.core.clone();
    core.change_user(
        boss,
        promoted.user_id,
        UserChange::Role(Role::Support),
        Utc::now(),
    )
    .await
    .expect("promoted again");
    telegram
        .wait_for_text(9_001, "Ваша роль теперь: поддержка")
        .await;
    let role_notices = telegram
        .delivered_to(9_001)
        .into_iter()
        .filter(|text| {
            text["text"]
                .as_str()
                .unwrap_or_default()
                .contains("Ваша роль")
        })
        .count();
    assert_eq!(role_notices, 2, "a restart sends nothing again");
    // The outcome is recorded just after Telegram answers the send the fake saw.
    settles(
        "every notice ends sent or blocked",
        Duration::from_secs(10),
        async || {
            deliveries()
                .await
                .iter()
                .all(|(state, _)| state == "sent" || state == "blocked")
        },
    )
    .await;
    let states = deliveries().await;
    assert!(
        states.iter().any(|(_, attempts)| *attempts == 2),
        "the notice answered 429 was tried again: {states:?}"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_dialogue_and_a_stored_update_survive_a_restart() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let core = app.state.core.clone();
    let customer = signed_in(&core, 9_501, "Лена").await;
    let lena = TgUser::new(9_501, "Лена", "ru");
    telegram.write(&lena, "/support");
    telegram.wait_for_texts(9_501, 1).await;
    app.stop().await;

    // An update stored before a crash, never handled.
    sqlx::query("INSERT INTO bot_updates (update_id, chat_id, body) VALUES ($1, $2, $3)")
        .bind(1_i64)
        .bind(9_501_i64)
        .bind(
            json!({"update_id": 1, "message": {"message_id": 99, "date": 1_700_000_000,
            "from": {"id": 9_501, "is_bot": false, "first_name": "Лена"},
            "chat": {"id": 9_501, "type": "private", "first_name": "Лена"},
            "text": "Не приходит чек"}}),
        )
        .execute(&context.pool)
        .await
        .expect("stored");

    let app = bot_app(&context, &telegram).await;
    telegram
        .wait_for_text(9_501, "«Не приходит чек» создано")
        .await;
    let page = projections::read_models::paging::Page::new(Some(5), None).expect("page");
    let filter = projections::read_models::tickets::TicketFilter::default();
    settles("the ticket is open", Duration::from_secs(10), async || {
        !app.state
            .reads
            .tickets(customer, &filter, &page)
            .await
            .expect("reads")
            .items
            .is_empty()
    })
    .await;
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn webhook_updates_are_stored_before_the_200_and_handled_after_a_restart() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let mut settings = tests::api_client::settings(&context);
    settings.bot.api_url = telegram.url();
    settings.bot.webhook_on = Some("https://bot.example".to_owned());
    settings.bot_username = Some(tests::telegram_fake::BOT_USERNAME.to_owned());
    let webhook = bot::Webhook::new(
        "https://bot.example",
        None,
        settings.auth.bot_token.as_deref().expect("a token"),
    );
    // The API alone: it takes updates while no bot handles them (as after a crash).
    let api_only = tests::app::spawn_app(settings.clone(), api::startup::Parts::ALL).await;
    let client = reqwest::Client::new();
    let post = |secret: Option<&str>, body: Value| {
        let mut request = client
            .post(api_only.url(bot::webhook::WEBHOOK_PATH))
            .json(&body);
        if let Some(secret) = secret {
            request = request.header(bot::webhook::SECRET_HEADER, secret);
        }
        request.send()
    };
    let newcomer = TgUser::new(7_700, "Вебхук", "ru");
    let update = json!({"update_id": 900_001, "message": {
        "message_id": 1, "date": Utc::now().timestamp(),
        "from": {"id": 7_700, "is_bot": false, "first_name": newcomer.first_name, "language_code": "ru"},
        "chat": {"id": 7_700, "type": "private", "first_name": newcomer.first_name},
        "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}});
    let wrong = post(Some("not-the-secret"), update.clone())
        .await
        .expect("answers");
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);
    let missing = post(None, update.clone()).await.expect("answers");
    assert_eq!(missing.status(), reqwest::StatusCode::UNAUTHORIZED);
    let junk = post(Some(webhook.secret()), json!({"hello": 1}))
        .await
        .expect("answers");
    assert_eq!(junk.status(), reqwest::StatusCode::BAD_REQUEST);
    for _ in 0..2 {
        let taken = post(Some(webhook.secret()), update.clone())
            .await
            .expect("answers");
        assert_eq!(
            taken.status(),
            reqwest::StatusCode::OK,
            "Telegram may send it again"
        );
    }
    let stored: Vec<(i64, bool)> =
        sqlx::query_as("SELECT update_id, handled_at IS NOT NULL FROM bot_updates")
            .fetch_all(&context.pool)
            .await
            .expect("reads");
    assert_eq!(stored, [(900_001, false)], "stored once, before the 200");
    api_only.stop().await;

    // With the bot running again it is handled, once; Telegram was told the webhook.
    let app = tests::app::spawn_app_with_bot(settings).await;
    let consent = telegram.wait_for_texts(7_700, 1).await;
    assert!(
        consent[0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("условия")
    );
    let set = telegram.wait_for_calls("setWebhook", 1).await;
    assert_eq!(
        set[0].body["url"],
        json!("https://bot.example/telegram/webhook")
    );
    assert_eq!(set[0].body["secret_token"], json!(webhook.secret()));
    assert!(
        telegram.calls("getUpdates").is_empty(),
        "no polling in webhook mode"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(telegram.texts_to(7_700).len(), 1, "handled once");

    app.stop().await;
    context.cleanup().await;
}

/// The copies in `tests/fixtures/` are the reference folder's files. Skipped where
/// the folder is absent (a clone outside the work tree).
#[test]
fn the_update_fixtures_are_copies_of_the_reference_samples() {
    let folder =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/tg_updates");
    if !folder.exists() {
        eprintln!("{} is absent; comparing nothing", folder.display());
        return;
    }
    let copies = std::fs::read_dir(tests::bot_client::FIXTURES).expect("the fixtures");
    for copy in copies {
        let copy = copy.expect("an entry").path();
        let name = copy.file_name().expect("a name");
        let original = std::fs::read(folder.join(name)).expect("the reference sample");
        assert_eq!(
            std::fs::read(&copy).expect("the copy"),
            original,
            "{copy:?}"
        );
    }
}
