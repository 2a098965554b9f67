//! Image generations from the bot: a photo sent is fetched from Telegram (`getFile`
//! and the file download), kept as a generation input, and the bot asks what to make
//! of it; a fitting takes the garment's photo next, an editing its caption or the next
//! text; the credits are spent, the runner asks the image provider's stand-in, and
//! the bot sends the image when it is ready. Too few credits are said in words.

use std::time::Duration;

use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use tests::TestContext;
use tests::ai_fakes::{CHAT_KEY, FakeAi, KIE_KEY};
use tests::api_client::settings;
use tests::app::{TestApp, spawn_app_with_bot};
use tests::bot_client::{button, message_with_button, registered};
use tests::telegram_fake::{BOT_USERNAME, FakeTelegram, TgUser};

fn photo(seed: u8) -> Vec<u8> {
    tests::ai_fakes::jpeg(640, 480, seed)
}

async fn grant(context: &TestContext, app: &tests::app::TestApp, telegram_id: i64, amount: u64) {
    let user = app
        .state
        .core
        .user_of_telegram(telegram_id)
        .await
        .expect("a lookup")
        .expect("registered");
    Commands::over(context.pool.clone())
        .credits
        .execute(
            &user.to_string(),
            CreditCommand::Grant {
                amount,
                reason: GrantReason::Promo,
                reference: format!("bot-test-{telegram_id}"),
                expires_at: None,
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("granted");
}

/// Waits until `chat` has been sent `count` finished images: the result's bytes
/// themselves (a PNG from the stand-in), uploaded to Telegram with the notice as
/// the caption.
async fn image_sent(telegram: &FakeTelegram, chat: i64, count: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let sent: Vec<_> = telegram
            .calls("sendPhoto")
            .into_iter()
            .filter(|call| call.body["chat_id"] == serde_json::json!(chat))
            .filter(|call| {
                call.body["caption"]
                    .as_str()
                    .is_some_and(|caption| caption.contains("Изображение готово"))
            })
            .collect();
        if sent.len() >= count {
            // teloxide sends the bytes as a part of their own, named by "attach://".
            let carries_png = |body: &serde_json::Value| {
                body["photo"]
                    .as_str()
                    .and_then(|photo| photo.strip_prefix("attach://"))
                    .and_then(|part| body[part].as_str())
                    .is_some_and(|bytes| bytes.contains("PNG"))
            };
            assert!(
                sent.iter().all(|call| carries_png(&call.body)),
                "the image's own bytes are sent"
            );
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{count} images were not sent to {chat}; texts: {:?}",
            telegram.texts_to(chat)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The callback data of a message's buttons, row by row.
fn keys(message: &serde_json::Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|key| key["callback_data"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The product with its bot on the fake Bot API and the AI providers' stand-ins.
async fn bot_stand() -> (TestContext, FakeTelegram, FakeAi, TestApp) {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let fake = FakeAi::start().await;
    let mut configured = settings(&context);
    configured.bot.api_url = telegram.url();
    configured.bot.long_poll_secs = 1;
    configured.bot_username = Some(BOT_USERNAME.to_owned());
    configured.programs.monthly_allowance = 0;
    configured.ai.images.url = fake.url.clone();
    configured.ai.images.key = Some(KIE_KEY.into());
    configured.ai.chat.url = fake.url.clone();
    configured.ai.chat.key = Some(CHAT_KEY.into());
    configured.ai.rules.poll_every = Duration::from_millis(50);
    let app = spawn_app_with_bot(configured).await;
    (context, telegram, fake, app)
}

#[tokio::test]
async fn photos_sent_to_the_bot_become_a_fitting_and_an_editing_paid_in_credits() {
    let (context, telegram, fake, app) = bot_stand().await;
    let customer = TgUser::new(930_001, "Маша", "ru");
    registered(&telegram, &customer).await;
    grant(&context, &app, customer.id, 3).await;

    telegram.put_file("person-photo", photo(1));
    telegram.send_photo(&customer, "person-photo", "");
    let question = message_with_button(&telegram, customer.id, "gen:").await;
    assert!(
        question["text"]
            .as_str()
            .is_some_and(|text| text.contains("Примерка")),
        "{question}"
    );
    telegram.press(&customer, 2, &button(&question, "gen:fit"));
    telegram.wait_for_text(customer.id, "фото одежды").await;
    telegram.put_file("dress-photo", photo(2));
    telegram.send_photo(&customer, "dress-photo", "");
    let started = telegram.wait_for_text(customer.id, "Генерирую").await;
    assert!(
        started["text"]
            .as_str()
            .is_some_and(|text| text.contains("Списано кредитов: 2")),
        "{started}"
    );
    image_sent(&telegram, customer.id, 1).await;
    let received = fake.books.lock().expect("books").received.clone();
    assert_eq!(received.len(), 1);
    assert!(
        received[0].1.iter().all(|(status, _)| *status == 200),
        "both photos were fetched: {received:?}"
    );

    // A photo with a caption is an editing at once; then there is one credit left
    // for nothing else.
    telegram.put_file("edit-photo", photo(3));
    telegram.send_photo(&customer, "edit-photo", "сделай фон синим");
    telegram
        .wait_for_nth_text(customer.id, "Генерирую", 2)
        .await;
    image_sent(&telegram, customer.id, 2).await;
    assert_eq!(
        fake.books.lock().expect("books").received[1].0,
        "сделай фон синим"
    );

    telegram.put_file("more-photo", photo(4));
    telegram.send_photo(&customer, "more-photo", "ещё раз");
    telegram
        .wait_for_text(customer.id, "Не хватает кредитов")
        .await;
    assert_eq!(
        fake.books.lock().expect("books").creates,
        2,
        "nothing more reached the provider"
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_assistants_suggest_prompts_to_press_and_hand_a_question_to_a_person() {
    let (context, telegram, fake, app) = bot_stand().await;
    let customer = TgUser::new(930_101, "Ника", "ru");
    registered(&telegram, &customer).await;
    grant(&context, &app, customer.id, 5).await;

    // Editing with the assistant: its three suggestions are buttons; one pressed
    // is generated.
    telegram.put_file("sunset-photo", photo(5));
    telegram.send_photo(&customer, "sunset-photo", "");
    let question = message_with_button(&telegram, customer.id, "gen:").await;
    telegram.press(&customer, 2, &button(&question, "gen:edit"));
    let change = message_with_button(&telegram, customer.id, "gen:assist").await;
    telegram.press(&customer, 3, &button(&change, "gen:assist"));
    telegram
        .wait_for_text(customer.id, "Опишите, что хотите получить")
        .await;
    telegram.write(&customer, "хочу <вечернее> небо");
    let first = message_with_button(&telegram, customer.id, "ai:v:").await;
    let first_keys = keys(&first);
    assert_eq!(
        first_keys.len(),
        4,
        "three suggestions and a new chat: {first}"
    );
    assert!(
        first_keys[3] == "ai:reset" && first_keys[..3].iter().all(|key| key.starts_with("ai:v:"))
    );
    {
        let books = fake.books.lock().expect("books");
        let sent = books.chat_requests[0]["messages"].to_string();
        assert!(sent.contains("хочу <вечернее> небо"), "{sent}");
    }
    // A second answer, with other suggestions and text to escape.
    fake.books.lock().expect("books").chat_answer = serde_json::json!({
        "reply": "Ещё <b>три</b>",
        "variants": ["make it night", "add stars", "paint it blue"],
    })
    .to_string();
    telegram.write(&customer, "а ещё?");
    let second = telegram
        .wait_for_text(customer.id, "Ещё &lt;b&gt;три&lt;/b&gt;")
        .await;
    assert_ne!(
        keys(&second)[1],
        first_keys[1],
        "each answer's buttons are its own"
    );
    // The first answer's second suggestion, pressed after the second answer came.
    telegram.press(&customer, 4, &first_keys[1]);
    telegram.wait_for_text(customer.id, "Генерирую").await;
    image_sent(&telegram, customer.id, 1).await;
    assert_eq!(
        fake.books.lock().expect("books").received[0].0,
        "add sunset light",
        "the suggestion pressed, of the answer it came with"
    );
    let user = app
        .state
        .core
        .user_of_telegram(customer.id)
        .await
        .expect("a lookup")
        .expect("registered");
    let spends: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'CreditsSpent'",
    )
    .bind(user.to_string())
    .fetch_one(&context.pool)
    .await
    .expect("counts");
    assert_eq!(spends, 3, "a credit for each answer and the editing's");
    // A suggestion of a chat that is over is not generated again.
    telegram.press(&customer, 4, &first_keys[1]);
    telegram
        .wait_for_text(customer.id, "Этот разговор уже закончен")
        .await;
    assert_eq!(fake.books.lock().expect("books").creates, 1);

    // The students' assistant answers, then hands over to a person.
    fake.books.lock().expect("books").chat_answer = "Курсовая делается за 5–7 дней.".into();
    telegram.write(&customer, "/ask");
    telegram.wait_for_text(customer.id, "Задайте вопрос").await;
    telegram.write(&customer, "Сколько делается курсовая?");
    let study = message_with_button(&telegram, customer.id, "ai:human").await;
    assert!(
        study["text"]
            .as_str()
            .is_some_and(|text| text.contains("5–7 дней")),
        "{study}"
    );
    telegram.press(&customer, 6, "ai:human");
    telegram
        .wait_for_text(customer.id, "Передал ваш вопрос в поддержку")
        .await;
    // The chat goes on in the ticket.
    telegram.write(&customer, "И ещё: можно срочно?");
    telegram
        .wait_for_text(customer.id, "Передано в поддержку")
        .await;
    let tickets: Vec<String> = sqlx::query_scalar(
        "SELECT payload::text FROM events WHERE aggregate_type = 'Ticket' AND event_type = 'TicketOpened'",
    )
    .fetch_all(&context.pool)
    .await
    .expect("tickets");
    assert_eq!(tickets.len(), 1);
    assert!(
        tickets[0].contains("Сколько делается курсовая?"),
        "{tickets:?}"
    );

    app.stop().await;
    context.cleanup().await;
}
