//! The live feed (`/api/v1/ws`) as a client: open it with a token, read its JSON
//! messages, wait for one.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::app::TestApp;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the feed with the token in the query (as a browser would); returns the
/// socket and its hello.
pub async fn open(app: &TestApp, token: &str, after: Option<i64>) -> (Socket, Value) {
    let mut url = format!("ws://{}/api/v1/ws?access_token={token}", app.address);
    if let Some(after) = after {
        url.push_str(&format!("&after={after}"));
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the WebSocket opens");
    let hello = next(&mut socket).await.expect("a hello");
    assert_eq!(hello["type"], "hello", "{hello}");
    (socket, hello)
}

/// The next JSON message, or None if nothing comes within two seconds.
pub async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(2), socket.next())
            .await
            .ok()??
            .expect("a WebSocket message");
        match message {
            Message::Text(text) => return Some(serde_json::from_str(&text).expect("JSON")),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected message {other:?}"),
        }
    }
}

/// Messages until one matches `wanted` (within ten seconds), returning them all.
pub async fn until(socket: &mut Socket, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        if let Some(message) = next(socket).await {
            let done = wanted(&message);
            seen.push(message);
            if done {
                return seen;
            }
        }
    }
    panic!("no wanted message came; saw {seen:#?}");
}

pub fn is_event(message: &Value, event: &str) -> bool {
    message["type"] == "update" && message["event"] == event
}
