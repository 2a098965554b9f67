//! The fault drill's short form (`tests::drill`, `Plan::short`): 3,000 calls through
//! separate API, relay and worker processes while the relay and workers are killed,
//! NATS stops, Postgres crashes and every YooKassa notification arrives five times out
//! of order; afterwards nothing is lost, doubled or parked and a rebuild of every read
//! model equals the live one. The full drill: `cargo run -p tests --release --bin drill`.

use tests::drill::{Plan, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_lost_doubled_or_parked_through_kills_outages_and_redeliveries() {
    let report = run(Plan::short()).await;
    println!("{report}");
    assert!(report.findings.held(), "{report}");
    assert!(
        report.tally.written.len() > 1_000,
        "the load was mostly accepted: {report}"
    );
    assert!(
        report.notifications.distinct > 20,
        "payments were notified: {report}"
    );
}
