//! Reports, admin status and free booking slots over HTTP, after the scripted week:
//! the tax ledger of the year, the receipts register as CSV, analytics, projection
//! and outbox status, and the refusals for those who may not see them.

use std::time::Duration;

use api::startup::Parts;
use chrono::{TimeZone, Utc};
use domain::command::{CommandContext, Commands};
use domain::money::Money;
use domain::order::{OrderCommand, OrderDetails, Slot};
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::api_client::{get_with, settings, signed_in};
use tests::app::spawn_app;
use tests::history::{self, people};
use tests::{TestContext, eventually};
use uuid::Uuid;

#[tokio::test]
async fn owners_read_the_ledger_receipts_analytics_and_status_and_clients_cannot() {
    let context = TestContext::new().await;
    history::business(&context.pool).await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (owner, _) =
        tests::api_client::signed_in_as(&app, &context.pool, 555_001, "Ольга", Role::Owner).await;
    let (client, _) = signed_in(&app, 555_002, "Пётр").await;

    // Everything applied: the status shows it (the history has no image generations,
    // so the projections of those alone have applied nothing).
    assert!(
        eventually(Duration::from_secs(60), || async {
            let (_, status) = get_with(&app, "/api/v1/admin/status", &owner).await;
            status["outbox"]["depth"] == json!(0)
                && status["projections"].as_array().is_some_and(|all| {
                    all.len() == projections::ProjectionName::ALL.len()
                        && all
                            .iter()
                            .filter(|p| {
                                !p["projection"]
                                    .as_str()
                                    .is_some_and(|name| name.starts_with("generation_"))
                            })
                            .all(|p| p["aggregates"].as_i64() > Some(0))
                })
        })
        .await
    );
    let (_, status) = get_with(&app, "/api/v1/admin/status", &owner).await;
    assert!(
        status["projections"]
            .as_array()
            .expect("list")
            .iter()
            .all(|p| p["parked"] == json!(0)),
        "{status}"
    );

    assert!(
        eventually(Duration::from_secs(30), || async {
            let (_, ledger) = get_with(&app, "/api/v1/reports/tax-ledger?year=2026", &owner).await;
            ledger["months"][0]["income"] == json!("22839.00")
        })
        .await,
        "November's income: 24,829 received less 1,990 refunded"
    );
    let (status, ledger) = get_with(&app, "/api/v1/reports/tax-ledger?year=2026", &owner).await;
    assert_eq!(status, StatusCode::OK);
    insta::assert_json_snapshot!("tax_ledger_2026", ledger);

    // One month: its totals and its lines, which add up to them.
    let (status, november) = get_with(
        &app,
        "/api/v1/reports/tax-ledger?year=2026&month=11",
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{november}");
    let lines = november["lines"].as_array().expect("lines");
    let sum: rust_decimal::Decimal = lines
        .iter()
        .map(|line| {
            line["amount"]
                .as_str()
                .expect("an amount")
                .parse::<rust_decimal::Decimal>()
                .expect("decimal")
        })
        .sum();
    assert_eq!(sum.to_string(), "22839.00");
    assert_eq!(
        lines.iter().filter(|line| line["kind"] == "refund").count(),
        2
    );
    let (status, october) = get_with(
        &app,
        "/api/v1/reports/tax-ledger?year=2026&month=10",
        &owner,
    )
    .await;
    assert_eq!(
        (status, &october["months"], &october["lines"]),
        (StatusCode::OK, &json!([]), &json!([]))
    );
    let download = |query: &'static str| {
        let request = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/reports/tax-ledger?{query}")))
            .bearer_auth(&owner);
        async move {
            let response = request.send().await.expect("answers");
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            let headers = response.headers().clone();
            let kind = headers["content-type"].to_str().expect("type").to_owned();
            let disposition = headers["content-disposition"]
                .to_str()
                .expect("name")
                .to_owned();
            (kind, disposition, response.bytes().await.expect("body"))
        }
    };
    let (kind, disposition, body) = download("year=2026&format=csv").await;
    assert!(
        kind.starts_with("text/csv") && disposition.contains("tax-ledger-2026.csv"),
        "{kind} {disposition}"
    );
    let csv = String::from_utf8(body.to_vec()).expect("UTF-8");
    insta::assert_snapshot!("tax_ledger_2026_csv", csv);
    let (_, disposition, body) = download("year=2026&month=11&format=csv").await;
    assert!(disposition.contains("tax-ledger-2026-11.csv"));
    let csv = String::from_utf8(body.to_vec()).expect("UTF-8");
    assert_eq!(csv.lines().count(), 1 + lines.len(), "{csv}");
    assert!(csv.starts_with(
        "tax_month,at,payment_id,line_id,kind,payer_kind,amount,rate,tax,provider_fee,net\r\n"
    ));
    let (kind, disposition, body) = download("year=2026&format=xlsx").await;
    assert!(
        kind.contains("spreadsheetml") && disposition.contains("tax-ledger-2026.xlsx"),
        "{kind}"
    );
    // An XLSX is a ZIP whose directory names its parts in plain text: two sheets.
    assert!(body.starts_with(b"PK\x03\x04"));
    let names = String::from_utf8_lossy(&body);
    assert!(
        names.contains("xl/worksheets/sheet1.xml") && names.contains("xl/worksheets/sheet2.xml")
    );
    for (query, field) in [
        ("year=2026&month=13", "month"),
        ("year=2026&format=pdf", "format"),
        ("year=2018", "year"),
    ] {
        let (status, body) =
            get_with(&app, &format!("/api/v1/reports/tax-ledger?{query}"), &owner).await;
        assert_eq!(
            (status, &body["error"]["details"]["field"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!(field)),
            "{query}"
        );
    }

    let response = reqwest::Client::new()
        .get(app.url("/api/v1/reports/receipts?month=2026-11&format=csv"))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let csv = response.text().await.expect("text");
    insta::assert_snapshot!("receipts_register_2026_11_over_http", csv);

    let today = Utc::now().date_naive();
    let (status, figures) = get_with(
        &app,
        &format!("/api/v1/reports/analytics?from=2026-11-01&to={today}"),
        &owner,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{figures}");
    assert_eq!(
        (figures["orders_placed"].clone(), figures["revenue"].clone()),
        (json!(8), json!("24829.00"))
    );

    for path in [
        "/api/v1/reports/tax-ledger?year=2026",
        "/api/v1/reports/receipts?month=2026-11",
        "/api/v1/reports/analytics?from=2026-11-01&to=2026-11-30",
        "/api/v1/admin/status",
    ] {
        let (status, _) = get_with(&app, path, &client).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, body) = get_with(&app, "/api/v1/reports/receipts?month=November", &owner).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("month"))
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn free_slots_are_the_salon_day_without_the_masters_bookings() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (client, client_id) = signed_in(&app, 555_101, "Вика").await;
    // A booking a week ahead, 09:00–10:00 UTC (12:00–13:00 in the salon's +03:00).
    let day = (Utc::now() + chrono::Duration::days(7)).date_naive();
    let at = |hour| Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).expect("time"));
    let order = Uuid::now_v7();
    let commands = Commands::over(context.pool.clone());
    tests::history::registered(&commands, people::MASTER, 1_003, "Вера", Role::Executor).await;
    commands
        .orders
        .execute(
            &order.to_string(),
            OrderCommand::Place {
                order_id: order,
                customer_id: client_id.parse().expect("uuid"),
                terms: None,
                details: OrderDetails::Booking {
                    service_id: "haircut".to_owned(),
                    service_name: "Стрижка".to_owned(),
                    master_id: people::MASTER,
                    slot: Slot {
                        start: at(9),
                        end: at(10),
                    },
                    price: "1500.00".parse::<Money>().expect("money"),
                },
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("booked");
    let path = format!(
        "/api/v1/bookings/free-slots?master_id={}&date={day}&duration_minutes=60&step_minutes=30",
        people::MASTER
    );
    let (status, free) = get_with(&app, &path, &client).await;
    assert_eq!(status, StatusCode::OK, "{free}");
    let starts: Vec<String> = free["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|slot| slot["start"].as_str().expect("start")[11..16].to_owned())
        .collect();
    // 10:00–20:00 at +03:00 is 07:00–17:00 UTC: 19 one-hour starts every half hour,
    // less 08:30, 09:00 and 09:30, which overlap the booking.
    assert_eq!(starts.len(), 16, "{starts:?}");
    assert_eq!(starts.first().map(String::as_str), Some("07:00"));
    assert_eq!(starts.last().map(String::as_str), Some("16:00"));
    assert!(
        !starts
            .iter()
            .any(|start| ["08:30", "09:00", "09:30"].contains(&start.as_str()))
    );
    let (status, body): (StatusCode, Value) = get_with(
        &app,
        &path.replace("duration_minutes=60", "duration_minutes=1"),
        &client,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("duration_minutes"))
    );
    app.stop().await;
    context.cleanup().await;
}
