//! Generations across a crash of the workers process (SIGKILL, real binaries): the
//! API and relay run here, the workers (and the generation runner) as `ledgerbot
//! workers` child processes against the kie.ai stand-in. A task running when its
//! runner dies is picked up by the next runner from the provider (not paid twice);
//! a provider failing every attempt fails the job with its credits returned once,
//! whatever the kills and redeliveries.

use std::time::Duration;

use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::ai_fakes::{FakeAi, KIE_KEY};
use tests::api_client::{self, get_with, post_with, signed_in};
use tests::app::{LedgerbotProcess, spawn_app};
use tests::eventually;

fn photo(seed: u8) -> Vec<u8> {
    tests::ai_fakes::jpeg(320, 240, seed)
}

async fn upload(app: &tests::app::TestApp, token: &str, bytes: &[u8]) -> String {
    let (status, stored) =
        api_client::upload_file(app, token, "generation_input", "p.jpg", bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    stored["file_id"].as_str().expect("an id").to_owned()
}

async fn job(app: &tests::app::TestApp, token: &str, job_id: &str) -> Value {
    get_with(app, &format!("/api/v1/generations/{job_id}"), token)
        .await
        .1
}

#[tokio::test]
async fn a_runner_killed_mid_task_loses_nothing_and_pays_nothing_twice() {
    let context = TestContext::new().await;
    let fake = FakeAi::start().await;
    fake.books.lock().expect("books").task_time = Duration::from_secs(3);
    let folder = std::env::temp_dir().join(format!("lbt_crash_files_{}", context.id));
    let mut settings = api_client::settings(&context);
    settings.programs.monthly_allowance = 0;
    settings.files.folder = folder.clone();
    settings.ai.images.url = fake.url.clone();
    settings.ai.images.key = Some(KIE_KEY.into());
    let app = spawn_app(settings.clone(), api::startup::Parts::RELAY_ONLY).await;
    let mut env = context.env();
    env.extend([
        (
            "LEDGERBOT_JWT_SECRET".into(),
            settings.auth.jwt_secret.clone().expect("a secret"),
        ),
        (
            "LEDGERBOT_PUBLIC_URL".into(),
            format!("http://{}", app.address),
        ),
        ("LEDGERBOT_FILES_DIR".into(), folder.display().to_string()),
        ("LEDGERBOT_KIE_API_URL".into(), fake.url.clone()),
        ("LEDGERBOT_KIE_API_KEY".into(), KIE_KEY.into()),
        ("LEDGERBOT_GENERATION_POLL_MS".into(), "100".into()),
        ("LEDGERBOT_GENERATION_RETRY_MS".into(), "100".into()),
        ("LEDGERBOT_GENERATION_LEASE_SECS".into(), "3".into()),
        ("LEDGERBOT_MONTHLY_ALLOWANCE".into(), "0".into()),
        ("LEDGERBOT_SCHEDULER_INTERVAL_SECS".into(), "3600".into()),
    ]);
    let workers = LedgerbotProcess::start(&["workers"], &env).await;
    let (token, user) = signed_in(&app, 9501, "Kira").await;
    Commands::over(context.pool.clone())
        .credits
        .execute(
            &user,
            CreditCommand::Grant {
                amount: 5,
                reason: GrantReason::Promo,
                reference: "crash".into(),
                expires_at: None,
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("granted");
    let balance = async || get_with(&app, "/api/v1/credits", &token).await.1["balance"].as_i64();

    // A task is running at the provider when its runner is killed.
    let (person, garment) = (
        upload(&app, &token, &photo(1)).await,
        upload(&app, &token, &photo(2)).await,
    );
    let (status, first) = post_with(
        &app,
        "/api/v1/generations",
        &token,
        json!({"kind": "fitting", "input_files": [person, garment]}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let first = first["job_id"].as_str().expect("an id").to_owned();
    // Killed once the task is submitted and remembered with the job.
    assert!(
        eventually(Duration::from_secs(20), || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM generation_calls WHERE provider_task_id IS NOT NULL",
            )
            .fetch_one(&context.pool)
            .await
            .is_ok_and(|count| count == 1)
        })
        .await,
        "the task was submitted"
    );
    workers.kill().await;
    let workers = LedgerbotProcess::start(&["workers"], &env).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            job(&app, &token, &first).await["status"] == "succeeded"
        })
        .await,
        "the next runner finished it: {}",
        job(&app, &token, &first).await
    );
    let done = job(&app, &token, &first).await;
    assert_eq!(done["attempts"], 2, "the killed attempt counted: {done}");
    assert_eq!(
        fake.books.lock().expect("books").creates,
        1,
        "the running task was picked up, not paid for again"
    );
    assert_eq!(balance().await, Some(3));

    // A provider failing every attempt, with a kill in the middle.
    fake.books.lock().expect("books").failing_creates = 100;
    let photo_id = upload(&app, &token, &photo(3)).await;
    let (status, second) = post_with(
        &app,
        "/api/v1/generations",
        &token,
        json!({"kind": "editing", "input_files": [photo_id], "prompt": "pink"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    let second = second["job_id"].as_str().expect("an id").to_owned();
    assert!(
        eventually(Duration::from_secs(20), || async {
            fake.books.lock().expect("books").creates >= 2
        })
        .await
    );
    workers.kill().await;
    let workers = LedgerbotProcess::start(&["workers"], &env).await;
    assert!(
        eventually(Duration::from_secs(40), || async {
            let now = job(&app, &token, &second).await;
            now["status"] == "failed" && now["credits_returned"] == true
        })
        .await,
        "{}",
        job(&app, &token, &second).await
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            balance().await == Some(3)
        })
        .await,
        "the credit came back"
    );
    let refunds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'SpendRefunded'",
    )
    .bind(&user)
    .fetch_one(&context.pool)
    .await
    .expect("counts");
    assert_eq!(refunds, 1, "returned once");
    let parked: i64 = sqlx::query_scalar("SELECT count(*) FROM projection_parked")
        .fetch_one(&context.pool)
        .await
        .expect("counts");
    assert_eq!(parked, 0);
    workers.terminate().await;
    app.stop().await;
    context.cleanup().await;
    let _ = std::fs::remove_dir_all(folder);
}
