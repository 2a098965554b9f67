//! Commands done once under a key (`domain::command::once_under`): the bot handling
//! updates again (as after an outage between a command's commit and the update
//! being marked handled) creates nothing twice and posts nothing twice, and the core
//! called twice at once under one key commits once, even where the command alone
//! would not be idempotent.

use std::time::Duration;

use chrono::Utc;
use domain::command::once_under;
use domain::ticket::TicketStatus;
use domain::use_cases::tickets::{NewTicket, TicketChange};
use tests::TestContext;
use tests::bot_client::{bot_app, events_of, registered};
use tests::people::{owner, signed_in};
use tests::settles;
use tests::telegram_fake::{FakeTelegram, TgUser};

async fn ticket_events(context: &TestContext) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT aggregate_id, event_type FROM events WHERE aggregate_type = 'Ticket' \
         ORDER BY aggregate_id, sequence",
    )
    .fetch_all(&context.pool)
    .await
    .expect("reads")
}

#[tokio::test]
async fn updates_handled_again_open_one_ticket_and_post_one_message() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app(&context, &telegram).await;
    let dasha = TgUser::new(7_502, "Дарья", "ru");
    registered(&telegram, &dasha).await;
    telegram.write(&dasha, "/support");
    telegram.wait_for_text(7_502, "Опишите вопрос").await;
    telegram.write(&dasha, "Не пришёл заказ");
    telegram.wait_for_text(7_502, "создано").await;
    telegram.write(&dasha, "Номер 42");
    telegram.wait_for_text(7_502, "Передано в поддержку").await;
    let first = ticket_events(&context).await;
    assert_eq!(first.len(), 2, "{first:?}");

    // The question and the follow-up are handled once more, in order, as after an
    // outage that struck after their commands (and the dialogue's next step) were
    // written: the question starts again from the step it first met, so it does not
    // become a follow-up, and neither opens or posts anything again.
    let again = sqlx::query(
        "UPDATE bot_updates SET handled_at = NULL \
         WHERE chat_id = 7502 AND (body::text LIKE '%Не пришёл заказ%' OR body::text LIKE '%Номер 42%')",
    )
    .execute(&context.pool)
    .await
    .expect("marked unhandled")
    .rows_affected();
    assert_eq!(again, 2, "the question, the follow-up");
    sqlx::query("SELECT pg_notify('bot_updates_arrived', '')")
        .execute(&context.pool)
        .await
        .expect("notified");
    telegram
        .wait_for_nth_text(7_502, "Передано в поддержку", 2)
        .await;
    settles(
        "every update is handled again",
        Duration::from_secs(10),
        async || {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM bot_updates WHERE handled_at IS NULL",
            )
            .fetch_one(&context.pool)
            .await
            .expect("reads")
                == 0
        },
    )
    .await;
    assert_eq!(
        ticket_events(&context).await,
        first,
        "one ticket, one message"
    );
    let keys: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT metadata->>'command_key' FROM events WHERE aggregate_type = 'Ticket' ORDER BY sequence",
    )
    .fetch_all(&context.pool)
    .await
    .expect("reads");
    assert!(
        keys.iter().all(|key| key
            .as_deref()
            .is_some_and(|key| key.starts_with("telegram-update:"))),
        "{keys:?}"
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_core_called_twice_at_once_under_one_key_commits_once() {
    let context = TestContext::new().await;
    let app = tests::app::spawn_app(
        tests::api_client::settings(&context),
        api::startup::Parts::ALL,
    )
    .await;
    let core = app.state.core.clone();
    let customer = signed_in(&core, 7_600, "Ира").await;
    let at = Utc::now();
    let open = || {
        once_under(
            "test-input:1".to_owned(),
            at,
            core.open_ticket(
                customer,
                NewTicket {
                    category: "general".to_owned(),
                    title: "Вопрос".to_owned(),
                    description: "Где заказ?".to_owned(),
                    priority: None,
                },
                Utc::now(),
            ),
        )
    };
    let (one, two) = tokio::join!(open(), open());
    let (one, two) = (one.expect("opened"), two.expect("answered"));
    assert_eq!(one.aggregate_id, two.aggregate_id, "the same ticket");
    let post = || {
        once_under(
            "test-input:2".to_owned(),
            at,
            core.post_ticket_message(
                customer,
                one.aggregate_id.parse().expect("uuid"),
                "Ещё вопрос".to_owned(),
                false,
                Utc::now(),
            ),
        )
    };
    let posted = futures_util::future::join_all([post(), post(), post()]).await;
    assert!(posted.iter().all(Result::is_ok), "{posted:?}");
    let types: Vec<String> = events_of(&context, "Ticket", &one.aggregate_id)
        .await
        .into_iter()
        .map(|(event_type, _)| event_type)
        .collect();
    assert_eq!(types, ["TicketOpened", "MessagePosted"]);
    // Outside a key the same call is a new message each time.
    core.post_ticket_message(
        customer,
        one.aggregate_id.parse().expect("uuid"),
        "Ещё вопрос".to_owned(),
        false,
        Utc::now(),
    )
    .await
    .expect("posted");
    assert_eq!(
        events_of(&context, "Ticket", &one.aggregate_id).await.len(),
        3
    );

    // Rating twice is refused by the ticket; under one key the repeat answers as the
    // first did, and one rating is stored.
    let boss = owner(&core, 7_601).await;
    let ticket: uuid::Uuid = one.aggregate_id.parse().expect("uuid");
    core.change_ticket(
        boss,
        ticket,
        TicketChange::Status(TicketStatus::Resolved),
        Utc::now(),
    )
    .await
    .expect("resolved");
    let rate = || {
        once_under(
            "test-input:3".to_owned(),
            at,
            core.change_ticket(
                customer,
                ticket,
                TicketChange::Rate {
                    stars: 5,
                    comment: None,
                },
                Utc::now(),
            ),
        )
    };
    rate().await.expect("rated");
    rate().await.expect("the repeat answers as the first");
    let rate_again = core
        .change_ticket(
            customer,
            ticket,
            TicketChange::Rate {
                stars: 4,
                comment: None,
            },
            Utc::now(),
        )
        .await;
    assert!(
        rate_again.is_err(),
        "outside the key a second rating is refused"
    );
    let ratings = events_of(&context, "Ticket", &one.aggregate_id)
        .await
        .into_iter()
        .filter(|(event_type, _)| event_type == "SupportRated")
        .count();
    assert_eq!(ratings, 1);

    app.stop().await;
    context.cleanup().await;
}
