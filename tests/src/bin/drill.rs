//! The full fault drill (`tests::drill`): `cargo run -p tests --release --bin drill`.
//! `LEDGERBOT_DRILL_CALLS` and `LEDGERBOT_DRILL_NATS_OUTAGE_SECS` change its size.
//! Needs the `ledgerbot` binary of the same profile (`cargo build --release --bin
//! ledgerbot`), `nats-server`, and PostgreSQL's server binaries; exits 1 when a check
//! failed.

use std::time::Duration;

use tests::drill::{Plan, run};

#[tokio::main]
async fn main() {
    let mut plan = Plan::full();
    plan.calls = tests::bench_setting("LEDGERBOT_DRILL_CALLS", plan.calls);
    plan.nats_outage = Duration::from_secs(tests::bench_setting(
        "LEDGERBOT_DRILL_NATS_OUTAGE_SECS",
        plan.nats_outage.as_secs(),
    ));
    println!("[drill] {plan:?}");
    let report = run(plan).await;
    println!("{report}");
    std::process::exit(if report.findings.held() { 0 } else { 1 });
}
