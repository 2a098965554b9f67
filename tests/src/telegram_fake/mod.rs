//! A Telegram Bot API stand-in for the bot's tests: `POST /bot<token>/<method>` as
//! teloxide calls it (method names in any case), answering `getMe` with a username,
//! handing out the updates a test feeds through `getUpdates` (long polling with its
//! offset), and recording every call with the moment it came (sendMessage,
//! editMessageText, answerCallbackQuery, …). A chat can be made to have blocked the
//! bot (403) and the next sends can be answered 429 with `retry_after`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::time::Instant;

mod updates;
mod waits;

pub const BOT_USERNAME: &str = "ledgerbot_test_bot";

/// One request the bot made.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method in lower case (`sendmessage`).
    pub method: String,
    pub body: Value,
    /// When it came, on the fake server's clock.
    pub at: Instant,
    /// When it came, on the wall clock (to compare with times in the database).
    pub wall: chrono::DateTime<chrono::Utc>,
    /// Answered with an error (403, 400, 429): nothing was shown.
    pub refused: bool,
}

#[derive(Default)]
struct Books {
    updates: Vec<Value>,
    next_update_id: i64,
    next_message_id: i64,
    calls: Vec<Call>,
    blocked: HashSet<i64>,
    too_many_next: u32,
    /// Files users sent, by file id: what `getFile` and the download serve.
    files: std::collections::HashMap<String, Vec<u8>>,
}

/// A running fake Bot API.
#[derive(Clone)]
pub struct FakeTelegram {
    pub address: SocketAddr,
    books: Arc<Mutex<Books>>,
}

/// A Telegram user as updates carry them.
#[derive(Debug, Clone)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub language: &'static str,
}

impl TgUser {
    pub fn new(id: i64, first_name: &str, language: &'static str) -> Self {
        Self {
            id,
            first_name: first_name.to_owned(),
            language,
        }
    }

    pub(crate) fn json(&self) -> Value {
        json!({"id": self.id, "is_bot": false, "first_name": self.first_name,
               "username": format!("user{}", self.id), "language_code": self.language})
    }
}

impl FakeTelegram {
    pub async fn start() -> Self {
        let books = Arc::new(Mutex::new(Books {
            next_update_id: 700_000_000,
            next_message_id: 1,
            ..Books::default()
        }));
        let app = Router::new()
            .route("/{token}/{method}", post(answer))
            .route("/file/{token}/{*path}", axum::routing::get(download))
            .with_state(books.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake Bot API binds");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, books }
    }

    /// The base URL to give the bot (`LEDGERBOT_BOT_API_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().expect("the fake's books")
    }

    /// Feeds an update as Telegram would (its `update_id` is set here); returns it.
    pub fn feed(&self, mut update: Value) -> i64 {
        let mut books = self.books();
        books.next_update_id += 1;
        let id = books.next_update_id;
        update["update_id"] = json!(id);
        books.updates.push(update);
        id
    }

    pub(crate) fn message_id(&self) -> i64 {
        let mut books = self.books();
        books.next_message_id += 1;
        books.next_message_id
    }

    /// Every call of `method` (any case), in order.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        let method = method.to_ascii_lowercase();
        self.books()
            .calls
            .iter()
            .filter(|call| call.method == method)
            .cloned()
            .collect()
    }

    /// The texts sent (sendMessage) to `chat`, in order, refused ones too.
    pub fn texts_to(&self, chat: i64) -> Vec<Value> {
        self.calls("sendMessage")
            .into_iter()
            .filter(|call| call.body["chat_id"] == json!(chat))
            .map(|call| call.body)
            .collect()
    }

    /// The texts shown in `chat` (sendMessage calls not answered with an error).
    pub fn delivered_to(&self, chat: i64) -> Vec<Value> {
        self.calls("sendMessage")
            .into_iter()
            .filter(|call| call.body["chat_id"] == json!(chat) && !call.refused)
            .map(|call| call.body)
            .collect()
    }

    /// The bytes of the file `file_id` a user sends (served by `getFile` and the
    /// file download, as Telegram keeps them).
    pub fn put_file(&self, file_id: &str, bytes: Vec<u8>) {
        self.books().files.insert(file_id.to_owned(), bytes);
    }

    /// From now on `chat` has blocked the bot.
    pub fn block(&self, chat: i64) {
        self.books().blocked.insert(chat);
    }

    /// The next `count` sends are answered 429, retry after 1 s.
    pub fn too_many_next(&self, count: u32) {
        self.books().too_many_next = count;
    }

    /// Whether getUpdates was asked with an offset past `update_id` (Telegram would
    /// have forgotten it).
    pub fn confirmed(&self, update_id: i64) -> bool {
        self.calls("getUpdates").iter().any(|call| {
            call.body["offset"]
                .as_i64()
                .is_some_and(|offset| offset > update_id)
        })
    }
}

/// What Telegram would refuse in a message: text over 4096 UTF-16 units (a caption
/// over 1024), button data over 64 bytes.
fn refusal_of(body: &Value) -> Option<String> {
    let units = |field: &str| {
        body[field]
            .as_str()
            .map_or(0, |text| text.encode_utf16().count())
    };
    if units("text") > 4096 {
        return Some("Bad Request: message is too long".to_owned());
    }
    if units("caption") > 1024 {
        return Some("Bad Request: message caption is too long".to_owned());
    }
    let keyboard = match &body["reply_markup"] {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    };
    let too_long = keyboard["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .any(|button| {
            button["callback_data"]
                .as_str()
                .is_some_and(|data| data.len() > 64)
        });
    too_long.then(|| "Bad Request: BUTTON_DATA_INVALID".to_owned())
}

pub(crate) fn bot_user() -> Value {
    json!({"id": 4242, "is_bot": true, "first_name": "Ledgerbot", "username": BOT_USERNAME})
}

fn ok(result: Value) -> (StatusCode, Json<Value>) {
    (StatusCode::OK, Json(json!({"ok": true, "result": result})))
}

/// A request's fields: JSON, or the text fields of a multipart form (teloxide sends
/// methods that may carry files, such as setWebhook, as forms).
fn fields_of(headers: &HeaderMap, body: &[u8]) -> Value {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = content_type
        .split(';')
        .find_map(|part| part.trim().strip_prefix("boundary="))
    else {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    };
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let value = value.trim_end_matches("\r\n");
        let value = serde_json::from_str(value).unwrap_or_else(|_| json!(value));
        fields.insert(name.to_owned(), value);
    }
    Value::Object(fields)
}

/// `GET /file/bot<token>/<file_path>`: a file's bytes.
async fn download(
    State(books): State<Arc<Mutex<Books>>>,
    Path((_token, path)): Path<(String, String)>,
) -> (StatusCode, Vec<u8>) {
    let file_id = path
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".jpg"))
        .unwrap_or_default();
    match books.lock().expect("books").files.get(file_id) {
        Some(bytes) => (StatusCode::OK, bytes.clone()),
        None => (StatusCode::NOT_FOUND, Vec::new()),
    }
}

async fn answer(
    State(books): State<Arc<Mutex<Books>>>,
    Path((_token, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let method = method.to_ascii_lowercase();
    let body = fields_of(&headers, &body);
    let at = Instant::now();
    if method == "getupdates" {
        let offset = body["offset"].as_i64().unwrap_or(0);
        let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0));
        {
            let mut books = books.lock().expect("books");
            books.calls.push(Call {
                method: method.clone(),
                body: body.clone(),
                at,
                wall: chrono::Utc::now(),
                refused: false,
            });
            books
                .updates
                .retain(|update| update["update_id"].as_i64().unwrap_or(0) >= offset);
        }
        let deadline = at + wait;
        loop {
            // At most `limit` (100 unless given), as Telegram.
            let limit = body["limit"].as_u64().unwrap_or(100) as usize;
            let ready: Vec<Value> = books
                .lock()
                .expect("books")
                .updates
                .iter()
                .take(limit)
                .cloned()
                .collect();
            if !ready.is_empty() || Instant::now() >= deadline {
                return ok(json!(ready));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let mut books = books.lock().expect("books");
    books.calls.push(Call {
        method: method.clone(),
        body: body.clone(),
        at,
        wall: chrono::Utc::now(),
        refused: false,
    });
    let chat = body["chat_id"].as_i64().unwrap_or(0);
    match method.as_str() {
        "getfile" => {
            let file_id = body["file_id"].as_str().unwrap_or_default().to_owned();
            match books.files.get(&file_id) {
                Some(bytes) => ok(
                    json!({"file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                                         "file_size": bytes.len(), "file_path": format!("photos/{file_id}.jpg")}),
                ),
                None => (
                    StatusCode::BAD_REQUEST,
                    Json(
                        json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"}),
                    ),
                ),
            }
        }
        "getme" => ok(
            json!({"id": 4242, "is_bot": true, "first_name": "Ledgerbot",
            "username": BOT_USERNAME, "can_join_groups": true,
            "can_read_all_group_messages": false, "supports_inline_queries": false,
            "has_main_web_app": false}),
        ),
        "sendmessage" | "editmessagetext" | "sendphoto" => {
            let refused = books.blocked.contains(&chat)
                || refusal_of(&body).is_some()
                || (method != "editmessagetext" && books.too_many_next > 0);
            if let Some(call) = books.calls.last_mut() {
                call.refused = refused;
            }
            if books.blocked.contains(&chat) {
                return (
                    StatusCode::FORBIDDEN,
                    Json(json!({"ok": false, "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user"})),
                );
            }
            if let Some(refusal) = refusal_of(&body) {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"ok": false, "error_code": 400, "description": refusal})),
                );
            }
            if method != "editmessagetext" && books.too_many_next > 0 {
                books.too_many_next -= 1;
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"ok": false, "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1}})),
                );
            }
            let message_id = match body["message_id"].as_i64() {
                Some(id) => id,
                None => {
                    books.next_message_id += 1;
                    books.next_message_id
                }
            };
            let chat_json = if chat < 0 {
                json!({"id": chat, "type": "supergroup", "title": "Staff"})
            } else {
                json!({"id": chat, "type": "private", "first_name": "User"})
            };
            let mut message = json!({"message_id": message_id, "date": chrono::Utc::now().timestamp(),
                                     "chat": chat_json, "from": bot_user()});
            if method == "sendphoto" {
                message["photo"] = json!([{"file_id": body["photo"], "file_unique_id": "p",
                                           "width": 640, "height": 480}]);
                message["caption"] = body["caption"].clone();
            } else {
                message["text"] = body["text"].clone();
            }
            ok(message)
        }
        "createforumtopic" => {
            books.next_message_id += 1;
            ok(json!({"message_thread_id": books.next_message_id,
                      "name": body["name"], "icon_color": 7_322_096}))
        }
        _ => ok(json!(true)),
    }
}
