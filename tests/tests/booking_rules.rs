//! The salon's booking rules over the real store: customers cancel and move bookings
//! only before the slot starts, staff after it with the override recorded, refunds by
//! the policy at its hour boundary, an unpaid booking's hold released by the
//! scheduler (another customer can then book the slot), and the unpaid-bookings limit
//! decided by the store (ten placements at once, and over HTTP with a clear 409).
//! The use cases are called with the time the test sets, as the entry points pass it.

use std::sync::Arc;

use api::startup::Parts;
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::command::{CommandContext, CommandError, Commands, ErrorKind};
use domain::money::Money;
use domain::order::OrderCommand;
use domain::permissions::{Caller, Role};
use domain::use_cases::order_actions::OrderAction;
use domain::use_cases::placing::NewOrder;
use domain::use_cases::{Core, Written};
use futures_util::future::join_all;
use projections::scheduler::{Scheduler, SchedulerSettings};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, post_with, settings, signed_in, signed_in_as};
use tests::app::{TestApp, spawn_app};
use uuid::Uuid;

/// The use cases only: no relay, no workers (so no scheduler runs on its own).
const WRITE_SIDE_ONLY: Parts = Parts {
    relay: false,
    workers: false,
    bot: false,
};

async fn user(app: &TestApp, telegram_id: i64, role: Role) -> Caller {
    tests::people::registered_caller(&app.state.core, telegram_id, role).await
}

/// `hour`:00 UTC (the salon, at +03:00, opens at 07:00 UTC), `days` from today.
fn day_at(days: i64, hour: u32) -> DateTime<Utc> {
    let day = (Utc::now() + Duration::days(days)).date_naive();
    Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).expect("a time"))
}

fn haircut(master: Caller, start: DateTime<Utc>) -> NewOrder {
    NewOrder::Booking {
        service_id: "haircut".to_owned(),
        master_id: master.user_id,
        start,
    }
}

async fn book(core: &Core, customer: Caller, master: Caller, start: DateTime<Utc>) -> Uuid {
    let placed = core
        .place_order(customer, haircut(master, start), Utc::now())
        .await
        .expect("booked");
    placed.aggregate_id.parse().expect("an order id")
}

async fn pay(core: &Core, order: Uuid) {
    core.commands
        .orders
        .execute(
            &order.to_string(),
            OrderCommand::MarkPaid {
                payment_id: Uuid::now_v7(),
                amount: Money::from_kopecks(150_000),
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("paid");
}

fn cancel(reason: &str, refund: Option<u64>) -> OrderAction {
    OrderAction::Cancel {
        reason: reason.to_owned(),
        refund: refund.map(|roubles| Money::from_kopecks(roubles * 100)),
    }
}

fn move_to(start: DateTime<Utc>, reason: Option<&str>) -> OrderAction {
    OrderAction::Reschedule {
        start,
        end: start + Duration::hours(1),
        reason: reason.map(str::to_owned),
    }
}

/// The order's last event of `event_type`, as stored.
async fn stored(context: &TestContext, order: Uuid, event_type: &str) -> Value {
    let payload: Value = sqlx::query_scalar(
        "SELECT payload::jsonb FROM events WHERE aggregate_id = $1 AND event_type = $2 \
         ORDER BY sequence DESC LIMIT 1",
    )
    .bind(order.to_string())
    .bind(event_type)
    .fetch_one(&context.pool)
    .await
    .expect("the event is stored");
    payload[event_type].clone()
}

fn refused_as(result: Result<Written, CommandError>, code: &str) -> CommandError {
    let error = result.expect_err(code);
    assert_eq!(
        (error.kind, error.code),
        (ErrorKind::InvalidState, Some(code)),
        "{error:?}"
    );
    error
}

#[tokio::test]
async fn customers_cancel_and_move_until_the_start_and_staff_after_it_recorded_as_overrides() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), WRITE_SIDE_ONLY).await;
    let core = &app.state.core;
    let master = user(&app, 930_001, Role::Executor).await;
    let admin = user(&app, 930_002, Role::Admin).await;
    let (anna, boris) = (
        user(&app, 930_003, Role::Client).await,
        user(&app, 930_004, Role::Client).await,
    );
    let start = day_at(3, 8);
    let minute = Duration::minutes(1);

    let annas = book(core, anna, master, start).await;
    pay(core, annas).await;
    let act = |caller, order, action, now| core.act_on_order(caller, order, action, now);
    refused_as(
        act(anna, annas, cancel("Проспала", None), start + minute).await,
        "slot_started",
    );
    refused_as(
        act(anna, annas, move_to(day_at(3, 12), None), start + minute).await,
        "slot_started",
    );
    act(anna, annas, move_to(day_at(3, 12), None), start - minute)
        .await
        .expect("moved a minute before the start");
    let moved = stored(&context, annas, "BookingRescheduled").await;
    assert_eq!(
        (&moved["by"], moved.get("after_start")),
        (&json!(anna.user_id), None),
        "{moved}"
    );
    act(
        anna,
        annas,
        cancel("Заболела", None),
        day_at(3, 12) - minute,
    )
    .await
    .expect("cancelled a minute before the new start");
    let cancelled = stored(&context, annas, "OrderCancelled").await;
    assert_eq!(
        (&cancelled["refund"]["amount"], &cancelled["decision"]),
        (
            &json!("750.00"),
            &json!({"decided_by": "policy", "percent": 50})
        ),
        "within 24 hours: half of 1,500.00 — {cancelled}"
    );

    let boris_ = book(core, boris, master, start).await;
    pay(core, boris_).await;
    let refused = act(admin, boris_, move_to(day_at(3, 10), None), start + minute)
        .await
        .expect_err("an override needs a reason");
    assert_eq!(
        (refused.kind, refused.field.as_deref()),
        (ErrorKind::InvalidInput, Some("reason"))
    );
    act(
        admin,
        boris_,
        move_to(day_at(3, 10), Some("Клиент опоздал")),
        start + minute,
    )
    .await
    .expect("staff move it after the start");
    let moved = stored(&context, boris_, "BookingRescheduled").await;
    assert_eq!(
        (&moved["by"], &moved["after_start"], &moved["reason"]),
        (
            &json!(admin.user_id),
            &json!(true),
            &json!("Клиент опоздал")
        ),
        "{moved}"
    );
    act(
        admin,
        boris_,
        cancel("Не пришёл", Some(300)),
        day_at(3, 10) + minute,
    )
    .await
    .expect("staff cancel after the start, choosing the refund");
    let cancelled = stored(&context, boris_, "OrderCancelled").await;
    assert_eq!(
        (&cancelled["refund"]["amount"], &cancelled["decision"]),
        (
            &json!("300.00"),
            &json!({"decided_by": "staff", "after_start": true})
        ),
        "{cancelled}"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_refund_is_full_exactly_at_the_policys_boundary_and_the_share_a_minute_later() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), WRITE_SIDE_ONLY).await;
    let core = &app.state.core;
    let master = user(&app, 931_001, Role::Executor).await;
    let customer = user(&app, 931_002, Role::Client).await;
    let (early, late) = (day_at(5, 9), day_at(5, 11));
    let (first, second) = (
        book(core, customer, master, early).await,
        book(core, customer, master, late).await,
    );
    pay(core, first).await;
    pay(core, second).await;
    core.act_on_order(
        customer,
        first,
        cancel("Уезжаю", None),
        early - Duration::hours(24),
    )
    .await
    .expect("cancelled 24 hours ahead");
    core.act_on_order(
        customer,
        second,
        cancel("Уезжаю", None),
        late - Duration::hours(24) + Duration::minutes(1),
    )
    .await
    .expect("cancelled 23 h 59 min ahead");
    let amounts = (
        stored(&context, first, "OrderCancelled").await["refund"]["amount"].clone(),
        stored(&context, second, "OrderCancelled").await["refund"]["amount"].clone(),
    );
    assert_eq!(amounts, (json!("1500.00"), json!("750.00")));
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn an_unpaid_booking_is_released_when_its_hold_passes_and_another_customer_books_the_slot() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), WRITE_SIDE_ONLY).await;
    let core = &app.state.core;
    let master = user(&app, 932_001, Role::Executor).await;
    let (anna, boris, vera) = (
        user(&app, 932_002, Role::Client).await,
        user(&app, 932_003, Role::Client).await,
        user(&app, 932_004, Role::Client).await,
    );
    let slot = day_at(2, 7);
    let placed_at = Utc::now();
    let held = core
        .place_order(anna, haircut(master, slot), placed_at)
        .await
        .expect("booked")
        .aggregate_id
        .parse::<Uuid>()
        .expect("an id");
    let paid = book(core, vera, master, day_at(2, 9)).await;
    pay(core, paid).await;
    let taken = core
        .place_order(boris, haircut(master, slot), Utc::now())
        .await
        .expect_err("the slot is held");
    assert_eq!(taken.kind, ErrorKind::InvalidState, "{taken:?}");
    assert!(taken.message.contains("already booked"), "{taken:?}");

    let scheduler = Scheduler::new(
        context.pool.clone(),
        Arc::new(Commands::over(context.pool.clone())),
        SchedulerSettings::default(),
    );
    let early = scheduler
        .run_once(placed_at + Duration::minutes(14))
        .await
        .expect("a round");
    assert_eq!(early.holds_released, 0, "the hold lasts 15 minutes");
    let due = scheduler
        .run_once(placed_at + Duration::minutes(15) + Duration::seconds(1))
        .await
        .expect("a round");
    assert_eq!(due.holds_released, 1, "the unpaid booking only");
    let released = stored(&context, held, "OrderCancelled").await;
    assert_eq!(
        (
            &released["reason"],
            &released["decision"],
            &released["refund"]
        ),
        (
            &json!("not paid in time"),
            &json!({"decided_by": "hold_expired"}),
            &Value::Null
        ),
        "{released}"
    );
    let again = scheduler
        .run_once(placed_at + Duration::minutes(20))
        .await
        .expect("a round");
    assert_eq!(again.holds_released, 0, "released once");
    core.place_order(boris, haircut(master, slot), Utc::now())
        .await
        .expect("the freed slot is booked by another customer");
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE aggregate_id = $1 ORDER BY sequence",
    )
    .bind(paid.to_string())
    .fetch_all(&context.pool)
    .await
    .expect("events");
    assert_eq!(
        statuses,
        ["OrderPlaced", "OrderPaid"],
        "a paid booking stays"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_customer_holds_at_most_the_configured_unpaid_bookings_even_placing_ten_at_once() {
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.booking_rules.max_unpaid_bookings = 2;
    let app = spawn_app(settings, WRITE_SIDE_ONLY).await;
    let core: Arc<Core> = app.state.core.clone();
    let master = user(&app, 933_001, Role::Executor).await;
    let customer = user(&app, 933_002, Role::Client).await;
    let attempts = (0..10u32).map(|hour| {
        let core = core.clone();
        tokio::spawn(async move {
            core.place_order(customer, haircut(master, day_at(4, 7 + hour)), Utc::now())
                .await
        })
    });
    let outcomes: Vec<Result<Written, CommandError>> = join_all(attempts)
        .await
        .into_iter()
        .map(|joined| joined.expect("no panic"))
        .collect();
    let placed = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(placed, 2, "{outcomes:?}");
    for refused in outcomes.into_iter().filter(Result::is_err) {
        refused_as(refused, "too_many_unpaid_bookings");
    }
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_booking_past_the_unpaid_limit_is_refused_over_http_saying_what_to_do() {
    let context = TestContext::new().await;
    // The API answers from the read models: the workers run.
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (client, _) = signed_in(&app, 934_001, "Вика").await;
    let (other, _) = signed_in(&app, 934_002, "Оля").await;
    let (_, master) = signed_in_as(&app, &context.pool, 934_003, "Вера", Role::Executor).await;
    let booking = |hour| {
        json!({"kind": "booking", "service_id": "haircut", "master_id": master,
               "start": day_at(6, hour).to_rfc3339()})
    };
    let mut orders = Vec::new();
    for hour in [7, 8, 9] {
        let (status, body) = post_with(&app, "/api/v1/orders", &client, booking(hour)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        orders.push(body["order_id"].as_str().expect("an id").to_owned());
    }
    let (status, body) = post_with(&app, "/api/v1/orders", &client, booking(10)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "too_many_unpaid_bookings"),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("pay for one or cancel one"),
        "the answer says what to do: {message}"
    );
    let (status, body) = post_with(&app, "/api/v1/orders", &other, booking(10)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "others are not held back: {body}"
    );

    let (status, body) = post_with(
        &app,
        &format!("/api/v1/orders/{}/cancel", orders[0]),
        &client,
        json!({"reason": "Передумала"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_with(&app, "/api/v1/orders", &client, booking(11)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a cancelled one frees a place: {body}"
    );
    let order: Uuid = orders[1].parse().expect("an id");
    pay(&app.state.core, order).await;
    let (status, body) = post_with(&app, "/api/v1/orders", &client, booking(12)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a paid one frees a place: {body}"
    );
    let (status, body) = post_with(&app, "/api/v1/orders", &client, booking(13)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "too_many_unpaid_bookings"),
        "{body}"
    );
    app.stop().await;
    context.cleanup().await;
}
