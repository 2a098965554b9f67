//! `ledgerbot replay history`, `state` and `diff`: the real binary reads one
//! aggregate's events from the store, in order, with who acted and what caused them,
//! folds them to the state at any point through the aggregate's own code, and says
//! what changed between two points; bad arguments exit 2, an aggregate the store
//! lacks exits 1.

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

#[tokio::test]
async fn the_state_at_a_point_is_the_aggregate_folded_so_far_and_a_diff_names_each_change() {
    use domain::command::Commands;

    let context = TestContext::new().await;
    business(&context.pool).await;
    let env = context.env();
    let order = things::COURSEWORK_DONE.to_string();
    let stored: Vec<(i64, i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT sequence, global_position, recorded_at FROM events \
         WHERE aggregate_type = 'Order' AND aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&order)
    .fetch_all(&context.pool)
    .await
    .expect("reads");
    let position = |sequence: i64| stored[(sequence - 1) as usize].1.to_string();

    // At its last position: what the command side loads now.
    let last = stored.last().expect("events").0;
    let now = run_ledgerbot(
        &[
            "replay",
            "state",
            "Order",
            &order,
            "--at",
            &position(last),
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(now.code, Some(0), "{now:?}");
    let now: Value = serde_json::from_str(now.stdout.trim()).expect("JSON");
    let (loaded, _) = Commands::over(context.pool.clone())
        .orders
        .load(&order)
        .await
        .expect("loads");
    assert_eq!(now["state"], serde_json::to_value(&loaded).expect("JSON"));
    assert_eq!(now["sequence"], last);

    // After its third event (by position, and by that event's time): quoted and
    // accepted, not paid yet.
    for at in [position(3), stored[2].2.to_rfc3339()] {
        let then = run_ledgerbot(
            &["replay", "state", "Order", &order, "--at", &at, "--json"],
            &env,
        )
        .await;
        assert_eq!(then.code, Some(0), "{then:?}");
        let then: Value = serde_json::from_str(then.stdout.trim()).expect("JSON");
        assert_eq!(then["sequence"], 3, "at {at}: {then:#}");
        assert_eq!(then["state"]["status"], "awaiting_payment", "{then:#}");
        assert_eq!(then["state"]["price"], "12000.00", "{then:#}");
    }

    // A point between its third and fourth events (another aggregate's position, or
    // a time halfway) is still the state after the third.
    let between: i64 = sqlx::query_scalar(
        "SELECT min(global_position) FROM events WHERE global_position > $1 AND global_position < $2",
    )
    .bind(stored[2].1)
    .bind(stored[3].1)
    .fetch_one(&context.pool)
    .await
    .expect("the payment's events come between");
    let halfway = stored[2].2 + (stored[3].2 - stored[2].2) / 2;
    for at in [between.to_string(), halfway.to_rfc3339()] {
        let then = run_ledgerbot(
            &["replay", "state", "Order", &order, "--at", &at, "--json"],
            &env,
        )
        .await;
        let then: Value = serde_json::from_str(then.stdout.trim()).expect("JSON");
        assert_eq!(then["sequence"], 3, "at {at}: {then:#}");
    }
    // Before its first event: nothing applied, the default state.
    let before = run_ledgerbot(
        &["replay", "state", "Order", &order, "--at", "0", "--json"],
        &env,
    )
    .await;
    let before: Value = serde_json::from_str(before.stdout.trim()).expect("JSON");
    assert_eq!(before["sequence"], 0, "{before:#}");
    assert_eq!(before["position"], Value::Null, "{before:#}");

    // From the first event to the third: the two events between and each field.
    let diff = run_ledgerbot(
        &[
            "replay",
            "diff",
            "Order",
            &order,
            &position(1),
            &position(3),
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(diff.code, Some(0), "{diff:?}");
    let diff: Value = serde_json::from_str(diff.stdout.trim()).expect("JSON");
    assert_eq!(
        diff["events"],
        serde_json::json!(["#2 PriceQuoted", "#3 QuoteAccepted"])
    );
    insta::assert_json_snapshot!("replay_diff_of_an_order", diff["changes"]);
    let text = run_ledgerbot(
        &[
            "replay",
            "diff",
            "Order",
            &order,
            &position(1),
            &position(3),
        ],
        &env,
    )
    .await;
    assert!(
        text.stdout
            .contains("status: \"placed\" → \"awaiting_payment\""),
        "{}",
        text.stdout
    );

    // Points the wrong way round, and a point that is neither a position nor a time,
    // are bad arguments; an aggregate the store lacks is not found.
    let reversed = run_ledgerbot(
        &[
            "replay",
            "diff",
            "Order",
            &order,
            &position(3),
            &position(1),
        ],
        &env,
    )
    .await;
    assert_eq!(reversed.code, Some(2), "{reversed:?}");
    let missing = run_ledgerbot(
        &["replay", "state", "Order", "no-such-order", "--at", "1"],
        &env,
    )
    .await;
    assert_eq!(missing.code, Some(1), "{missing:?}");
    let bad = run_ledgerbot(
        &["replay", "state", "Order", &order, "--at", "1 March"],
        &env,
    )
    .await;
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("RFC 3339"), "{bad:?}");

    context.cleanup().await;
}

/// What `replay state` says an account held at a time is what the API answered then.
#[tokio::test]
async fn the_state_at_a_time_is_what_the_api_answered_then() {
    use api::startup::Parts;
    use serde_json::json;
    use tests::api_client::{get_with, post_with, settings, signed_in};
    use tests::app::spawn_app;

    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (token, user_id) = signed_in(&app, 730_001, "Дарья").await;
    // The month's allowance arrives by reaction.
    assert!(
        tests::eventually(std::time::Duration::from_secs(10), || async {
            get_with(&app, "/api/v1/credits", &token).await.1["balance"] == json!(10)
        })
        .await
    );
    // Each spend's time is its event's, as the store recorded it (the database's
    // clock, not this process's).
    let mut answered: Vec<(chrono::DateTime<chrono::Utc>, u64, u64)> = Vec::new();
    let mut before = 10;
    for (n, amount) in [3u64, 1, 4].into_iter().enumerate() {
        let spend = json!({"amount": amount, "reason": "image generation", "operation_id": format!("gen-{n}")});
        let (status, after) = post_with(&app, "/api/v1/credits/spend", &token, spend).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{after}");
        assert_eq!(
            after["balance"],
            json!(before - amount),
            "the API read its own write"
        );
        let at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
            "SELECT recorded_at FROM events WHERE aggregate_type = 'CreditAccount' \
             AND aggregate_id = $1 ORDER BY sequence DESC LIMIT 1",
        )
        .bind(&user_id)
        .fetch_one(&context.pool)
        .await
        .expect("the spend is stored");
        answered.push((at, before, before - amount));
        before -= amount;
    }
    let held_at = |at: chrono::DateTime<chrono::Utc>| {
        let env = context.env();
        let user_id = user_id.clone();
        async move {
            let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let state = run_ledgerbot(
                &[
                    "replay",
                    "state",
                    "CreditAccount",
                    &user_id,
                    "--at",
                    &at,
                    "--json",
                ],
                &env,
            )
            .await;
            assert_eq!(state.code, Some(0), "{state:?}");
            let state: Value = serde_json::from_str(state.stdout.trim()).expect("JSON");
            state["state"]["lots"]
                .as_array()
                .expect("lots")
                .iter()
                .map(|lot| lot["remaining"].as_u64().unwrap_or_default())
                .sum::<u64>()
        }
    };
    for (at, was, became) in answered {
        assert_eq!(
            held_at(at).await,
            became,
            "at the spend's time, what the API answered"
        );
        let just_before = at - chrono::Duration::microseconds(1);
        assert_eq!(
            held_at(just_before).await,
            was,
            "a microsecond earlier, the balance before"
        );
    }
    app.stop().await;
    context.cleanup().await;
}
