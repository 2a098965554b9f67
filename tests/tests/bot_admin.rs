//! Admins in the bot against the fake Bot API: /stats from the analytics read model,
//! finding users and changing their role or blocking them, and a broadcast to 1,000
//! people that keeps to Telegram's limits, survives a SIGKILL of the bot's process
//! without sending anyone the message twice, and ends with a delivery report.

use std::collections::HashMap;
use std::time::Duration;

use domain::permissions::Role;
use futures_util::{StreamExt, stream};
use tests::TestContext;
use tests::api_client::settings;
use tests::app::{LedgerbotProcess, spawn_app};
use tests::bot_client::{bot_app, button, events_of, registered, text};
use tests::people::{owner, staff};
use tests::settles;
use tests::telegram_fake::{BOT_USERNAME, FakeTelegram, TgUser};

#[tokio::test]
async fn an_admin_reads_stats_finds_a_user_changes_the_role_and_blocks() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 9_000).await;
    staff(&core, boss, 9_001, "Админ", Role::Admin).await;
    let admin = TgUser::new(9_001, "Админ", "ru");
    let customer = TgUser::new(9_002, "Кира <i>", "ru");
    registered(&telegram, &customer).await;
    let customer_id = core
        .user_of_telegram(9_002)
        .await
        .expect("reads")
        .expect("registered");

    // A customer is refused the admin menu.
    telegram.write(&customer, "/admin");
    telegram.wait_for_text(9_002, "для администраторов").await;

    settles(
        "the day's figures show the three",
        Duration::from_secs(20),
        async || {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT sum(new_users)::bigint FROM rm_daily_stats",
            )
            .fetch_one(&context.pool)
            .await
            .expect("reads")
                == Some(3)
        },
    )
    .await;
    telegram.write(&admin, "/admin");
    let menu = telegram.wait_for_text(9_001, "Администрирование").await;
    telegram.press(&admin, 5, &button(&menu, "admin:stats"));
    let stats = telegram.wait_for_text(9_001, "Статистика").await;
    insta::assert_json_snapshot!("bot_stats", text(&stats));

    // Found by @username; the card offers block and the roles.
    telegram.write(&admin, "/find_user @user9002");
    let found = telegram.wait_for_text(9_001, "Пользователи:").await;
    assert!(text(&found).contains("Кира &lt;i&gt;"), "{found:#}");
    telegram.press(&admin, 6, &button(&found, "user:"));
    let card = telegram.wait_for_text(9_001, "Telegram id").await;
    let today = chrono::Utc::now().format("%d.%m.%Y").to_string();
    insta::assert_json_snapshot!("bot_user_card", text(&card).replace(&today, "[today]"));

    telegram.write(&admin, "/role @user9002 executor");
    telegram
        .wait_for_text(9_001, "Готово: • Кира &lt;i&gt; @user9002 — исполнитель")
        .await;
    let block = button(&card, "ua:");
    assert!(block.ends_with(":block"), "{card:#}");
    telegram.press(&admin, 7, &block);
    telegram.wait_for_text(9_001, "🚫").await;
    let changes: Vec<String> = events_of(&context, "User", &customer_id.to_string())
        .await
        .into_iter()
        .map(|(event_type, _)| event_type)
        .collect();
    assert!(
        changes.ends_with(&["RoleChanged".to_owned(), "UserBlocked".to_owned()]),
        "{changes:?}"
    );
    telegram.write(&customer, "/orders");
    telegram.wait_for_text(9_002, "заблокирован").await;

    // A role an admin may not give is refused in words.
    telegram.write(&admin, "/role @user9002 owner");
    telegram.wait_for_text(9_001, "Не получилось").await;

    app.stop().await;
    context.cleanup().await;
}

const PEOPLE: i64 = 1_000;
const FIRST_ID: i64 = 9_100_000;

fn bot_process_env(context: &TestContext, telegram: &FakeTelegram) -> Vec<(String, String)> {
    let mut env = context.env();
    env.extend([
        (
            "LEDGERBOT_BOT_TOKEN".to_owned(),
            "4242:test-token".to_owned(),
        ),
        ("LEDGERBOT_BOT_API_URL".to_owned(), telegram.url()),
        ("LEDGERBOT_BOT_USERNAME".to_owned(), BOT_USERNAME.to_owned()),
        ("LEDGERBOT_BOT_LONG_POLL_SECS".to_owned(), "1".to_owned()),
    ]);
    env
}

/// The broadcast's messages per chat, and when each came, on the fake's clock.
fn broadcast_calls(telegram: &FakeTelegram, needle: &str) -> Vec<(i64, tokio::time::Instant)> {
    telegram
        .calls("sendMessage")
        .into_iter()
        .filter(|call| {
            call.body["text"]
                .as_str()
                .is_some_and(|text| text.contains(needle))
        })
        .filter_map(|call| call.body["chat_id"].as_i64().map(|chat| (chat, call.at)))
        .collect()
}

#[tokio::test]
async fn a_broadcast_to_a_thousand_keeps_the_limits_survives_a_kill_and_reports() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = spawn_app(settings(&context), api::startup::Parts::ALL).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 9_000).await;
    staff(&core, boss, 9_001, "Админ", Role::Admin).await;
    stream::iter(0..PEOPLE)
        .for_each_concurrent(8, |index| {
            let core = core.clone();
            async move {
                let id = FIRST_ID + index;
                core.sign_in(
                    &tests::people::telegram(id, "Клиент"),
                    None,
                    chrono::Utc::now(),
                )
                .await
                .expect("signs in");
            }
        })
        .await;
    let everyone = PEOPLE + 2;
    settles(
        "every user is in the read model",
        Duration::from_secs(60),
        async || {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM rm_users")
                .fetch_one(&context.pool)
                .await
                .expect("counts")
                == everyone
        },
    )
    .await;
    for blocked in 0..10 {
        telegram.block(FIRST_ID + blocked * 97);
    }
    let env = bot_process_env(&context, &telegram);
    let bot = LedgerbotProcess::start(&["bot"], &env).await;

    let admin = TgUser::new(9_001, "Админ", "ru");
    telegram.write(&admin, "/broadcast");
    let audiences = telegram.wait_for_text(9_001, "Кому отправить").await;
    telegram.press(&admin, 5, &button(&audiences, "bc:aud:everyone"));
    telegram.wait_for_text(9_001, "Пришлите текст").await;
    let message = "Скидки <50%> сегодня & завтра";
    telegram.write(&admin, message);
    let confirm = telegram.wait_for_text(9_001, "Получателей: 1002").await;
    telegram.press(&admin, 6, &button(&confirm, "bc:send:"));
    telegram.wait_for_text(9_001, "Рассылка запущена").await;

    let needle = "Скидки &lt;50%&gt; сегодня &amp; завтра";
    settles("a third is sent", Duration::from_secs(60), async || {
        broadcast_calls(&telegram, needle).len() >= 300
    })
    .await;
    bot.kill().await;
    let at_kill = broadcast_calls(&telegram, needle).len();
    let in_doubt: i64 =
        sqlx::query_scalar("SELECT count(*) FROM broadcast_recipients WHERE state = 'sending'")
            .fetch_one(&context.pool)
            .await
            .expect("counts");
    let bot = LedgerbotProcess::start(&["bot"], &env).await;
    let report = telegram
        .wait_for_text_within(9_001, "Рассылка завершена", Duration::from_secs(120))
        .await;

    // The admin's first copy is the preview.
    let mut calls = broadcast_calls(&telegram, needle);
    let preview = calls
        .iter()
        .position(|(chat, _)| *chat == 9_001)
        .expect("the preview");
    calls.remove(preview);
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    for (chat, _) in &calls {
        *per_chat.entry(*chat).or_default() += 1;
    }
    let twice: Vec<_> = per_chat.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "sent twice to {twice:?}");
    let mut moments: Vec<_> = calls.iter().map(|(_, at)| *at).collect();
    moments.sort();
    let in_a_second = |index: usize| {
        moments[index..]
            .iter()
            .take_while(|at| **at < moments[index] + Duration::from_secs(1))
            .count()
    };
    let (busiest_start, busiest) = (0..moments.len())
        .map(|index| (index, in_a_second(index)))
        .max_by_key(|(_, count)| *count)
        .unwrap_or_default();
    assert!(
        busiest <= 30,
        "{busiest} messages in the second from message {busiest_start} ({at_kill} were sent before the kill)"
    );
    let figures: Vec<i64> = text(&report)
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|number| number.parse().ok())
        .collect();
    let [delivered, blocked, failed] = figures[..] else {
        panic!("a report of three figures: {report:#}");
    };
    assert_eq!(blocked, 10, "{report:#}");
    // Exactly the sends in flight at the kill are in doubt, never sent again.
    assert_eq!(
        failed, in_doubt,
        "only the messages in flight at the kill: {report:#}"
    );
    assert_eq!(delivered + blocked + failed, everyone, "{report:#}");
    // Chats where Telegram showed it (a blocked chat is refused, or never asked when
    // an earlier notice had found it blocked).
    let mut shown: HashMap<i64, i64> = HashMap::new();
    for call in telegram.calls("sendMessage") {
        let ours = call.body["text"]
            .as_str()
            .is_some_and(|text| text.contains(needle));
        if let (false, true, Some(chat)) = (call.refused, ours, call.body["chat_id"].as_i64()) {
            *shown.entry(chat).or_default() += 1;
        }
    }
    // The admin's first copy was the preview.
    *shown.entry(9_001).or_default() -= 1;
    let received = shown.values().filter(|count| **count > 0).count() as i64;
    assert!(
        delivered <= received && received <= delivered + failed,
        "{received} chats got it, the report says {report:#}"
    );
    println!(
        "broadcast: {} messages, {at_kill} before the kill, busiest second {busiest}, report: {}",
        calls.len(),
        text(&report)
    );

    bot.kill().await;
    app.stop().await;
    context.cleanup().await;
}
