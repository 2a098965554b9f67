//! The assistants over HTTP against a chat-completions stand-in: the editing
//! assistant sends the model its instructions, the session's last ten messages and
//! the new one, charges a credit per answer and returns it when the model fails;
//! `reset` starts a chat with no history; a user is held to the per-minute rate;
//! the students' assistant answers from the FAQ for free and hands a question over to
//! support as a ticket.

use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::api_client::{error_code, get_with, post_with, signed_in, signed_in_as};
use tests::generation_stand::{Stand, stand_with};

async fn session(stand: &Stand, token: &str, kind: &str) -> String {
    let (status, session) = post_with(
        &stand.app,
        "/api/v1/assistant/sessions",
        token,
        json!({ "kind": kind }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session["session_id"].as_str().expect("an id").to_owned()
}

async fn ask(stand: &Stand, token: &str, session: &str, text: &str) -> (StatusCode, Value) {
    post_with(
        &stand.app,
        &format!("/api/v1/assistant/sessions/{session}/messages"),
        token,
        json!({ "text": text }),
    )
    .await
}

/// Waits for the balance the read model shows to be `expected`.
async fn assert_balance(stand: &Stand, token: &str, expected: i64, why: &str) {
    let settled = tests::eventually(std::time::Duration::from_secs(10), || async {
        stand.balance(token).await == expected
    })
    .await;
    assert!(
        settled,
        "{why}: {} credits, not {expected}",
        stand.balance(token).await
    );
}

/// The messages the model was sent in its `n`th request (from 0), as (role, content).
fn sent(stand: &Stand, n: usize) -> Vec<(String, String)> {
    let books = stand.fake.books.lock().expect("books");
    books.chat_requests[n]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|message| {
            (
                message["role"].as_str().unwrap_or_default().to_owned(),
                message["content"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_editing_assistant_sees_ten_messages_charges_per_answer_and_holds_to_its_rate() {
    let stand = stand_with(|settings| settings.ai.rules.assistant_per_minute = 9).await;
    let (token, user) = signed_in(&stand.app, 9701, "Аля").await;
    stand.grant(&user, 20).await;
    let chat = session(&stand, &token, "editing").await;
    for n in 1..=7 {
        let (status, reply) = ask(&stand, &token, &chat, &format!("вопрос {n}")).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        assert_eq!(
            reply["variants"].as_array().map(Vec::len),
            Some(3),
            "{reply}"
        );
        assert_eq!(reply["credits"], json!(1));
    }
    // The seventh request: instructions, the last ten of the twelve stored messages
    // (questions 2 to 6 and their answers), the new one.
    let seventh = sent(&stand, 6);
    assert_eq!(seventh.len(), 12, "{seventh:#?}");
    assert_eq!(seventh[0].0, "system");
    assert_eq!(seventh[1], ("user".to_owned(), "вопрос 2".to_owned()));
    assert_eq!(
        seventh[2],
        ("assistant".to_owned(), "Here are three ways".to_owned())
    );
    assert_eq!(seventh[11], ("user".to_owned(), "вопрос 7".to_owned()));
    assert_balance(&stand, &token, 13, "a credit per answer").await;

    // The model failing: the credit comes back and the chat keeps nothing of it.
    stand.fake.books.lock().expect("books").failing_chats = 1;
    let (status, body) = ask(&stand, &token, &chat, "вопрос 8").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_GATEWAY, "assistant_unavailable"),
        "{body}"
    );
    let refunds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'SpendRefunded'",
    )
    .bind(&user)
    .fetch_one(&stand.context.pool)
    .await
    .expect("counts");
    assert_eq!(refunds, 1, "the failed answer's credit is returned");
    assert_balance(&stand, &token, 13, "returned").await;
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM assistant_messages WHERE content = 'вопрос 8'")
            .fetch_one(&stand.context.pool)
            .await
            .expect("counts");
    assert_eq!(kept, 0, "the chat keeps nothing of a failed request");

    // Reset: a new chat, with nothing of the old one sent.
    let (status, fresh) = post_with(
        &stand.app,
        &format!("/api/v1/assistant/sessions/{chat}/reset"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{fresh}");
    let fresh = fresh["session_id"].as_str().expect("an id").to_owned();
    assert_ne!(fresh, chat);
    let (status, reply) = ask(&stand, &token, &fresh, "начнём заново").await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let after_reset = sent(&stand, 8);
    assert_eq!(
        after_reset
            .iter()
            .map(|(role, _)| role.as_str())
            .collect::<Vec<_>>(),
        ["system", "user"],
        "{after_reset:#?}"
    );

    // Nine requests this minute (the failed one counts): the tenth waits.
    let (status, body) = ask(&stand, &token, &fresh, "ещё").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "rate_limited"),
        "{body}"
    );
    assert_balance(&stand, &token, 12, "nothing spent on a refusal").await;
    let (status, _) = ask(&stand, &token, &chat, "старый чат").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a reset chat is closed");

    // Someone else's chat is not found.
    let (other, _) = signed_in(&stand.app, 9702, "Боря").await;
    let (status, _) = ask(&stand, &other, &fresh, "чужой").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    stand.stop().await;
}

#[tokio::test]
async fn the_students_assistant_answers_from_the_faq_for_free_and_hands_over_to_support() {
    let stand = stand_with(|_| {}).await;
    let (admin_token, _) =
        signed_in_as(&stand.app, &stand.context.pool, 9703, "Админ", Role::Admin).await;
    let (status, entry) = post_with(
        &stand.app,
        "/api/v1/faq",
        &admin_token,
        json!({
            "category": "Сроки",
            "question": "Как быстро делается курсовая?",
            "answer": "Обычно за 5–7 дней, срочно — за 48 часов.",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");

    let (token, _) = signed_in(&stand.app, 9704, "Студент").await;
    stand.fake.books.lock().expect("books").chat_answer = "Обычно за 5–7 дней.".into();
    let chat = session(&stand, &token, "study").await;
    let (status, reply) = ask(&stand, &token, &chat, "Сколько делается курсовая?").await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["reply"], json!("Обычно за 5–7 дней."));
    assert_eq!(reply["credits"], json!(0), "free");
    assert_eq!(reply["variants"], json!([]));
    let instructions = &sent(&stand, 0)[0];
    assert_eq!(instructions.0, "system");
    assert!(
        instructions
            .1
            .contains("Обычно за 5–7 дней, срочно — за 48 часов."),
        "the FAQ goes to the model: {}",
        instructions.1
    );

    let (status, ticket) = post_with(
        &stand.app,
        &format!("/api/v1/assistant/sessions/{chat}/handover"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let ticket_id = ticket["ticket_id"].as_str().expect("a ticket").to_owned();
    let path = format!("/api/v1/tickets/{ticket_id}");
    assert!(
        tests::eventually(std::time::Duration::from_secs(10), || async {
            get_with(&stand.app, &path, &token).await.0 == StatusCode::OK
        })
        .await,
        "the ticket is opened"
    );
    let (_, opened) = get_with(&stand.app, &path, &token).await;
    assert!(
        opened.to_string().contains("Сколько делается курсовая?"),
        "the question goes to support: {opened}"
    );
    stand.stop().await;
}
