//! The bot's working flows end to end against the fake Bot API: a customer orders a
//! coursework in a dialogue, staff price it, the customer pays in the sandbox and is
//! told, an executor takes it from the pool and delivers; a ticket gets its own topic
//! in a forum staff group and support answers there.

use std::time::Duration;

use domain::permissions::Role;
use serde_json::json;
use tests::TestContext;
use tests::bot_client::{
    bot_app_with, button, buttons, events_of, message_with_button, registered, text,
};
use tests::paying::checkout;
use tests::people::{owner, staff};
use tests::settles;
use tests::telegram_fake::{FakeTelegram, TgUser};

const STAFF_GROUP: i64 = -100_555_000;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/// A kept file's purpose and what it is attached to.
async fn attached_to(
    context: &TestContext,
    file_id: &serde_json::Value,
) -> (String, Option<String>, Option<String>) {
    sqlx::query_as(
        "SELECT purpose, attached_kind, attached_id FROM stored_files WHERE file_id = $1::uuid",
    )
    .bind(file_id.as_str().expect("a file id"))
    .fetch_one(&context.pool)
    .await
    .expect("a kept file")
}

async fn order_ids(context: &TestContext) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = 'Order' ORDER BY 1",
    )
    .fetch_all(&context.pool)
    .await
    .expect("orders")
}

async fn order_status(context: &TestContext, order_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM rm_orders WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(&context.pool)
        .await
        .expect("reads")
        .unwrap_or_default()
}

#[tokio::test]
async fn a_coursework_is_ordered_priced_paid_taken_and_delivered_in_the_bot() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, Some(STAFF_GROUP)).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 7_000).await;
    staff(&core, boss, 7_002, "Админ", Role::Admin).await;
    staff(&core, boss, 7_003, "Автор", Role::Executor).await;
    let customer = TgUser::new(7_001, "Аня", "ru");
    let admin = TgUser::new(7_002, "Админ", "ru");
    let author = TgUser::new(7_003, "Автор", "ru");
    registered(&telegram, &customer).await;

    // The brief, field by field; a bad volume is asked again.
    telegram.write(&customer, "/neworder");
    let kinds = message_with_button(&telegram, 7_001, "brief:type:").await;
    telegram.press(&customer, 10, &button(&kinds, "brief:type:0"));
    telegram.wait_for_text(7_001, "Предмет").await;
    telegram.write(&customer, "История <России>");
    telegram.wait_for_text(7_001, "Объём").await;
    telegram.write(&customer, "двадцать");
    telegram.wait_for_text(7_001, "числом от 1 до 10000").await;
    telegram.write(&customer, "25");
    telegram.wait_for_text(7_001, "ДД.ММ.ГГГГ").await;
    let deadline = (chrono::Utc::now() + chrono::Duration::days(10)).format("%d.%m.%Y");
    telegram.write(&customer, &deadline.to_string());
    telegram.wait_for_text(7_001, "Пришлите материалы").await;
    // A document is fetched from Telegram and kept as the brief's material; a
    // photo is not a type a brief takes (PDF, DOCX, XLSX), and the bot says so.
    telegram.put_file("photo-of-a-task", tests::ai_fakes::jpeg(64, 48, 1));
    telegram.send_photo(&customer, "photo-of-a-task", "");
    telegram.wait_for_text(7_001, "must be one of").await;
    telegram.put_file("materials-file-1", PDF.to_vec());
    telegram.send_document(&customer, "materials-file-1");
    let added = telegram.wait_for_text(7_001, "Получено файлов: 1").await;
    telegram.press(&customer, 11, &button(&added, "brief:files_done"));
    let summary = message_with_button(&telegram, 7_001, "brief:place").await;
    insta::assert_json_snapshot!(
        "bot_brief_summary",
        json!({"text": text(&summary).replace(&deadline.to_string(), "[deadline]"), "buttons": buttons(&summary)})
    );
    telegram.press(&customer, 12, "brief:place");
    telegram.wait_for_text(7_001, "отправлен").await;
    let orders = order_ids(&context).await;
    assert_eq!(orders.len(), 1, "one order placed");
    let order_id = orders[0].clone();
    let placed = events_of(&context, "Order", &order_id).await;
    assert_eq!(placed[0].0, "OrderPlaced");
    let brief = &placed[0].1["OrderPlaced"]["details"];
    assert_eq!(brief["subject"], json!("История <России>"), "{placed:#?}");
    assert_eq!(brief["volume"], json!(25));
    assert_eq!(brief["files"], json!([]), "no Telegram file ids any more");
    let materials = brief["attachments"].as_array().expect("kept files");
    assert_eq!(materials.len(), 1, "{brief}");
    assert_eq!(
        attached_to(&context, &materials[0]).await,
        (
            "coursework".to_owned(),
            Some("order".to_owned()),
            Some(order_id.clone())
        ),
        "the material is the order's"
    );

    // The staff group gets a card; the admin opens it and sets the price.
    let card = message_with_button(&telegram, STAFF_GROUP, "order:").await;
    assert!(text(&card).contains("История &lt;России&gt;"), "{card:#}");
    telegram.press(&admin, 20, &button(&card, "order:"));
    let admin_card = message_with_button(&telegram, 7_002, "act:").await;
    telegram.press(
        &admin,
        21,
        &button(&admin_card, &format!("act:{order_id}:quote")),
    );
    telegram.wait_for_text(7_002, "Цена заказа в рублях").await;
    telegram.write(&admin, "1500");
    telegram.wait_for_text(7_002, "Готово").await;

    // The customer is told the price, accepts it and pays in the sandbox.
    let quoted = telegram.wait_for_text(7_001, "1500.00 ₽").await;
    telegram.press(&customer, 30, &button(&quoted, "order:"));
    let with_accept = message_with_button(&telegram, 7_001, "act:").await;
    telegram.press(
        &customer,
        31,
        &button(&with_accept, &format!("act:{order_id}:accept_quote")),
    );
    telegram.wait_for_text(7_001, "Готово: ждёт оплаты").await;
    telegram.press(&customer, 32, &format!("order:{order_id}"));
    let with_pay = message_with_button(&telegram, 7_001, "pay:").await;
    telegram.press(&customer, 33, &button(&with_pay, "pay:"));
    let link = telegram.wait_for_text(7_001, "Тестовый режим").await;
    let url = link["reply_markup"]["inline_keyboard"][0][0]["url"]
        .as_str()
        .expect("a payment link")
        .to_owned();
    // Pressing "pay" on the same card again gives the same payment.
    telegram.press(&customer, 33, &button(&with_pay, "pay:"));
    let again = telegram.wait_for_nth_text(7_001, "Тестовый режим", 2).await;
    assert_eq!(
        again["reply_markup"]["inline_keyboard"][0][0]["url"],
        json!(url),
        "the same payment"
    );
    checkout(&app, &url, "pay").await;
    telegram.wait_for_text(7_001, "оплачен: 1500.00 ₽").await;
    let payments: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rm_payments WHERE order_id = $1::uuid")
            .bind(&order_id)
            .fetch_one(&context.pool)
            .await
            .expect("payments");
    assert_eq!(payments, 1, "one payment for two presses");

    // The executor finds it in the pool, takes it, starts and submits a file.
    telegram.write(&author, "/pool");
    let pool = message_with_button(&telegram, 7_003, "order:").await;
    telegram.press(&author, 40, &button(&pool, "order:"));
    let take = message_with_button(&telegram, 7_003, "act:").await;
    telegram.press(&author, 41, &button(&take, &format!("act:{order_id}:take")));
    telegram
        .wait_for_text(7_003, "Готово: исполнитель назначен")
        .await;
    telegram.write(&author, &format!("/order {order_id}"));
    let start = message_with_button(&telegram, 7_003, &format!("act:{order_id}:start")).await;
    telegram.press(
        &author,
        42,
        &button(&start, &format!("act:{order_id}:start")),
    );
    telegram.wait_for_text(7_003, "Готово: в работе").await;
    telegram.write(&author, "/mywork");
    let mine = message_with_button(&telegram, 7_003, "order:").await;
    telegram.press(&author, 43, &button(&mine, "order:"));
    let submit = message_with_button(&telegram, 7_003, &format!("act:{order_id}:submit")).await;
    telegram.press(
        &author,
        44,
        &button(&submit, &format!("act:{order_id}:submit")),
    );
    telegram
        .wait_for_text(7_003, "Пришлите файлы результата")
        .await;
    telegram.press(&author, 45, "submit:");
    telegram.wait_for_text(7_003, "хотя бы один файл").await;
    telegram.put_file("result-file-1", PDF.to_vec());
    telegram.send_document(&author, "result-file-1");
    telegram.wait_for_text(7_003, "Получено файлов: 1").await;
    telegram.press(&author, 46, "submit:");
    telegram
        .wait_for_text(7_003, "Готово: результат готов")
        .await;

    // The customer is told and accepts; the executor hears of it.
    let ready = telegram.wait_for_text(7_001, "готов").await;
    telegram.press(&customer, 50, &button(&ready, "order:"));
    let result = message_with_button(&telegram, 7_001, &format!("act:{order_id}:revision")).await;
    assert!(buttons(&result).contains(&format!("act:{order_id}:accept")));
    telegram.press(&customer, 51, &format!("act:{order_id}:accept"));
    telegram.wait_for_text(7_003, "принял").await;
    settles(
        "the order is accepted",
        Duration::from_secs(20),
        async || order_status(&context, &order_id).await == "accepted",
    )
    .await;
    let history: Vec<String> = events_of(&context, "Order", &order_id)
        .await
        .into_iter()
        .map(|(event_type, _)| event_type)
        .collect();
    assert_eq!(
        history,
        [
            "OrderPlaced",
            "PriceQuoted",
            "QuoteAccepted",
            "PaymentOpened",
            "OrderPaid",
            "ExecutorAssigned",
            "WorkStarted",
            "ResultSubmitted",
            "ResultAccepted"
        ]
    );
    let submitted = &events_of(&context, "Order", &order_id).await[7].1["ResultSubmitted"];
    let results = submitted["attachments"].as_array().expect("kept files");
    assert_eq!(results.len(), 1, "{submitted}");
    assert_eq!(
        attached_to(&context, &results[0]).await.1.as_deref(),
        Some("order"),
        "the result is the order's, so its customer reads it"
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn support_answers_a_ticket_in_its_forum_topic_and_notes_stay_inside() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, Some(STAFF_GROUP)).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 8_000).await;
    staff(&core, boss, 8_002, "Оля", Role::Support).await;
    let customer = TgUser::new(8_001, "Петя", "ru");
    let agent = TgUser::new(8_002, "Оля", "ru");
    let stranger = TgUser::new(8_003, "Гость", "ru");
    registered(&telegram, &customer).await;
    registered(&telegram, &stranger).await;

    telegram.write(&customer, "/support");
    telegram.wait_for_text(8_001, "Опишите вопрос").await;
    telegram.write(&customer, "Не пришли кредиты");
    telegram.wait_for_text(8_001, "создано").await;

    // The ticket gets its topic, named by its title, and its card lands there.
    let topics = telegram.wait_for_calls("createForumTopic", 1).await;
    assert_eq!(topics[0].body["name"], json!("Не пришли кредиты"));
    let opened = telegram.wait_for_text(STAFF_GROUP, "Новое обращение").await;
    let thread = opened["message_thread_id"].as_i64().expect("in a topic");

    // The customer's next message lands in the same topic.
    telegram.write(&customer, "Оплатил вчера <вечером>");
    let follow_up = telegram.wait_for_text(STAFF_GROUP, "вчера").await;
    assert_eq!(follow_up["message_thread_id"], json!(thread));
    assert!(text(&follow_up).contains("&lt;вечером&gt;"));
    assert_eq!(telegram.calls("createForumTopic").len(), 1, "one topic");

    // A document sent in the ticket is kept for tickets and posted with a message.
    telegram.put_file("ticket-doc-1", PDF.to_vec());
    telegram.send_document(&customer, "ticket-doc-1");
    telegram.wait_for_text(STAFF_GROUP, "work.pdf").await;

    // Support answers in the topic; the customer gets it, escaped.
    telegram.write_in_topic(&agent, STAFF_GROUP, thread, "Проверим <сейчас> & ответим");
    telegram
        .wait_for_text(STAFF_GROUP, "Ответ отправлен клиенту")
        .await;
    let reply = telegram.wait_for_text(8_001, "Проверим").await;
    insta::assert_json_snapshot!("bot_topic_reply", reply["text"]);

    // A note stays inside; someone who is not staff cannot answer.
    telegram.write_in_topic(&agent, STAFF_GROUP, thread, "/note клиент нервничает");
    telegram
        .wait_for_text(STAFF_GROUP, "Заметка сохранена")
        .await;
    telegram.write_in_topic(&stranger, STAFF_GROUP, thread, "я тоже хочу ответить");
    telegram
        .wait_for_text(STAFF_GROUP, "только сотрудники")
        .await;
    let ticket_id: String = sqlx::query_scalar(
        "SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = 'Ticket'",
    )
    .fetch_one(&context.pool)
    .await
    .expect("one ticket");
    let messages: Vec<(bool, bool, String)> = events_of(&context, "Ticket", &ticket_id)
        .await
        .into_iter()
        .filter(|(event_type, _)| event_type == "MessagePosted")
        .map(|(_, payload)| {
            let posted = &payload["MessagePosted"];
            (
                posted["by_staff"].as_bool().unwrap_or_default(),
                posted["internal"].as_bool().unwrap_or_default(),
                posted["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            (false, false, "Оплатил вчера <вечером>".to_owned()),
            (false, false, "📎 work.pdf".to_owned()),
            (true, false, "Проверим <сейчас> & ответим".to_owned()),
            (true, true, "клиент нервничает".to_owned()),
        ]
    );
    let with_file = events_of(&context, "Ticket", &ticket_id)
        .await
        .into_iter()
        .find(|(_, payload)| payload["MessagePosted"]["text"] == json!("📎 work.pdf"))
        .expect("the document's message");
    let file_id = &with_file.1["MessagePosted"]["attachments"][0]["file_id"];
    assert_eq!(
        attached_to(&context, file_id).await,
        (
            "ticket".to_owned(),
            Some("ticket".to_owned()),
            Some(ticket_id.clone())
        ),
        "the document is the ticket's"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        telegram
            .texts_to(8_001)
            .iter()
            .all(|message| !text(message).contains("нервничает")),
        "the customer never sees the note"
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn support_takes_a_ticket_from_the_queue_answers_resolves_and_is_rated() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, None).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 8_500).await;
    staff(&core, boss, 8_502, "Оля", Role::Support).await;
    let customer = TgUser::new(8_501, "Петя", "ru");
    let agent = TgUser::new(8_502, "Оля", "ru");
    registered(&telegram, &customer).await;
    telegram.write(&customer, "/support");
    telegram.wait_for_text(8_501, "Опишите вопрос").await;
    telegram.write(&customer, "Где мой <заказ>?");
    telegram.wait_for_text(8_501, "создано").await;
    settles(
        "the ticket is in the read model",
        Duration::from_secs(20),
        async || {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM rm_tickets")
                .fetch_one(&context.pool)
                .await
                .expect("reads")
                == 1
        },
    )
    .await;
    let ticket_id: String = sqlx::query_scalar("SELECT ticket_id FROM rm_tickets")
        .fetch_one(&context.pool)
        .await
        .expect("a ticket");

    telegram.write(&customer, "/queue");
    telegram.wait_for_text(8_501, "Не получилось").await;
    telegram.write(&agent, "/queue");
    let queue = message_with_button(&telegram, 8_502, "ticket:").await;
    assert!(text(&queue).contains("Где мой &lt;заказ&gt;?"), "{queue:#}");
    telegram.press(&agent, 5, &button(&queue, "ticket:"));
    let card = message_with_button(&telegram, 8_502, "tk:").await;
    insta::assert_json_snapshot!(
        "bot_desk_card",
        json!({"text": text(&card), "buttons": buttons(&card).iter().map(|data| match data.strip_prefix("asg:t:") {
            Some(_) => "asg:t:[ticket]".to_owned(),
            None => data.replace(&ticket_id, "[ticket]"),
        }).collect::<Vec<_>>()})
    );
    telegram.press(&agent, 6, &format!("tk:{ticket_id}:t"));
    telegram.wait_for_text(8_502, "Вам назначено").await;
    telegram.write(&agent, "Уже едет, трек 123");
    telegram
        .wait_for_text(8_502, "Ответ отправлен клиенту")
        .await;
    telegram.wait_for_text(8_501, "Уже едет").await;
    telegram.write(&agent, "/note проверить доставку");
    telegram.wait_for_text(8_502, "Заметка сохранена").await;
    telegram.press(&agent, 7, &format!("tk:{ticket_id}:s:r"));
    let resolved = telegram.wait_for_text(8_501, "решено").await;
    telegram.press(&customer, 8, &button(&resolved, "ticket:"));
    let rate = message_with_button(&telegram, 8_501, "tr:").await;
    telegram.press(&customer, 9, &format!("tr:{ticket_id}:5"));
    telegram.wait_for_text(8_501, "Спасибо").await;
    assert!(buttons(&rate).contains(&format!("tr:{ticket_id}:1")));

    let history: Vec<String> = events_of(&context, "Ticket", &ticket_id)
        .await
        .into_iter()
        .map(|(event_type, _)| event_type)
        .collect();
    assert_eq!(
        history,
        [
            "TicketOpened",
            "TicketAssigned",
            "MessagePosted",
            "MessagePosted",
            "StatusChanged",
            "SupportRated"
        ]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        telegram
            .texts_to(8_501)
            .iter()
            .all(|message| !text(message).contains("проверить доставку")),
        "the customer never sees the note"
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_customer_books_the_salon_moves_the_booking_and_the_master_completes_it() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, None).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 8_800).await;
    staff(&core, boss, 8_802, "Ира", Role::Executor).await;
    let customer = TgUser::new(8_801, "Лена", "ru");
    let master = TgUser::new(8_802, "Ира", "ru");
    registered(&telegram, &customer).await;
    settles(
        "the master is in the read model",
        Duration::from_secs(20),
        async || {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM rm_users WHERE role = 'executor'")
                .fetch_one(&context.pool)
                .await
                .expect("reads")
                == 1
        },
    )
    .await;
    let salon_today = (chrono::Utc::now() + chrono::Duration::hours(3)).date_naive();
    let day = |ahead: i64| {
        (salon_today + chrono::Duration::days(ahead))
            .format("%Y-%m-%d")
            .to_string()
    };

    telegram.write(&customer, "/book");
    let services = message_with_button(&telegram, 8_801, "bk:s:").await;
    telegram.press(&customer, 5, &button(&services, "bk:s:"));
    let masters = message_with_button(&telegram, 8_801, "bk:m:").await;
    assert!(text(&masters).contains("мастеру"));
    telegram.press(&customer, 6, &button(&masters, "bk:m:"));
    let days = message_with_button(&telegram, 8_801, "bk:d:").await;
    telegram.press(&customer, 7, &button(&days, &format!("bk:d:{}", day(2))));
    let slots = message_with_button(&telegram, 8_801, "bk:t:").await;
    telegram.press(&customer, 8, &button(&slots, "bk:t:"));
    let confirm = message_with_button(&telegram, 8_801, "bk:ok:").await;
    assert!(text(&confirm).contains("Ира"), "{confirm:#}");
    telegram.press(&customer, 9, &button(&confirm, "bk:ok:"));
    telegram.wait_for_text(8_801, "Записали").await;
    let card = message_with_button(&telegram, 8_801, "pay:").await;
    let order_id = button(&card, "pay:").trim_start_matches("pay:").to_owned();
    assert!(buttons(&card).contains(&format!("act:{order_id}:reschedule")));
    assert!(buttons(&card).contains(&format!("act:{order_id}:cancel")));

    // Moved to tomorrow, the master sees it there and completes it.
    telegram.press(&customer, 10, &format!("act:{order_id}:reschedule"));
    let days = telegram.wait_for_nth_text(8_801, "Какой день?", 2).await;
    telegram.press(&customer, 11, &button(&days, &format!("bk:d:{}", day(1))));
    let shown_day = (salon_today + chrono::Duration::days(1))
        .format("%d.%m")
        .to_string();
    let slots = telegram
        .wait_for_text(8_801, &format!("Свободное время {shown_day}"))
        .await;
    let moved_to = button(&slots, "bk:t:");
    telegram.press(&customer, 12, &moved_to);
    telegram.press(&customer, 13, &moved_to.replace("bk:t:", "bk:ok:"));
    telegram.wait_for_text(8_801, "Перенесли").await;
    settles("the booking moved", Duration::from_secs(20), async || {
        sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
            "SELECT starts_at FROM rm_bookings WHERE order_id = $1",
        )
        .bind(&order_id)
        .fetch_one(&context.pool)
        .await
        .expect("reads")
        .map(|at| at.timestamp().to_string())
            == moved_to.strip_prefix("bk:t:").map(str::to_owned)
    })
    .await;
    telegram.write(&master, "/tomorrow");
    let tomorrow = telegram.wait_for_text(8_802, "Записи на").await;
    telegram.press(&master, 14, &button(&tomorrow, "order:"));
    let master_card =
        message_with_button(&telegram, 8_802, &format!("act:{order_id}:complete")).await;
    assert!(buttons(&master_card).contains(&format!("act:{order_id}:no_show")));
    telegram.press(&master, 15, &format!("act:{order_id}:complete"));
    telegram.wait_for_text(8_802, "Готово: выполнен").await;
    let history: Vec<String> = events_of(&context, "Order", &order_id)
        .await
        .into_iter()
        .map(|(event_type, _)| event_type)
        .collect();
    assert_eq!(
        history,
        ["OrderPlaced", "BookingRescheduled", "OrderCompleted"]
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_customer_buys_a_pack_in_the_sandbox_and_sees_balance_and_statement() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, None).await;
    let customer = TgUser::new(8_901, "Маша", "ru");
    registered(&telegram, &customer).await;

    telegram.write(&customer, "/balance");
    let balance = message_with_button(&telegram, 8_901, "menu:buy").await;
    telegram.press(&customer, 5, "menu:buy");
    let catalogue = message_with_button(&telegram, 8_901, "buy:pack:").await;
    assert!(text(&catalogue).contains("Что купить"), "{balance:#}");
    telegram.press(&customer, 6, "buy:pack:M");
    let link = telegram.wait_for_text(8_901, "Тестовый режим").await;
    let url = link["reply_markup"]["inline_keyboard"][0][0]["url"]
        .as_str()
        .expect("a payment link")
        .to_owned();
    checkout(&app, &url, "pay").await;
    telegram.wait_for_text(8_901, "Начислено кредитов").await;
    telegram.write(&customer, "/statement");
    let statement = telegram.wait_for_text(8_901, "Последние операции").await;
    assert!(text(&statement).contains('+'), "{statement:#}");

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn an_admin_writes_the_faq_in_the_bot_and_customers_read_it_there_and_over_the_api() {
    use tests::api_client::{get_with, post_with, signed_in as api_signed_in, signed_in_as};
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, None).await;
    let (admin_token, _) = signed_in_as(&app, &context.pool, 9_301, "Админ", Role::Admin).await;
    let (customer_token, _) = api_signed_in(&app, 9_302, "Вика").await;
    let admin = TgUser::new(9_301, "Админ", "ru");
    let customer = TgUser::new(9_302, "Вика", "ru");

    telegram.write(&customer, "/faq");
    telegram
        .wait_for_text(9_302, "Частых вопросов пока нет")
        .await;
    telegram.write(&customer, "/faq_add Оплата | Как? | Так");
    telegram.wait_for_text(9_302, "Не получилось").await;
    telegram.write(
        &admin,
        "/faq_add Оплата | Как оплатить? | Картой <b>или</b> СБП",
    );
    telegram.wait_for_text(9_301, "Сохранено").await;
    telegram.write(&admin, "/faq_add Оплата без разделителей");
    telegram.wait_for_text(9_301, "/faq_add Тема").await;

    telegram.write(&customer, "/faq");
    let topics = message_with_button(&telegram, 9_302, "faq:c:").await;
    assert!(buttons(&topics).len() == 1, "{topics:#}");
    telegram.press(&customer, 5, &button(&topics, "faq:c:"));
    let questions = message_with_button(&telegram, 9_302, "faq:q:").await;
    telegram.press(&customer, 6, &button(&questions, "faq:q:"));
    let answer = telegram.wait_for_text(9_302, "Картой").await;
    insta::assert_json_snapshot!("bot_faq_answer", text(&answer));
    assert!(buttons(&answer).is_empty(), "customers cannot delete");

    let (status, listed) = get_with(&app, "/api/v1/faq", &customer_token).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(listed["items"][0]["question"], json!("Как оплатить?"));
    let (status, _) = post_with(
        &app,
        "/api/v1/faq",
        &customer_token,
        json!({"category": "A", "question": "B", "answer": "C"}),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    let (status, refused) = post_with(
        &app,
        "/api/v1/faq",
        &admin_token,
        json!({"category": "A", "question": "?".repeat(201), "answer": "C"}),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["details"]["field"], json!("question"));

    // The admin deletes it from its answer; the API shows it gone.
    telegram.write(&admin, "/faq");
    let topics = message_with_button(&telegram, 9_301, "faq:c:").await;
    telegram.press(&admin, 7, &button(&topics, "faq:c:"));
    let questions = message_with_button(&telegram, 9_301, "faq:q:").await;
    telegram.press(&admin, 8, &button(&questions, "faq:q:"));
    let with_delete = message_with_button(&telegram, 9_301, "faq:d:").await;
    telegram.press(&admin, 9, &button(&with_delete, "faq:d:"));
    telegram.wait_for_text(9_301, "удалён").await;
    let (_, listed) = get_with(&app, "/api/v1/faq", &customer_token).await;
    assert_eq!(listed["items"], json!([]));

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_customer_applies_to_be_an_executor_and_an_admin_approves_or_declines() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, None).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 9_400).await;
    staff(&core, boss, 9_401, "Админ", Role::Admin).await;
    let admin = TgUser::new(9_401, "Админ", "ru");
    let author = TgUser::new(9_402, "Глеб", "ru");
    let other = TgUser::new(9_403, "Дина", "ru");
    registered(&telegram, &author).await;
    registered(&telegram, &other).await;

    telegram.write(&author, "/apply");
    telegram.wait_for_text(9_402, "Расскажите о себе").await;
    telegram.write(&author, "Пишу курсовые пять лет <b>по экономике</b>");
    telegram.wait_for_text(9_402, "Заявка отправлена").await;
    telegram.write(&author, "/apply");
    telegram
        .wait_for_nth_text(9_402, "Расскажите о себе", 2)
        .await;
    telegram.write(&author, "Ещё раз");
    telegram.wait_for_text(9_402, "applied already").await;
    telegram.write(&other, "/apply");
    telegram.wait_for_text(9_403, "Расскажите о себе").await;
    telegram.write(&other, "Хочу попробовать");
    telegram.wait_for_text(9_403, "Заявка отправлена").await;
    telegram.write(&author, "/applications");
    telegram.wait_for_text(9_402, "Не получилось").await;

    telegram.write(&admin, "/applications");
    let first = telegram.wait_for_text(9_401, "Глеб").await;
    insta::assert_json_snapshot!(
        "bot_application_card",
        text(&first).replace(
            &chrono::Utc::now().format("%d.%m.%Y").to_string(),
            "[today]"
        )
    );
    let second = telegram.wait_for_text(9_401, "Дина").await;
    telegram.press(&admin, 5, &button(&first, "ap:y:"));
    telegram.wait_for_text(9_401, "Одобрено").await;
    telegram
        .wait_for_text(9_402, "Ваша роль теперь: исполнитель")
        .await;
    telegram.press(&admin, 6, &button(&second, "ap:n:"));
    telegram.wait_for_text(9_401, "отклонена").await;
    telegram.wait_for_text(9_403, "не можем принять").await;
    // A decided application is decided once.
    telegram.press(&admin, 7, &button(&first, "ap:n:"));
    telegram.wait_for_text(9_401, "no such application").await;
    settles("the roles are in the read model", Duration::from_secs(20), async || {
        let roles: Vec<(String, String)> = sqlx::query_as(
            "SELECT first_name, role FROM rm_users WHERE telegram_id IN (9402, 9403) ORDER BY telegram_id",
        )
        .fetch_all(&context.pool)
        .await
        .expect("reads");
        roles
            == [
                ("Глеб".to_owned(), "executor".to_owned()),
                ("Дина".to_owned(), "client".to_owned()),
            ]
    })
    .await;

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn customers_read_published_reviews_and_an_admin_hides_one() {
    use domain::use_cases::order_actions::OrderAction;
    use domain::use_cases::placing::NewOrder;
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, None).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 9_500).await;
    staff(&core, boss, 9_501, "Админ", Role::Admin).await;
    let master = staff(&core, boss, 9_502, "Ира", Role::Executor).await;
    let customer = tests::people::signed_in(&core, 9_503, "Оля").await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let start = tomorrow.and_hms_opt(9, 0, 0).expect("a time").and_utc();
    let now = chrono::Utc::now();
    let placed = core
        .place_order(
            customer,
            NewOrder::Booking {
                service_id: "haircut".to_owned(),
                master_id: master.user_id,
                start,
            },
            now,
        )
        .await
        .expect("booked");
    let order_id: uuid::Uuid = placed.aggregate_id.parse().expect("an id");
    core.act_on_order(master, order_id, OrderAction::Complete, now)
        .await
        .expect("done");
    core.act_on_order(
        customer,
        order_id,
        OrderAction::Review {
            stars: 4,
            text: Some("Отлично <b>стригут</b>".to_owned()),
        },
        now,
    )
    .await
    .expect("reviewed");
    settles(
        "the review is in the read model",
        Duration::from_secs(20),
        async || {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM rm_orders WHERE review_text IS NOT NULL",
            )
            .fetch_one(&context.pool)
            .await
            .expect("reads")
                == 1
        },
    )
    .await;
    let reader = TgUser::new(9_503, "Оля", "ru");
    let admin = TgUser::new(9_501, "Админ", "ru");

    telegram.write(&reader, "/reviews");
    let published = telegram.wait_for_text(9_503, "Отзывы клиентов").await;
    insta::assert_json_snapshot!("bot_reviews", text(&published));
    assert!(buttons(&published).is_empty());
    telegram.write(&admin, "/reviews");
    let card = message_with_button(&telegram, 9_501, "rv:h:").await;
    telegram.press(&admin, 5, &button(&card, "rv:h:"));
    telegram.wait_for_text(9_501, "Отзыв скрыт").await;
    telegram.write(&reader, "/reviews");
    telegram.wait_for_text(9_503, "Отзывов пока нет").await;
    telegram.write(&admin, "/reviews");
    let hidden = message_with_button(&telegram, 9_501, "rv:p:").await;
    assert!(text(&hidden).contains("(скрыт)"));
    telegram.press(&reader, 6, &button(&hidden, "rv:p:"));
    telegram.wait_for_text(9_503, "Не получилось").await;

    app.stop().await;
    context.cleanup().await;
}
