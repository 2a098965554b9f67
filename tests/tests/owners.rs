//! A first owner for a new deployment: `ledgerbot owner grant <telegram-id> --reason …`
//! on a database where nobody signed in yet, and `LEDGERBOT_OWNER_TELEGRAM_IDS`; both
//! recorded as events by the system with the reason, taking effect at the first
//! sign-in; the last owner is never removed.

use api::startup::Parts;
use domain::use_cases::owners::OwnerGrantOutcome;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, init_data, post_with, settings, sign_in};
use tests::app::{ledgerbot_binary, spawn_app};

/// `ledgerbot owner grant <telegram_id> --reason <reason>`: (exit code, stdout, stderr).
async fn grant(
    context: &TestContext,
    telegram_id: &str,
    reason: &str,
) -> (Option<i32>, String, String) {
    let output = tokio::process::Command::new(ledgerbot_binary())
        .args(["owner", "grant", telegram_id, "--reason", reason])
        .env_clear()
        .envs(context.env())
        .output()
        .await
        .expect("ledgerbot runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// (event_type, payload, metadata) of every event of `aggregate_type`, in order.
async fn events(context: &TestContext, aggregate_type: &str) -> Vec<(String, Value, Value)> {
    sqlx::query_as(
        "SELECT event_type, payload, metadata FROM events WHERE aggregate_type = $1 \
         ORDER BY global_position",
    )
    .bind(aggregate_type)
    .fetch_all(&context.pool)
    .await
    .expect("events")
}

#[tokio::test]
async fn the_command_line_grants_an_owner_before_they_ever_signed_in() {
    let context = TestContext::new().await;
    let (code, stdout, stderr) = grant(&context, "777001", "the founder").await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("becomes an owner at their first sign-in"),
        "{stdout}"
    );
    // Again: nothing new.
    let (code, _, stderr) = grant(&context, "777001", "said twice").await;
    assert_eq!(code, Some(0), "{stderr}");
    let grants = events(&context, "OwnerGrant").await;
    assert_eq!(grants.len(), 1, "{grants:?}");
    let (kind, payload, metadata) = &grants[0];
    assert_eq!(kind, "OwnerGranted");
    assert_eq!(payload["OwnerGranted"]["reason"], json!("the founder"));
    assert_eq!(metadata["actor_kind"], json!("system"));
    assert_eq!(metadata["actor_id"], json!("owner-grant:command-line"));
    // Bad input: exit 1 with a sentence; a bad id is refused by the parser (exit 2).
    let (code, _, stderr) = grant(&context, "777002", " ").await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("reason"), "{stderr}");
    let (code, _, _) = grant(&context, "seven", "x").await;
    assert_eq!(code, Some(2));

    // The first sign-in makes them an owner, caused by the grant.
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let session = sign_in(&app, init_data(777_001, "Олег", &[])).await;
    assert_eq!(session["user"]["role"], json!("owner"), "{session}");
    let user = events(&context, "User").await;
    let (kind, payload, metadata) = user.last().expect("events of the user");
    assert_eq!(kind, "RoleChanged");
    assert_eq!(payload["RoleChanged"]["to"], json!("owner"));
    assert_eq!(metadata["actor_kind"], json!("system"));
    assert_eq!(metadata["causation_id"], json!("OwnerGrant:777001:1"));
    let applied = events(&context, "OwnerGrant").await;
    assert_eq!(
        applied.last().map(|e| e.0.as_str()),
        Some("OwnerGrantApplied")
    );

    // The only owner cannot step down.
    let token = session["access_token"].as_str().expect("a token");
    let me = session["user"]["user_id"].as_str().expect("an id");
    let (status, body) = post_with(
        &app,
        &format!("/api/v1/users/{me}/role"),
        token,
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "last_owner"),
        "{body}"
    );
    app.stop().await;

    // Granted once they are known: at once.
    let outcome = api::startup::grant_owner(&context.settings(), 777_001, "again")
        .await
        .expect("granted");
    assert!(
        matches!(outcome, OwnerGrantOutcome::Applied { .. }),
        "{outcome:?}"
    );
    context.cleanup().await;
}

#[tokio::test]
async fn owners_configured_by_environment_become_owners_at_their_first_sign_in() {
    let context = TestContext::new().await;
    let mut configured = settings(&context);
    configured.owner_telegram_ids = vec![777_101, 777_102];
    let app = spawn_app(configured.clone(), Parts::ALL).await;
    let first = sign_in(&app, init_data(777_101, "Анна", &[])).await;
    assert_eq!(first["user"]["role"], json!("owner"), "{first}");
    let stranger = sign_in(&app, init_data(777_199, "Гость", &[])).await;
    assert_eq!(stranger["user"]["role"], json!("client"), "{stranger}");
    app.stop().await;
    // Every start grants again: nothing new.
    let app = spawn_app(configured, Parts::ALL).await;
    app.stop().await;
    let grants = events(&context, "OwnerGrant").await;
    let granted: Vec<&Value> = grants
        .iter()
        .filter(|(kind, _, _)| kind == "OwnerGranted")
        .map(|(_, payload, _)| &payload["OwnerGranted"]["reason"])
        .collect();
    assert_eq!(
        granted,
        [
            &json!("LEDGERBOT_OWNER_TELEGRAM_IDS"),
            &json!("LEDGERBOT_OWNER_TELEGRAM_IDS")
        ]
    );
    context.cleanup().await;
}
