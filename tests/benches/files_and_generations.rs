//! Uploads and image generations, with figures printed next to baselines measured in
//! the same run:
//! - 100 concurrent uploads of 5 MB documents: throughput and the process's peak RSS
//!   above idle, next to the same 100 uploads of 0.5 MB (peak RSS must not grow with
//!   file size × count) and next to writing the same bytes straight to the same disk;
//! - 100 concurrent uploads of photos (EXIF stripped, previews made): the same;
//! - generations against the kie.ai stand-in with a fixed provider time: jobs per
//!   second and p50/p95 from request to result, next to the provider time.
//!
//! Run: `cargo bench -p tests --bench files_and_generations` (servers as for the
//! tests). `LEDGERBOT_BENCH_UPLOADS` (100), `LEDGERBOT_BENCH_JOBS` (200),
//! `LEDGERBOT_BENCH_PROVIDER_MS` (500) change the load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::startup::Parts;
use bytes::Bytes;
use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tests::TestContext;
use tests::ai_fakes::{FakeAi, KIE_KEY};
use tests::api_client::{get_with, settings, signed_in};
use tests::app::spawn_app;

/// The process's resident set now and at its peak (VmRSS, VmHWM), in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak to the current resident set (Linux: `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn multipart(file: &[u8]) -> Bytes {
    let mut body = MULTIPART_HEAD.to_vec();
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--bench--\r\n");
    Bytes::from(body)
}

const MULTIPART_HEAD: &[u8] =
    b"--bench\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n";

/// Upload `n`'s body: the shared file with a stamp of its own at the end (so every
/// upload has its own content and hash, as real ones do), streamed without copying
/// the shared bytes.
fn stamped(file: &Bytes, n: usize) -> reqwest::Body {
    let tail = Bytes::from(format!("\n%{n:08}\r\n--bench--\r\n"));
    let parts: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(MULTIPART_HEAD)),
        Ok(file.clone()),
        Ok(tail),
    ];
    reqwest::Body::wrap_stream(futures_util::stream::iter(parts))
}

/// A PDF of about `size` bytes (a header, then filler).
fn document(size: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(size, b'x');
    pdf
}

/// A noisy photo (noise compresses badly, so it is large for its pixels).
fn photo(width: u32, height: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let image = image::RgbImage::from_fn(width, height, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&image)
        .expect("a JPEG");
    jpeg
}

struct Round {
    seconds: f64,
    megabytes: f64,
    peak_above_idle: f64,
}

async fn uploads(
    app: &tests::app::TestApp,
    tokens: &[String],
    purpose: &str,
    file: Bytes,
) -> Round {
    let file_size = file.len();
    let client = reqwest::Client::new();
    let (idle, _) = memory();
    reset_peak();
    let started = Instant::now();
    let statuses: Vec<u16> = futures_util::stream::iter(tokens.iter().cloned().enumerate())
        .map(|(n, token)| {
            let (client, body) = (client.clone(), stamped(&file, n));
            let url = app.url(&format!("/api/v1/files?purpose={purpose}"));
            async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .header("content-type", "multipart/form-data; boundary=bench")
                    .body(body)
                    .send()
                    .await
                    .map_or(0, |response| response.status().as_u16())
            }
        })
        .buffer_unordered(tokens.len())
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let (_, peak) = memory();
    let failed = statuses.iter().filter(|status| **status != 201).count();
    assert_eq!(failed, 0, "uploads failed: {statuses:?}");
    Round {
        seconds,
        megabytes: (file_size * tokens.len()) as f64 / 1_048_576.0,
        peak_above_idle: peak - idle,
    }
}

async fn raw_writes(folder: &std::path::Path, count: usize, file: Bytes) -> f64 {
    tokio::fs::create_dir_all(folder).await.expect("a folder");
    let started = Instant::now();
    futures_util::stream::iter(0..count)
        .map(|n| {
            let (path, file) = (folder.join(format!("raw-{n}")), file.clone());
            async move {
                let mut out = tokio::fs::File::create(&path).await.expect("a file");
                tokio::io::AsyncWriteExt::write_all(&mut out, &file)
                    .await
                    .expect("written");
                out.sync_all().await.expect("synced");
            }
        })
        .buffer_unordered(count)
        .collect::<Vec<()>>()
        .await;
    started.elapsed().as_secs_f64()
}

fn print_round(name: &str, round: &Round) {
    println!(
        "{name:<44} {:>7.2} s  {:>7.1} MB/s  peak RSS +{:>6.1} MiB",
        round.seconds,
        round.megabytes / round.seconds,
        round.peak_above_idle
    );
}

fn percentile(sorted: &[f64], share: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * share).round() as usize;
    sorted.get(index).copied().unwrap_or(0.0)
}

#[tokio::main]
async fn main() {
    let count = tests::bench_setting("LEDGERBOT_BENCH_UPLOADS", 100) as usize;
    let jobs = tests::bench_setting("LEDGERBOT_BENCH_JOBS", 200) as usize;
    let provider_ms = tests::bench_setting("LEDGERBOT_BENCH_PROVIDER_MS", 500);
    let context = TestContext::new().await;
    let fake = FakeAi::start().await;
    fake.books.lock().expect("books").task_time = Duration::from_millis(provider_ms);
    let folder = std::env::temp_dir().join(format!("lbt_bench_files_{}", context.id));
    let mut settings = settings(&context);
    settings.limits.per_user_per_minute = 1_000_000;
    settings.limits.per_ip_per_minute = 1_000_000;
    settings.limits.request_timeout = Duration::from_secs(300);
    settings.log.filter = "warn".to_owned();
    settings.programs.monthly_allowance = 0;
    settings.files.folder = folder.clone();
    settings.ai.images.url = fake.url.clone();
    settings.ai.images.key = Some(KIE_KEY.into());
    settings.ai.rules.poll_every = Duration::from_millis(50);
    settings.ai.rules.running_per_user = 2;
    settings.ai.runners = 64;
    let app = Arc::new(spawn_app(settings, Parts::ALL).await);
    let tokens: Vec<String> = futures_util::stream::iter(0..count)
        .map(|n| {
            let app = app.clone();
            async move { signed_in(&app, 300_000 + n as i64, "Файлы").await.0 }
        })
        .buffer_unordered(20)
        .collect()
        .await;

    println!("{count} concurrent uploads on loopback, one process (server and clients):");
    let large = 5 * 1024 * 1024;
    let small = large / 10;
    let raw = raw_writes(&folder.join("raw"), count, Bytes::from(document(large))).await;
    println!(
        "{:<44} {raw:>7.2} s  {:>7.1} MB/s  (baseline: the same bytes straight to disk, fsynced)",
        format!("raw writes, {count} x 5 MB"),
        (large * count) as f64 / 1_048_576.0 / raw
    );
    let _ = std::fs::remove_dir_all(folder.join("raw"));
    // Smallest first: the resident set only grows, so each round shows what it adds.
    let few = (count / 10).max(1);
    let documents = Bytes::from(document(large));
    let few_round = uploads(&app, &tokens[..few], "ticket", documents.clone()).await;
    print_round(&format!("uploads, {few} x 5 MB documents"), &few_round);
    let small_round = uploads(&app, &tokens, "ticket", Bytes::from(document(small))).await;
    print_round(
        &format!("uploads, {count} x 0.5 MB documents"),
        &small_round,
    );
    let large_round = uploads(&app, &tokens, "ticket", documents).await;
    print_round(&format!("uploads, {count} x 5 MB documents"), &large_round);
    println!(
        "  bytes in flight {:.0} MiB; peak RSS above idle {:.1} MiB ({:.1} MiB at {few} x 5 MB, {:.1} MiB at {count} x 0.5 MB)",
        large_round.megabytes,
        large_round.peak_above_idle,
        few_round.peak_above_idle,
        small_round.peak_above_idle
    );
    let picture = Bytes::from(photo(1900, 1400));
    let mb = picture.len() as f64 / 1_048_576.0;
    let few_pictures = uploads(&app, &tokens[..few], "generation_input", picture.clone()).await;
    print_round(
        &format!("uploads, {few} x {mb:.1} MB photos (1900x1400)"),
        &few_pictures,
    );
    let picture_round = uploads(&app, &tokens, "generation_input", picture).await;
    print_round(
        &format!("uploads, {count} x {mb:.1} MB photos (1900x1400)"),
        &picture_round,
    );

    // Generations: users with credits, each asking for editings back to back.
    let users = 20.min(count);
    let commands = Commands::over(context.pool.clone());
    let mut photos = Vec::new();
    for token in &tokens[..users] {
        let (_, me) = get_with(&app, "/api/v1/auth/me", token).await;
        let user = me["user_id"].as_str().expect("an id").to_owned();
        commands
            .credits
            .execute(
                &user,
                CreditCommand::Grant {
                    amount: 1_000_000,
                    reason: GrantReason::Admin,
                    reference: "bench".into(),
                    expires_at: None,
                },
                &CommandContext::system("bench"),
            )
            .await
            .expect("granted");
        let response = reqwest::Client::new()
            .post(app.url("/api/v1/files?purpose=generation_input"))
            .bearer_auth(token)
            .header("content-type", "multipart/form-data; boundary=bench")
            .body(multipart(&photo(64, 64)))
            .send()
            .await
            .expect("uploaded");
        let stored: Value = response.json().await.expect("JSON");
        photos.push(stored["file_id"].as_str().expect("an id").to_owned());
    }
    // Closed loop: every user keeps two editings going (its limit), each asking for the
    // next as soon as the last one's result is there.
    let loops = users * 2;
    let per_loop = jobs.div_ceil(loops);
    let started = Instant::now();
    let durations: Vec<f64> = futures_util::stream::iter(0..loops)
        .map(|n| {
            let (app, token, photo) = (
                app.clone(),
                tokens[n % users].clone(),
                photos[n % users].clone(),
            );
            async move {
                let mut durations = Vec::new();
                for _ in 0..per_loop {
                    let (_, job) = tests::api_client::post_with(
                        &app,
                        "/api/v1/generations",
                        &token,
                        json!({"kind": "editing", "input_files": [photo], "prompt": "brighter"}),
                    )
                    .await;
                    let job = job["job_id"].as_str().expect("a job").to_owned();
                    loop {
                        let (_, view) =
                            get_with(&app, &format!("/api/v1/generations/{job}"), &token).await;
                        if view["status"] == "succeeded" || view["status"] == "failed" {
                            assert_eq!(view["status"], "succeeded", "{view}");
                            let at = |field: &str| {
                                view[field]
                                    .as_str()
                                    .and_then(|time| {
                                        time.parse::<chrono::DateTime<chrono::Utc>>().ok()
                                    })
                                    .expect("a time")
                            };
                            durations
                                .push((at("finished_at") - at("requested_at")).num_milliseconds()
                                    as f64);
                            break;
                        }
                        // Server times are measured, so this only sets the load.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                durations
            }
        })
        .buffer_unordered(loops)
        .flat_map(futures_util::stream::iter)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let mut durations = durations;
    durations.sort_by(f64::total_cmp);
    let done = durations.len();
    println!(
        "generations: {done} editings, {users} users keeping 2 each going (their limit), provider time {provider_ms} ms"
    );
    println!(
        "  {:.1} jobs/s; request to result p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms \
         (baseline: the provider's {provider_ms} ms, so at most {:.1} jobs/s with {loops} going)",
        done as f64 / seconds,
        percentile(&durations, 0.5),
        percentile(&durations, 0.95),
        durations.last().copied().unwrap_or(0.0),
        loops as f64 * 1000.0 / provider_ms as f64,
    );
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
    context.cleanup().await;
    let _ = std::fs::remove_dir_all(folder);
}
