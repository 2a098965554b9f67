//! The Mini App end to end, in a real Chromium (Debian's `chromium`, driven by
//! `playwright-core` from `tests/e2e/`), against the real server with Postgres,
//! NATS and the YooKassa sandbox. Each scenario gets its own database and stream:
//! this test starts the product, then runs `node tests/e2e/run.mjs <scenario>`,
//! which signs the Telegram stand-in's initData with the test bot token so the
//! server's real validation runs. Screenshots of each scenario's last screen go to
//! `tests/e2e/screenshots/` (or `LEDGERBOT_E2E_SCREENSHOTS`).
//!
//! `scripts/test.sh` installs what this needs (Chromium, `npm ci` in tests/e2e);
//! without it the test fails saying so.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use api::startup::Parts;
use tests::TestContext;
use tests::api_client::{BOT_TOKEN, settings};
use tests::app::spawn_app;

/// The Telegram account granted the owner role by configuration (the scenarios'
/// owner, who gives staff their roles).
const OWNER_TELEGRAM_ID: i64 = 1001;

/// The longest a scenario may take before its browser is killed and the test fails
/// (they take seconds; `run.mjs` gives up on a scenario after two minutes itself).
const SCENARIO_LIMIT: Duration = Duration::from_secs(240);

fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

async fn scenario(name: &str) {
    let dir = e2e_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci --prefix tests/e2e` (scripts/test.sh does)"
    );
    let context = TestContext::new().await;
    let mut configured = settings(&context);
    configured.owner_telegram_ids = vec![OWNER_TELEGRAM_ID];
    let app = spawn_app(configured, Parts::ALL).await;
    let screenshots = std::env::var("LEDGERBOT_E2E_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.join("screenshots"));
    let logs = std::env::temp_dir().join(format!("ledgerbot-e2e-{}", context.id));
    std::fs::create_dir_all(&logs).expect("a folder for the browser's output");
    let (stdout_path, stderr_path) = (logs.join("stdout"), logs.join("stderr"));
    let mut node = std::process::Command::new("node")
        .arg("run.mjs")
        .arg(name)
        .current_dir(&dir)
        .env("LEDGERBOT_E2E_BASE_URL", format!("http://{}", app.address))
        .env("LEDGERBOT_E2E_BOT_TOKEN", BOT_TOKEN)
        .env("LEDGERBOT_E2E_OWNER_ID", OWNER_TELEGRAM_ID.to_string())
        .env("LEDGERBOT_E2E_SCREENSHOTS", &screenshots)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("the browser's stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("the browser's stderr file"))
        .spawn()
        .expect(
            "node runs (scripts/test.sh installs Node.js's packages; Node itself must be on PATH)",
        );
    // Waited for on this thread with a clock of its own, apart from the runtime that
    // serves the app: a scenario that hangs (or an app that stops answering) fails
    // here with what the browser printed, never hangs the test run.
    let status = tokio::task::block_in_place(|| {
        let deadline = Instant::now() + SCENARIO_LIMIT;
        loop {
            match node.try_wait().expect("node's state can be read") {
                Some(status) => break Some(status),
                None if Instant::now() >= deadline => {
                    let _ = node.kill();
                    let _ = node.wait();
                    break None;
                }
                None => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    });
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&logs);
    println!("{stdout}");
    eprintln!("{stderr}");
    let Some(status) = status else {
        panic!(
            "scenario {name} did not end within {SCENARIO_LIMIT:?}; node was killed:\n{stdout}\n{stderr}"
        );
    };
    assert!(
        status.success(),
        "scenario {name} failed ({status}):\n{stdout}\n{stderr}"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coursework_brief_is_quoted_accepted_and_paid_live() {
    scenario("coursework").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_marks_the_field_it_names() {
    scenario("fieldError").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_goes_from_service_to_a_confirmed_slot() {
    scenario("booking").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_side_cart_becomes_a_paid_and_shipped_order() {
    scenario("shop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_gets_a_live_reply_and_a_rating() {
    scenario("ticketLive").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_write_an_internal_note_the_customer_never_sees() {
    scenario("internalNote").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credit_pack_bought_changes_the_balance_on_screen() {
    scenario("creditPack").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dark_theme_follows_telegram() {
    scenario("darkTheme").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_telegram_the_app_says_to_open_it_there() {
    scenario("outsideTelegram").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_speaks_telegrams_web_events_protocol_without_the_sdk() {
    scenario("webEventsProtocol").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_read_charts_and_download_the_tax_ledger() {
    scenario("adminScreens").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_takes_a_paid_order_from_the_pool() {
    scenario("executorPool").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_with_its_modules_loaded_one_by_one() {
    scenario("unbundledPage").await;
}
