//! Files and image generations over the real product (Postgres, NATS, the workers and
//! the runner) against a local stand-in of kie.ai and of a chat completions API:
//! uploads typed by their bytes, limits, previews without EXIF, strangers kept out,
//! a fitting from upload to result, a provider failing every attempt, a job refused
//! for lack of credits, and erasure after the retention leaving nothing behind.

use std::time::Duration;

use chrono::Utc;
use domain::command::CommandContext;
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::api_client::{error_code, get_with, post_with, signed_in, signed_in_as};
use tests::app::run_ledgerbot;
use tests::eventually;
use tests::generation_stand::stand;

/// A JPEG photo with an EXIF segment that holds a location.
fn photo_with_location(seed: u8) -> Vec<u8> {
    let plain = tests::ai_fakes::jpeg(800, 600, seed);
    let exif = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 55.7558N GPSLongitude 37.6173E";
    let mut photo = plain[..2].to_vec();
    photo.extend_from_slice(&[0xFF, 0xE1]);
    photo.extend_from_slice(&u16::try_from(exif.len() + 2).expect("short").to_be_bytes());
    photo.extend_from_slice(exif);
    photo.extend_from_slice(&plain[2..]);
    photo
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn uploads_are_typed_by_their_bytes_limited_previewed_without_exif_and_private() {
    let stand = stand().await;
    let (token, _) = signed_in(&stand.app, 9001, "Vera").await;
    let png = tests::ai_fakes::result_png();

    let (status, body) = stand.upload(&token, "ticket", "screenshot.pdf", &png).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["content_type"], "image/png",
        "a PNG named .pdf is a PNG"
    );
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
    let (status, body) = stand.upload(&token, "ticket", "photo.jpg", pdf).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["content_type"], "application/pdf",
        "a PDF named .jpg is a PDF"
    );
    let (status, body) = stand
        .upload(&token, "generation_input", "photo.jpg", pdf)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "file_type_not_allowed"),
        "{body}"
    );
    let (status, body) = stand
        .upload(&token, "ticket", "run.exe", b"MZ\x90\0\x03 an executable")
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");

    // 6 MB where 5 MB is the most: refused before it is written whole.
    let mut big = photo_with_location(1);
    big.resize(6 * 1024 * 1024, 0);
    let (status, body) = stand
        .upload(&token, "generation_input", "big.jpg", &big)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
        "{body}"
    );
    let left: Vec<_> = std::fs::read_dir(stand.folder.join("tmp"))
        .expect("tmp")
        .collect();
    assert!(left.is_empty(), "a refused upload leaves nothing in tmp");

    let photo = photo_with_location(2);
    let (status, body) = stand
        .upload(&token, "generation_input", "me.jpg", &photo)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (
            body["width"].as_i64(),
            body["height"].as_i64(),
            body["has_preview"].as_bool()
        ),
        (Some(800), Some(600), Some(true))
    );
    let file = body["file_id"].as_str().expect("an id").to_owned();
    let (status, original) = stand.bytes(&token, &format!("/api/v1/files/{file}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !contains(&original, b"GPSLatitude") && !contains(&original, b"Exif"),
        "the original lost its EXIF"
    );
    let (status, preview) = stand
        .bytes(&token, &format!("/api/v1/files/{file}/preview"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let decoded = image::load_from_memory(&preview).expect("a preview image");
    assert_eq!((decoded.width(), decoded.height()), (320, 240));
    assert!(
        !contains(&preview, b"Exif") && !contains(&preview, b"GPS"),
        "the preview has no EXIF"
    );

    let (stranger, _) = signed_in(&stand.app, 9002, "Stranger").await;
    for path in [
        format!("/api/v1/files/{file}"),
        format!("/api/v1/files/{file}/preview"),
    ] {
        let (status, body) = get_with(&stand.app, &path, &stranger).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}: {body}"
        );
    }
    let (status, _) = stand
        .bytes(
            &token,
            &format!("/api/v1/files/{file}/link?expires=9999999999&signature=00"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a forged link opens nothing");
    stand.stop().await;
}

#[tokio::test]
async fn a_fitting_goes_from_upload_to_result_for_two_credits() {
    let stand = stand().await;
    let (token, user) = signed_in(&stand.app, 9101, "Lena").await;
    stand.grant(&user, 5).await;
    let (_, person) = stand
        .upload(
            &token,
            "generation_input",
            "me.jpg",
            &photo_with_location(3),
        )
        .await;
    let (_, garment) = stand
        .upload(
            &token,
            "generation_input",
            "dress.jpg",
            &photo_with_location(4),
        )
        .await;
    let (status, job) = post_with(
        &stand.app,
        "/api/v1/generations",
        &token,
        json!({"kind": "fitting", "input_files": [person["file_id"], garment["file_id"]]}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(
        (job["status"].as_str(), job["price"].as_i64()),
        (Some("queued"), Some(2))
    );
    let job_id = job["job_id"].as_str().expect("an id").to_owned();
    let done = stand.finished(&token, &job_id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(stand.balance(&token).await, 3, "two credits spent");
    let result = done["result_file"].as_str().expect("a result");
    let (status, bytes) = stand
        .bytes(&token, &format!("/api/v1/files/{result}"))
        .await;
    assert_eq!(
        (status, bytes),
        (StatusCode::OK, tests::ai_fakes::result_png())
    );
    let received = stand.fake.books.lock().expect("books").received.clone();
    assert_eq!(received.len(), 1);
    assert!(
        received[0].0.contains("garment"),
        "the fitting's instruction went: {:?}",
        received[0].0
    );
    assert!(
        received[0]
            .1
            .iter()
            .all(|(status, length)| *status == 200 && *length > 1000),
        "kie.ai fetched both photos by their signed links: {:?}",
        received[0].1
    );

    let (status, body) = get_with(
        &stand.app,
        &format!("/api/v1/generations/{job_id}"),
        &signed_in(&stand.app, 9102, "Other").await.0,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    stand.stop().await;
}

#[tokio::test]
async fn a_provider_failing_every_attempt_fails_the_job_and_returns_its_credits_once() {
    let stand = stand().await;
    let (token, user) = signed_in(&stand.app, 9201, "Oleg").await;
    stand.grant(&user, 3).await;
    stand.fake.books.lock().expect("books").failing_creates = 100;
    let (_, photo) = stand
        .upload(
            &token,
            "generation_input",
            "me.jpg",
            &photo_with_location(5),
        )
        .await;
    let (status, job) = post_with(
        &stand.app,
        "/api/v1/generations",
        &token,
        json!({"kind": "editing", "input_files": [photo["file_id"]], "prompt": "make the sky pink"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(stand.balance(&token).await, 2, "one credit spent");
    let job_id = job["job_id"].as_str().expect("an id").to_owned();
    let done = stand.finished(&token, &job_id).await;
    assert_eq!(
        (
            done["status"].as_str(),
            done["attempts"].as_i64(),
            done["credits_returned"].as_bool()
        ),
        (Some("failed"), Some(3), Some(true)),
        "{done}"
    );
    assert_eq!(
        stand.fake.books.lock().expect("books").creates,
        3,
        "three attempts"
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            stand.balance(&token).await == 3
        })
        .await,
        "the credit came back"
    );
    // Delivered again (as after a worker's crash): still returned once.
    let core = stand.app.state.core.clone();
    let because = CommandContext::system("test-redelivery");
    core.return_generation_credits(
        job_id.parse().expect("a uuid"),
        user.parse().expect("a uuid"),
        &because,
    )
    .await
    .expect("a repeat is a no-op");
    let refunds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'SpendRefunded'",
    )
    .bind(&user)
    .fetch_one(&stand.context.pool)
    .await
    .expect("counts");
    assert_eq!(refunds, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stand.balance(&token).await, 3);
    stand.stop().await;
}

#[tokio::test]
async fn a_generation_refused_for_lack_of_credits_spends_nothing() {
    let stand = stand().await;
    let (token, user) = signed_in(&stand.app, 9301, "Ira").await;
    stand.grant(&user, 1).await;
    let (_, a) = stand
        .upload(&token, "generation_input", "a.jpg", &photo_with_location(6))
        .await;
    let (_, b) = stand
        .upload(&token, "generation_input", "b.jpg", &photo_with_location(7))
        .await;
    let (status, body) = post_with(
        &stand.app,
        "/api/v1/generations",
        &token,
        json!({"kind": "fitting", "input_files": [a["file_id"], b["file_id"]]}),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "insufficient_credits"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stand.balance(&token).await, 1);
    let spends: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'CreditsSpent'",
    )
    .bind(&user)
    .fetch_one(&stand.context.pool)
    .await
    .expect("counts");
    assert_eq!(spends, 0);
    assert_eq!(
        stand.fake.books.lock().expect("books").creates,
        0,
        "nothing reached the provider"
    );
    stand.stop().await;
}

/// Every row of every table in the database, as text, that holds `needle`.
async fn rows_holding(pool: &sqlx::PgPool, needle: &str) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .expect("the tables");
    let mut found = Vec::new();
    for table in tables {
        let count: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} t WHERE t::text LIKE '%' || $1 || '%'"
        ))
        .bind(needle)
        .fetch_one(pool)
        .await
        .expect("a count");
        if count > 0 {
            found.push(table);
        }
    }
    found
}

#[tokio::test]
async fn erased_photos_prompts_and_chats_leave_nothing_readable_and_the_log_still_verifies() {
    let stand = stand().await;
    let (token, user) = signed_in(&stand.app, 9401, "Anya").await;
    stand.grant(&user, 5).await;
    let photo = photo_with_location(8);
    let (_, uploaded) = stand
        .upload(&token, "generation_input", "me.jpg", &photo)
        .await;
    let file = uploaded["file_id"].as_str().expect("an id").to_owned();
    let (_, original) = stand.bytes(&token, &format!("/api/v1/files/{file}")).await;
    let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, &original));
    let secret_prompt = "PROMPT-7f3a make my jacket red";
    let (status, job) = post_with(
        &stand.app,
        "/api/v1/generations",
        &token,
        json!({"kind": "editing", "input_files": [file], "prompt": secret_prompt}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let done = stand
        .finished(&token, job["job_id"].as_str().expect("an id"))
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        stand.fake.books.lock().expect("books").received[0].0,
        secret_prompt
    );

    let (status, session) = post_with(
        &stand.app,
        "/api/v1/assistant/sessions",
        &token,
        json!({"kind": "editing"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let session = session["session_id"].as_str().expect("an id").to_owned();
    let secret_chat = "CHAT-91bc the photo at my flat on Tverskaya";
    let (status, reply) = post_with(
        &stand.app,
        &format!("/api/v1/assistant/sessions/{session}/messages"),
        &token,
        json!({"text": secret_chat}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        reply["variants"].as_array().map(Vec::len),
        Some(3),
        "{reply}"
    );

    let pool = &stand.context.pool;
    assert!(
        rows_holding(pool, secret_prompt)
            .await
            .iter()
            .all(|table| table.ends_with("generation_prompts")),
        "the prompt lives only in its table"
    );
    assert!(
        rows_holding(pool, "CHAT-91bc")
            .await
            .iter()
            .all(|table| table.ends_with("assistant_messages")),
        "the chat lives only in its table"
    );

    let core = stand.app.state.core.clone();
    let erased = core
        .erase_expired(Utc::now() + chrono::Duration::hours(25))
        .await
        .expect("erased");
    assert!(erased.files >= 1 && erased.prompts == 1, "{erased:?}");
    assert_eq!(
        erased.chats, 0,
        "a chat is kept 30 days after its last message"
    );
    let erased = core
        .erase_expired(Utc::now() + chrono::Duration::days(31))
        .await
        .expect("erased");
    assert_eq!(erased.chats, 1, "{erased:?}");

    for needle in [secret_prompt, "CHAT-91bc", digest.as_str(), "me.jpg"] {
        assert_eq!(
            rows_holding(pool, needle).await,
            Vec::<String>::new(),
            "{needle} is still somewhere"
        );
    }
    let on_disk: Vec<String> = walk(&stand.folder);
    assert!(
        !on_disk.iter().any(|name| name.ends_with(&digest)),
        "the photo's bytes are gone: {on_disk:?}"
    );
    let (status, body) = get_with(&stand.app, &format!("/api/v1/files/{file}"), &token).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "file_erased"),
        "{body}"
    );
    let (status, _) = post_with(
        &stand.app,
        &format!("/api/v1/assistant/sessions/{session}/messages"),
        &token,
        json!({"text": "again"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an erased chat is gone");

    let verified = run_ledgerbot(&["replay", "verify", "--json"], &stand.context.env()).await;
    assert_eq!(verified.code, Some(0), "{verified:?}");
    let report: Value = serde_json::from_str(verified.stdout.trim()).expect("a JSON report");
    assert_eq!(report["finding_count"], 0, "{report}");
    stand.stop().await;
}

fn walk(folder: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(entries) = std::fs::read_dir(folder) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                names.extend(walk(&path));
            } else {
                names.push(path.display().to_string());
            }
        }
    }
    names
}

#[tokio::test]
async fn files_attached_to_a_ticket_are_read_by_its_parties_and_a_notes_by_staff_alone() {
    let stand = stand().await;
    let (customer, _) = signed_in(&stand.app, 9601, "Dina").await;
    let (agent, _) =
        signed_in_as(&stand.app, &stand.context.pool, 9602, "Gleb", Role::Support).await;
    let (stranger, _) = signed_in(&stand.app, 9603, "Other").await;
    let pdf = b"%PDF-1.7\n% an invoice\n%%EOF\n";
    let (_, invoice) = stand.upload(&customer, "ticket", "invoice.pdf", pdf).await;
    let invoice = invoice["file_id"].as_str().expect("an id").to_owned();
    let (status, opened) = post_with(
        &stand.app,
        "/api/v1/tickets",
        &customer,
        json!({"category": "payments", "title": "Charged twice", "description": "See the invoice"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let ticket = opened["ticket_id"].as_str().expect("an id").to_owned();
    let messages = format!("/api/v1/tickets/{ticket}/messages");
    let path = format!("/api/v1/files/{invoice}");
    let (status, _) = get_with(&stand.app, &path, &agent).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "not attached yet: the customer's alone"
    );
    let (status, body) = post_with(
        &stand.app,
        &messages,
        &customer,
        json!({"text": "Here it is", "attachments": [invoice]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        stand.bytes(&agent, &path).await,
        (StatusCode::OK, pdf.to_vec()),
        "support reads what is attached"
    );
    assert_eq!(stand.bytes(&stranger, &path).await.0, StatusCode::NOT_FOUND);

    // Someone else's file, or one for another purpose, cannot be attached.
    let (_, theirs) = stand.upload(&stranger, "ticket", "x.pdf", pdf).await;
    let (status, body) = post_with(
        &stand.app,
        &messages,
        &customer,
        json!({"text": "and this", "attachments": [theirs["file_id"]]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("attachments[0]")),
        "{body}"
    );

    let (_, note_file) = stand.upload(&agent, "ticket", "notes.pdf", pdf).await;
    let note_file = note_file["file_id"].as_str().expect("an id").to_owned();
    let (status, body) = post_with(
        &stand.app,
        &messages,
        &agent,
        json!({"text": "internal", "internal": true, "attachments": [note_file]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let note_path = format!("/api/v1/files/{note_file}");
    assert_eq!(
        stand.bytes(&customer, &note_path).await.0,
        StatusCode::NOT_FOUND,
        "a note's file is staff's alone"
    );
    let (admin, _) = signed_in_as(&stand.app, &stand.context.pool, 9604, "Anna", Role::Admin).await;
    assert_eq!(stand.bytes(&admin, &note_path).await.0, StatusCode::OK);
    let attached: Vec<String> = sqlx::query_scalar(
        "SELECT payload::text FROM events WHERE aggregate_id = $1 AND event_type = 'MessagePosted'",
    )
    .bind(&ticket)
    .fetch_all(&stand.context.pool)
    .await
    .expect("events");
    assert!(
        attached.iter().any(|payload| payload.contains(&invoice)),
        "the event names the file by id"
    );
    assert!(
        !attached
            .iter()
            .any(|payload| payload.contains("invoice.pdf")),
        "and not by its name"
    );
    stand.stop().await;
}
