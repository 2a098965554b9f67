//! The rules around generations and uploads that the main scenarios do not reach:
//! one user's generations run at most `running_per_user` at a time; the month's free
//! allowance pays before bought credits and a charge beyond it is refused; the owner
//! alone hears a generation's steps on the live feed; an upload without a declared
//! length is cut off with 413 once it passes the limit, nothing kept; and with a
//! virus scanner configured (a stand-in speaking clamd's `zINSTREAM`) an infected
//! upload is refused, a clean one kept, and a scanner that is down refuses nothing
//! silently.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::api_client::{error_code, post_with, signed_in};
use tests::generation_stand::{Stand, stand_with};
use tests::live_client::{next, open, until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn photo(seed: u8) -> Vec<u8> {
    tests::ai_fakes::jpeg(320, 240, seed)
}

async fn uploaded_photo(stand: &Stand, token: &str, seed: u8) -> Value {
    let (status, file) = stand
        .upload(token, "generation_input", "photo.jpg", &photo(seed))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    file["file_id"].clone()
}

async fn editing(stand: &Stand, token: &str, seed: u8) -> (StatusCode, Value) {
    let input = uploaded_photo(stand, token, seed).await;
    post_with(
        &stand.app,
        "/api/v1/generations",
        token,
        json!({"kind": "editing", "input_files": [input], "prompt": "сделай фон синим"}),
    )
    .await
}

async fn running(stand: &Stand, user: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM rm_generation_jobs WHERE user_id = $1::uuid AND status = 'running'",
    )
    .bind(user)
    .fetch_one(&stand.context.pool)
    .await
    .expect("counts")
}

#[tokio::test]
async fn one_users_generations_run_one_at_a_time_when_the_limit_is_one() {
    let stand = stand_with(|settings| settings.ai.rules.running_per_user = 1).await;
    stand.fake.books.lock().expect("books").task_time = Duration::from_millis(1200);
    let (token, user) = signed_in(&stand.app, 9601, "Лена").await;
    stand.grant(&user, 3).await;
    let mut jobs = Vec::new();
    for seed in 1..=3 {
        let (status, job) = editing(&stand, &token, seed).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        jobs.push(job["job_id"].as_str().expect("an id").to_owned());
    }
    let mut most = 0;
    let mut all_done = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while tokio::time::Instant::now() < deadline {
        most = most.max(running(&stand, &user).await);
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rm_generation_jobs WHERE user_id = $1::uuid AND status = 'succeeded'",
        )
        .bind(&user)
        .fetch_one(&stand.context.pool)
        .await
        .expect("counts");
        if done == 3 {
            all_done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(all_done, "all three generations finish");
    assert_eq!(most, 1, "never more than one of hers running at once");
    assert_eq!(stand.fake.books.lock().expect("books").creates, 3);
    stand.stop().await;
}

#[tokio::test]
async fn the_months_allowance_pays_for_a_generation_and_a_charge_beyond_it_is_refused() {
    let stand = stand_with(|settings| settings.programs.monthly_allowance = 2).await;
    let (token, _) = signed_in(&stand.app, 9602, "Оля").await;
    let person = uploaded_photo(&stand, &token, 1).await;
    let garment = uploaded_photo(&stand, &token, 2).await;
    let (status, job) = post_with(
        &stand.app,
        "/api/v1/generations",
        &token,
        json!({"kind": "fitting", "input_files": [person, garment]}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "the allowance pays: {job}");
    let job_id = job["job_id"].as_str().expect("an id").to_owned();
    let finished = stand.finished(&token, &job_id).await;
    assert_eq!(finished["status"], "succeeded", "{finished}");
    assert!(
        tests::eventually(Duration::from_secs(10), || async {
            stand.balance(&token).await == 0
        })
        .await,
        "the allowance is spent, and nothing else was there"
    );
    let (status, body) = editing(&stand, &token, 3).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "insufficient_credits"),
        "one allowance a month: {body}"
    );
    stand.stop().await;
}

#[tokio::test]
async fn the_owner_alone_hears_a_generations_steps_on_the_live_feed() {
    let stand = stand_with(|_| {}).await;
    let (token, user) = signed_in(&stand.app, 9603, "Катя").await;
    let (other, _) = signed_in(&stand.app, 9604, "Дима").await;
    stand.grant(&user, 1).await;
    let (mut mine, _) = open(&stand.app, &token, None).await;
    let (mut theirs, _) = open(&stand.app, &other, None).await;
    let (status, job) = editing(&stand, &token, 4).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job_id = job["job_id"].clone();
    let heard = until(&mut mine, |message| {
        message["topic"] == "generation" && message["event"] == "GenerationSucceeded"
    })
    .await;
    let steps: Vec<&str> = heard
        .iter()
        .filter(|message| message["topic"] == "generation")
        .inspect(|message| assert_eq!(message["id"], job_id, "{message}"))
        .filter_map(|message| message["event"].as_str())
        .collect();
    assert_eq!(steps.first(), Some(&"GenerationRequested"), "{steps:?}");
    assert!(steps.contains(&"GenerationStarted"), "{steps:?}");
    while let Some(message) = next(&mut theirs).await {
        assert_ne!(message["topic"], "generation", "someone else's: {message}");
    }
    stand.stop().await;
}

/// A multipart upload of `size` bytes sent in chunks without a declared length.
async fn streamed_upload(stand: &Stand, token: &str, size: usize) -> (StatusCode, Value) {
    slow_upload(stand, token, size, Duration::ZERO).await
}

/// The same with a pause before each chunk (a phone on a slow line).
async fn slow_upload(
    stand: &Stand,
    token: &str,
    size: usize,
    pause: Duration,
) -> (StatusCode, Value) {
    let boundary = "lbt-stream-9e1";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    );
    let mut content = photo(5);
    content.resize(size, 0);
    let tail = format!("\r\n--{boundary}--\r\n");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = std::iter::once(head.into_bytes())
        .chain(content.chunks(256 * 1024).map(<[u8]>::to_vec))
        .chain(std::iter::once(tail.into_bytes()))
        .map(Ok)
        .collect();
    let paced = futures_util::StreamExt::then(
        futures_util::stream::iter(chunks),
        move |chunk| async move {
            tokio::time::sleep(pause).await;
            chunk
        },
    );
    let body = reqwest::Body::wrap_stream(paced);
    let response = reqwest::Client::new()
        .post(stand.app.url("/api/v1/files?purpose=generation_input"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await;
    match response {
        Ok(response) => {
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        // The server may answer and close before the whole body is sent.
        Err(error) => panic!("the upload got no answer: {error}"),
    }
}

fn kept_files(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(next) = folders.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test]
async fn an_upload_without_a_length_is_cut_off_at_the_limit_and_nothing_is_kept() {
    let stand = stand_with(|_| {}).await;
    let (token, _) = signed_in(&stand.app, 9605, "Рома").await;
    let (status, body) = streamed_upload(&stand, &token, 6 * 1024 * 1024).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
        "{body}"
    );
    assert!(
        kept_files(&stand.folder).is_empty(),
        "nothing kept, nothing left in tmp: {:?}",
        kept_files(&stand.folder)
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM stored_files")
        .fetch_one(&stand.context.pool)
        .await
        .expect("counts");
    assert_eq!(rows, 0);
    let (status, body) = streamed_upload(&stand, &token, 1024 * 1024).await;
    assert_eq!(status, StatusCode::CREATED, "within the limit: {body}");
    stand.stop().await;
}

#[tokio::test]
async fn an_upload_has_its_own_time_limit_longer_than_a_requests() {
    let stand = stand_with(|settings| {
        settings.limits.request_timeout = Duration::from_secs(1);
        settings.limits.upload_timeout = Duration::from_secs(30);
    })
    .await;
    let (token, _) = signed_in(&stand.app, 9608, "Сева").await;
    // Six chunks of 256 KiB, 400 ms apart: well past a request's second.
    let started = std::time::Instant::now();
    let (status, body) = slow_upload(&stand, &token, 1024 * 1024, Duration::from_millis(400)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        started.elapsed() > Duration::from_secs(1),
        "it took longer than a request may"
    );
    stand.stop().await;
}

/// The EICAR test signature every virus scanner reports.
const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// A clamd stand-in: `zINSTREAM`, chunks of `<u32 length><bytes>` ended by a zero
/// length, then `stream: OK` or `stream: Eicar-Signature FOUND`; the scans it saw.
async fn clamd() -> (String, Arc<Mutex<u32>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address").to_string();
    let scans = Arc::new(Mutex::new(0));
    let counted = scans.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut command = [0u8; 10];
                if socket.read_exact(&mut command).await.is_err() || &command != b"zINSTREAM\0" {
                    let _ = socket.write_all(b"UNKNOWN COMMAND\0").await;
                    return;
                }
                let mut content = Vec::new();
                loop {
                    let Ok(length) = socket.read_u32().await else {
                        return;
                    };
                    if length == 0 {
                        break;
                    }
                    let mut chunk = vec![0u8; length as usize];
                    if socket.read_exact(&mut chunk).await.is_err() {
                        return;
                    }
                    content.extend_from_slice(&chunk);
                }
                *counted.lock().expect("scans") += 1;
                let infected = content.windows(EICAR.len()).any(|window| window == EICAR);
                let answer: &[u8] = if infected {
                    b"stream: Eicar-Signature FOUND\0"
                } else {
                    b"stream: OK\0"
                };
                let _ = socket.write_all(answer).await;
            });
        }
    });
    (address, scans)
}

#[tokio::test]
async fn with_a_scanner_an_infected_upload_is_refused_and_a_clean_one_kept() {
    let (address, scans) = clamd().await;
    let stand = stand_with(|settings| settings.files.clamav = Some(address)).await;
    let (token, _) = signed_in(&stand.app, 9606, "Ника").await;
    let mut infected = b"%PDF-1.7\n".to_vec();
    infected.extend_from_slice(EICAR);
    infected.extend_from_slice(b"\n%%EOF\n");
    let (status, body) = stand
        .upload(&token, "ticket", "invoice.pdf", &infected)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "file_infected"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("Eicar-Signature")),
        "{body}"
    );
    let (status, body) = stand
        .upload(&token, "ticket", "clean.pdf", b"%PDF-1.7\n%%EOF\n")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(*scans.lock().expect("scans"), 2, "both were scanned");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM stored_files WHERE erased_at IS NULL")
        .fetch_one(&stand.context.pool)
        .await
        .expect("counts");
    assert_eq!(kept, 1, "only the clean one is kept");
    stand.stop().await;
}

#[tokio::test]
async fn with_a_scanner_that_is_down_uploads_are_refused_for_now_not_taken_unscanned() {
    // A port nothing listens on.
    let address = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("an address").to_string()
    };
    let stand = stand_with(|settings| settings.files.clamav = Some(address)).await;
    let (token, _) = signed_in(&stand.app, 9607, "Тима").await;
    let (status, body) = stand
        .upload(&token, "ticket", "clean.pdf", b"%PDF-1.7\n%%EOF\n")
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM stored_files")
        .fetch_one(&stand.context.pool)
        .await
        .expect("counts");
    assert_eq!(kept, 0, "nothing taken unscanned");
    stand.stop().await;
}
