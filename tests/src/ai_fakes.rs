//! Local stand-ins for the AI providers, speaking their documented shapes: kie.ai's
//! task API (`POST /api/v1/jobs/createTask`, `GET /api/v1/jobs/recordInfo`, results
//! served under `/results/`) and an OpenAI-compatible chat completions API
//! (`POST /chat/completions`). Scripted: failures (500s) of the next creates, a
//! provider time per task, a fixed chat answer. The stand-in fetches every input URL
//! it is given, as kie.ai does, and records what it got.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const KIE_KEY: &str = "kie-test-key";
pub const CHAT_KEY: &str = "chat-test-key";

#[derive(Default)]
pub struct Books {
    /// Creates still to answer with 500.
    pub failing_creates: u32,
    pub creates: u32,
    /// How long a task "generates" before it succeeds.
    pub task_time: Duration,
    tasks: HashMap<String, (Instant, Vec<String>)>,
    /// The prompt and the input photos' status and length, per task.
    pub received: Vec<(String, Vec<(u16, usize)>)>,
    pub chat_requests: Vec<Value>,
    pub chat_answer: String,
    /// Chat requests still to answer with 500.
    pub failing_chats: u32,
}

#[derive(Clone)]
pub struct FakeAi {
    pub books: Arc<Mutex<Books>>,
    pub url: String,
}

/// A plain JPEG photo of one colour (`seed` sets it, so photos differ).
pub fn jpeg(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([seed, 60, 120]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&image)
        .expect("a JPEG");
    jpeg
}

/// A small PNG the results are.
pub fn result_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, 2, 2);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("a header");
        writer.write_image_data(&[9u8; 12]).expect("pixels");
    }
    out
}

fn authorized(headers: &HeaderMap, key: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(format!("Bearer {key}").as_str())
}

async fn create_task(
    State(fake): State<FakeAi>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers, KIE_KEY) {
        return Json(json!({"code": 401, "msg": "You do not have access permissions"}))
            .into_response();
    }
    {
        let mut books = fake.books.lock().expect("books");
        books.creates += 1;
        if books.failing_creates > 0 {
            books.failing_creates -= 1;
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"code": 500, "msg": "Server Error"})),
            )
                .into_response();
        }
    }
    let prompt = body["input"]["prompt"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let urls: Vec<String> = body["input"]["image_urls"]
        .as_array()
        .map(|urls| {
            urls.iter()
                .filter_map(|url| url.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut fetched = Vec::new();
    for url in &urls {
        let got = reqwest::get(url).await;
        match got {
            Ok(response) => {
                let status = response.status().as_u16();
                let length = response.bytes().await.map(|bytes| bytes.len()).unwrap_or(0);
                fetched.push((status, length));
            }
            Err(_) => fetched.push((0, 0)),
        }
    }
    let task_id = format!("task_google_{}", uuid::Uuid::now_v7().simple());
    let mut books = fake.books.lock().expect("books");
    books.received.push((prompt, fetched));
    let result = format!("{}/results/{task_id}.png", fake.url);
    books
        .tasks
        .insert(task_id.clone(), (Instant::now(), vec![result]));
    Json(json!({"code": 200, "msg": "success", "data": {"taskId": task_id}})).into_response()
}

async fn record_info(
    State(fake): State<FakeAi>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers, KIE_KEY) {
        return Json(json!({"code": 401, "msg": "Unauthorized"})).into_response();
    }
    let Some(task_id) = query.get("taskId") else {
        return Json(json!({"code": 400, "msg": "taskId parameter is required"})).into_response();
    };
    let books = fake.books.lock().expect("books");
    let Some((created, urls)) = books.tasks.get(task_id) else {
        return Json(json!({"code": 404, "msg": "Task not found"})).into_response();
    };
    let done = created.elapsed() >= books.task_time;
    let data = json!({
        "taskId": task_id,
        "model": "google/nano-banana-edit",
        "state": if done { "success" } else { "generating" },
        "param": "{}",
        "resultJson": if done { json!({"resultUrls": urls}).to_string() } else { String::new() },
        "failCode": "",
        "failMsg": "",
        "costTime": 1000,
        "completeTime": 1_698_765_432_000_i64,
        "createTime": 1_698_765_400_000_i64,
        "updateTime": 1_698_765_432_000_i64,
    });
    Json(json!({"code": 200, "msg": "success", "data": data})).into_response()
}

async fn result(Path(_name): Path<String>) -> Response {
    ([("content-type", "image/png")], result_png()).into_response()
}

async fn chat(State(fake): State<FakeAi>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers, CHAT_KEY) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "No auth"}})),
        )
            .into_response();
    }
    let mut books = fake.books.lock().expect("books");
    books.chat_requests.push(body);
    if books.failing_chats > 0 {
        books.failing_chats -= 1;
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"message": "upstream overloaded", "code": 500}})),
        )
            .into_response();
    }
    let content = books.chat_answer.clone();
    Json(json!({
        "id": "gen-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "openai/gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160, "cost": 0.00012},
    }))
    .into_response()
}

impl FakeAi {
    pub async fn start() -> FakeAi {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        let fake = FakeAi {
            books: Arc::new(Mutex::new(Books {
                chat_answer: json!({"reply": "Here are three ways", "variants": ["make the sky pink", "add sunset light", "paint it in watercolour"]}).to_string(),
                ..Books::default()
            })),
            url: format!("http://{address}"),
        };
        let app = Router::new()
            .route("/api/v1/jobs/createTask", post(create_task))
            .route("/api/v1/jobs/recordInfo", get(record_info))
            .route("/results/{name}", get(result))
            .route("/chat/completions", post(chat))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }
}
