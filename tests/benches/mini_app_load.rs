//! The Mini App's first load in Chromium under a phone's conditions (4x CPU
//! throttling, DevTools' "Fast 3G"): bytes transferred, time to the first screen
//! with data and to interactive, next to the same page unthrottled and the
//! network's floor measured in the same run (`tests/e2e/measure.mjs` does the
//! measuring; this starts the product for it, optimized as the bench profile is).
//!
//! Run: `cargo bench -p tests --bench mini_app_load` after `npm ci --prefix
//! tests/e2e` and with Debian's chromium installed (scripts/test.sh does both).
//! `LEDGERBOT_LOAD_RUNS` sets the cold loads per figure (5).

use api::startup::Parts;
use tests::TestContext;
use tests::api_client::{BOT_TOKEN, settings};
use tests::app::spawn_app;

#[tokio::main]
async fn main() {
    let context = TestContext::new().await;
    let mut configured = settings(&context);
    configured.log.filter = "warn".to_owned();
    let app = spawn_app(configured, Parts::ALL).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    let status = tokio::process::Command::new("node")
        .arg("measure.mjs")
        .current_dir(&dir)
        .env("LEDGERBOT_E2E_BASE_URL", format!("http://{}", app.address))
        .env("LEDGERBOT_E2E_BOT_TOKEN", BOT_TOKEN)
        .status()
        .await
        .expect("node runs measure.mjs (npm ci --prefix tests/e2e first)");
    app.stop().await;
    context.cleanup().await;
    assert!(status.success(), "the measurement failed: {status}");
}
