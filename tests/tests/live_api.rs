//! `GET /api/v1/ws` black-box: live updates over a real WebSocket. A customer sees
//! support's reply (never the internal note) once the ticket read model shows it;
//! staff see their queues; a client that reconnects with its last position gets
//! exactly what it missed; a blocked account is let go; refusals come in the API's error shape.

use std::time::Duration;

use api::startup::Parts;
use domain::permissions::Role;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, get_with, post_with, settings, signed_in, signed_in_as};
use tests::app::spawn_app;
use tests::live_client::{is_event, next, open, until};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test]
async fn a_client_sees_a_ticket_reply_live_and_resumes_without_missing_anything() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (customer, _) = signed_in(&app, 777_001, "Дарья").await;
    let (stranger, _) = signed_in(&app, 777_002, "Олег").await;
    let (agent, _) = signed_in_as(&app, &context.pool, 777_003, "Глеб", Role::Support).await;

    let (status, opened) = post_with(
        &app,
        "/api/v1/tickets",
        &customer,
        json!({ "category": "payments", "title": "Не пришли кредиты", "description": "Оплатила пакет XL" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let ticket = opened["ticket_id"].as_str().expect("id").to_owned();

    let (mut customer_feed, _) = open(&app, &customer, None).await;
    let (mut desk_feed, _) = open(&app, &agent, None).await;
    let (mut stranger_feed, _) = open(&app, &stranger, None).await;

    let messages = format!("/api/v1/tickets/{ticket}/messages");
    let (status, _) = post_with(
        &app,
        &messages,
        &agent,
        json!({ "text": "проверить в ЮKassa", "internal": true }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post_with(
        &app,
        &messages,
        &agent,
        json!({ "text": "Кредиты начислены" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // The customer's first update is the reply: the internal note never reaches them.
    // (The ticket's answer no longer waits for the live feed, so a feed opened right
    // after it may begin with the opening itself.)
    let mut reply = next(&mut customer_feed).await.expect("the reply arrives");
    if is_event(&reply, "TicketOpened") && reply["id"] == json!(ticket) {
        reply = next(&mut customer_feed).await.expect("the reply arrives");
    }
    assert_eq!(
        (
            &reply["topic"],
            &reply["id"],
            &reply["event"],
            &reply["data"]["text"]
        ),
        (
            &json!("ticket"),
            &json!(ticket),
            &json!("MessagePosted"),
            &json!("Кредиты начислены")
        ),
        "{reply}"
    );
    // Sent once the read model shows it: reading the ticket now finds the reply.
    let (_, read) = get_with(&app, &format!("/api/v1/tickets/{ticket}"), &customer).await;
    let texts: Vec<&str> = read["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|message| message["text"].as_str())
        .collect();
    assert!(texts.contains(&"Кредиты начислены"), "{read}");
    // The desk hears both, the note first.
    let desk = until(&mut desk_feed, |m| m["data"]["text"] == "Кредиты начислены").await;
    assert!(
        desk.iter().any(|m| m["data"]["internal"] == true),
        "{desk:#?}"
    );
    let positions: Vec<i64> = desk.iter().filter_map(|m| m["position"].as_i64()).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{positions:?}"
    );

    // Staff hear the order queue too; the stranger hears nothing of others.
    let (status, _) = post_with(
        &app,
        "/api/v1/orders",
        &customer,
        json!({
            "subject": "Теория графов", "work_type": "курсовая", "volume": 25,
            "deadline": (chrono::Utc::now() + chrono::Duration::days(14)).to_rfc3339(),
            "files": [],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let desk = until(&mut desk_feed, |m| is_event(m, "OrderPlaced")).await;
    assert_eq!(desk.last().expect("one")["topic"], "order");
    let placed = next(&mut customer_feed)
        .await
        .expect("the customer's own order");
    assert!(is_event(&placed, "OrderPlaced"), "{placed}");
    assert_eq!(next(&mut stranger_feed).await, None);

    // The customer goes away at a position; two things happen meanwhile.
    let seen = placed["position"].as_i64().expect("a position");
    customer_feed.close(None).await.expect("closes");
    let (status, _) = post_with(
        &app,
        &format!("/api/v1/tickets/{ticket}/status"),
        &agent,
        json!({ "status": "in_progress" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_with(
        &app,
        &messages,
        &agent,
        json!({ "text": "Проверьте баланс" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    until(&mut desk_feed, |m| m["data"]["text"] == "Проверьте баланс").await;

    // Back with the last position: exactly what was missed, in order, then quiet.
    let (mut customer_feed, hello) = open(&app, &customer, Some(seen)).await;
    assert_eq!(hello["resumed_from"], seen);
    let first = next(&mut customer_feed).await.expect("the status change");
    let second = next(&mut customer_feed).await.expect("the second reply");
    assert_eq!(
        (
            &first["event"],
            &first["data"]["to"],
            &second["data"]["text"]
        ),
        (
            &json!("StatusChanged"),
            &json!("in_progress"),
            &json!("Проверьте баланс")
        ),
        "{first} {second}"
    );
    assert!(first["position"].as_i64() > Some(seen));
    assert_eq!(next(&mut customer_feed).await, None, "nothing twice");

    // A message the desk deletes leaves the feed too: resuming from before it finds
    // the update without the text.
    let (_, thread) = get_with(&app, &format!("/api/v1/tickets/{ticket}"), &agent).await;
    let second_reply = thread["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["text"] == "Проверьте баланс")
        .expect("the reply")["message_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let response = reqwest::Client::new()
        .delete(app.url(&format!("/api/v1/tickets/{ticket}/messages/{second_reply}")))
        .bearer_auth(&agent)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    until(&mut desk_feed, |m| is_event(m, "MessageDeleted")).await;
    let (mut again, _) = open(&app, &customer, Some(seen)).await;
    let replayed = until(&mut again, |m| is_event(m, "MessageDeleted")).await;
    let posted = replayed
        .iter()
        .find(|m| m["data"]["message_id"] == second_reply.as_str())
        .expect("the reply's update");
    assert_eq!(
        (&posted["data"]["text"], &posted["data"]["deleted"]),
        (&Value::Null, &json!(true)),
        "{posted}"
    );

    // Pruned history: a client resuming from before it is told to re-read.
    let pruned = projections::read_models::live_updates::feed::prune(
        &context.pool,
        chrono::Utc::now() + chrono::Duration::seconds(5),
    )
    .await
    .expect("prunes");
    assert!(pruned > 0);
    let (mut late, _) = open(&app, &customer, Some(seen)).await;
    let resync = next(&mut late).await.expect("a resync");
    assert_eq!(resync["type"], "resync", "{resync}");
}

#[tokio::test]
async fn the_feed_refuses_in_the_api_error_shape() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (customer, _) = signed_in(&app, 777_101, "Дарья").await;

    let refused = |request: tokio_tungstenite::tungstenite::handshake::client::Request| async move {
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body: Value =
                    serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                        .unwrap_or(Value::Null);
                (status, body)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    let base = format!("ws://{}/api/v1/ws", app.address);
    let (status, body) = refused(base.clone().into_client_request().expect("request")).await;
    assert_eq!((status, error_code(&body)), (401, "unauthorized"), "{body}");
    let (status, body) = refused(
        format!("{base}?access_token=not-a-token")
            .into_client_request()
            .expect("request"),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = refused(
        format!("{base}?access_token={customer}&after=-1")
            .into_client_request()
            .expect("request"),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (422, &json!("after")),
        "{body}"
    );
    // The header works as well as the query.
    let mut request = base.clone().into_client_request().expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {customer}").parse().expect("a header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("opens");
    let hello = next(&mut socket).await.expect("hello");
    assert_eq!(hello["type"], "hello");
    socket.send(Message::Close(None)).await.expect("closes");
    // The server lets the connection go (its place freed) before it drops the socket:
    // the stream's end says the place is free again.
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await
    .expect("the server ends the closed connection");

    // Eight sockets per user; the ninth is closed with 4008.
    let mut open_sockets = Vec::new();
    for _ in 0..8 {
        open_sockets.push(open(&app, &customer, None).await.0);
    }
    let url = format!("{base}?access_token={customer}");
    let (mut ninth, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the upgrade");
    let closed = tokio::time::timeout(Duration::from_secs(5), ninth.next())
        .await
        .expect("an answer")
        .expect("a frame")
        .expect("a message");
    match closed {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 4008),
        other => panic!("expected a close, got {other:?}"),
    }
    drop(open_sockets);

    // Plain HTTP to a WebSocket endpoint.
    let (status, body) = get_with(&app, "/api/v1/ws", &customer).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UPGRADE_REQUIRED, "upgrade_required")
    );
}

#[tokio::test]
async fn a_blocked_account_is_let_go_within_a_read_of_the_hub() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (client, client_id) = signed_in(&app, 777_301, "Спамер").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 777_302, "Ира", Role::Admin).await;
    let (mut feed, _) = open(&app, &client, None).await;

    let (status, blocked) = post_with(
        &app,
        &format!("/api/v1/users/{client_id}/block"),
        &admin,
        json!({ "reason": "spam" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{blocked}");
    // The hub reads connected users' access every 10 s and tells their sockets at once.
    let limit = api::live::access::REFRESH_EVERY + Duration::from_secs(5);
    let closed = tokio::time::timeout(limit, async {
        loop {
            match feed.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| u16::from(frame.code)),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return None,
            }
        }
    })
    .await
    .expect("the feed of a blocked account closes");
    assert_eq!(closed, Some(api::live::socket::BLOCKED));
    app.stop().await;
}
