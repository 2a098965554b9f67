//! `ledgerbot replay history`: the real binary reads one aggregate's events from the
//! store, in order, with who acted and what caused them; bad arguments exit 2, an
//! aggregate the store lacks exits 1.

use serde_json::Value;
use tests::TestContext;
use tests::app::run_ledgerbot;
use tests::history::{business, things};

#[tokio::test]
async fn the_history_of_an_order_lists_every_event_in_order_with_actor_and_payload() {
    let context = TestContext::new().await;
    business(&context.pool).await;
    let env = context.env();
    let order = things::COURSEWORK_DONE.to_string();

    let listed = run_ledgerbot(&["replay", "history", "Order", &order, "--json"], &env).await;
    assert_eq!(listed.code, Some(0), "{listed:?}");
    let events: Vec<Value> = listed
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let stored: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT sequence, global_position, event_type FROM events \
         WHERE aggregate_type = 'Order' AND aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&order)
    .fetch_all(&context.pool)
    .await
    .expect("reads");
    assert!(stored.len() > 3, "the script gives the order a life");
    let read: Vec<(i64, i64, String)> = events
        .iter()
        .map(|event| {
            (
                event["sequence"].as_i64().unwrap_or_default(),
                event["position"].as_i64().unwrap_or_default(),
                event["event_type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(read, stored, "every event, in order, with its position");
    let first = &events[0];
    assert_eq!(first["actor"], "system:script");
    assert_eq!(first["metadata"]["actor_kind"], "system");
    assert_eq!(
        first["payload"]["OrderPlaced"]["order_id"],
        Value::String(order.clone())
    );
    let without_times: Vec<Value> = events
        .into_iter()
        .map(|mut event| {
            if let Some(object) = event.as_object_mut() {
                object.remove("recorded_at");
                if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    metadata.remove("time");
                }
            }
            event
        })
        .collect();
    insta::assert_json_snapshot!("replay_history_of_an_order", without_times);

    // For a person: one line per event, the payload indented under it.
    let text = run_ledgerbot(&["replay", "history", "Order", &order], &env).await;
    assert_eq!(text.code, Some(0), "{text:?}");
    let heads: Vec<&str> = text
        .stdout
        .lines()
        .filter(|line| line.starts_with('#'))
        .collect();
    assert_eq!(heads.len(), stored.len(), "{}", text.stdout);
    assert!(heads[0].starts_with("#1 @"), "{}", heads[0]);
    assert!(
        heads[0].contains(" OrderPlaced v1.0 by system:script"),
        "{}",
        heads[0]
    );

    // Bad arguments exit 2 and name what is known; a missing aggregate exits 1.
    let unknown = run_ledgerbot(&["replay", "history", "Nope", &order], &env).await;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    assert!(unknown.stderr.contains("CreditAccount"), "{unknown:?}");
    let missing = run_ledgerbot(&["replay", "history", "Order", "no-such-order"], &env).await;
    assert_eq!(missing.code, Some(1), "{missing:?}");
    assert!(
        missing.stderr.contains("no Order no-such-order"),
        "{missing:?}"
    );
    let usage = run_ledgerbot(&["replay", "history", "Order"], &env).await;
    assert_eq!(usage.code, Some(2), "{usage:?}");

    context.cleanup().await;
}
