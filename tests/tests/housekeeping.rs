//! Housekeeping runs once per deployment however many workers processes run it; the
//! bot's sender sees each notification and reminder until it is delivered, and a
//! rebuilt notification (same id) is not sent again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use api::startup::Parts;
use chrono::Utc;
use futures_util::future::join_all;
use projections::housekeeping::{Housekeeping, Job};
use projections::read_models::notifications::deliveries::{self, Delivery};
use tests::app::spawn_app;
use tests::history;
use tests::{TestContext, eventually};

fn counting_job(runs: &Arc<AtomicU64>) -> Job {
    let runs = runs.clone();
    Job::new("count", Duration::from_secs(3_600), move || {
        let runs = runs.clone();
        Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            // Long enough for the others to try meanwhile.
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(1)
        })
    })
}

#[tokio::test]
async fn a_job_runs_once_per_period_however_many_processes_run_housekeeping() {
    let context = TestContext::new().await;
    let runs = Arc::new(AtomicU64::new(0));
    let processes: Vec<Housekeeping> = (0..4)
        .map(|_| {
            Housekeeping::new(
                context.pool.clone(),
                vec![counting_job(&runs)],
                Duration::from_secs(30),
            )
        })
        .collect();
    for _ in 0..3 {
        let rounds = processes.iter().map(Housekeeping::run_once);
        for round in join_all(rounds).await {
            round.expect("a round");
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "once in the hour");
    // A period later (as the table says), once more.
    sqlx::query("UPDATE housekeeping_runs SET last_run_at = now() - interval '2 hours'")
        .execute(&context.pool)
        .await
        .expect("ages the run");
    for round in join_all(processes.iter().map(Housekeeping::run_once)).await {
        round.expect("a round");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    context.cleanup().await;
}

#[tokio::test]
async fn notices_stay_pending_until_delivered_and_a_rebuilt_one_is_not_sent_again() {
    let context = TestContext::new().await;
    history::business(&context.pool).await;
    let app = spawn_app(context.settings(), Parts::ALL).await;
    let notifications = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM rm_notifications")
            .fetch_one(&context.pool)
            .await
            .expect("a count")
    };
    assert!(
        eventually(Duration::from_secs(60), || async {
            let before = notifications().await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            before > 0 && notifications().await == before
        })
        .await
    );
    let total = notifications().await;
    sqlx::query(
        "INSERT INTO scheduled_reminders (reminder_id, recipient, template, params, cause, created_at) \
         VALUES ('reminder:ticket:t:now:staff_ticket_unanswered:staff', 'staff_group', \
                 'staff_ticket_unanswered', '{}', 'reminder:ticket:t:now', now())",
    )
    .execute(&context.pool)
    .await
    .expect("a reminder");
    let now = Utc::now();
    let pending = deliveries::pending(&context.pool, now, 1_000)
        .await
        .expect("pending");
    assert_eq!(
        pending.len() as i64,
        total + 1,
        "the notifications and the reminder"
    );

    // One fails for now, one for good, one the user blocked; the rest are sent.
    let retry_at = now + chrono::Duration::minutes(5);
    for (index, notice) in pending.iter().enumerate() {
        let delivery = match index {
            0 => Delivery::Retrying {
                error: "429 Too Many Requests".to_owned(),
                next_attempt_at: retry_at,
            },
            1 => Delivery::Failed {
                error: "chat not found".to_owned(),
            },
            2 => Delivery::Blocked,
            _ => Delivery::Sent,
        };
        deliveries::record(&context.pool, &notice.notification_id, &delivery, now)
            .await
            .expect("recorded");
    }
    assert!(
        deliveries::pending(&context.pool, now, 1_000)
            .await
            .expect("pending")
            .is_empty()
    );
    let due = deliveries::pending(&context.pool, retry_at, 1_000)
        .await
        .expect("pending");
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].notification_id.as_str(), due[0].attempts),
        (pending[0].notification_id.as_str(), 1)
    );

    // A rebuild writes the same rows again under the same ids: nothing is resent.
    app.stop().await;
    sqlx::raw_sql(
        "CREATE TEMPORARY TABLE kept AS SELECT * FROM rm_notifications; \
         DELETE FROM rm_notifications; INSERT INTO rm_notifications SELECT * FROM kept",
    )
    .execute(&context.pool)
    .await
    .expect("rebuilt");
    assert_eq!(
        deliveries::pending(&context.pool, now, 1_000)
            .await
            .expect("pending")
            .len(),
        0
    );
    context.cleanup().await;
}
