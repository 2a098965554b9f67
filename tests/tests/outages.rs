//! Outages and crashes lose nothing and do nothing twice: Postgres gone (through a
//! proxy the test cuts, so the shared server keeps serving other tests) while the
//! relay, the read models and the reactions run; YooKassa unreachable for two minutes
//! during a cancellation with a refund; the `ledgerbot` process killed while YooKassa
//! makes a refund whose answer never reached it.

use std::net::SocketAddr;
use std::time::Duration;

use api::startup::Parts;
use chrono::Utc;
use domain::command::{CommandContext, Commands};
use domain::money::Money;
use domain::money::tax::PayerKind;
use domain::payment::{PaymentCommand, PaymentPurpose};
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::json;
use tests::api_client::{get_with, post_with, signed_in, signed_in_as};
use tests::app::{LedgerbotProcess, spawn_app};
use tests::tcp_proxy::TcpProxy;
use tests::yookassa_fake::FakeYooKassa;
use tests::{TestContext, eventually, settles};
use uuid::Uuid;

/// A credit pack of 300 paid at YooKassa (payment, payer), written straight to the
/// store: the reactions grant the credits.
async fn paid_pack(commands: &Commands, n: u32) -> (Uuid, Uuid) {
    let payment = Uuid::now_v7();
    let payer = Uuid::now_v7();
    tests::history::registered(
        commands,
        payer,
        7_000_000 + i64::from(n),
        "Покупатель",
        Role::Client,
    )
    .await;
    let who = CommandContext::system("test");
    let amount = Money::from_kopecks(129_000);
    for command in [
        PaymentCommand::Create {
            purpose: PaymentPurpose::CreditPack {
                pack: "M".to_owned(),
                credits: 300,
            },
            amount,
            payer_kind: PayerKind::Individual,
            payer_user_id: payer,
            idempotence_key: format!("key-{payment}"),
        },
        PaymentCommand::RecordProviderPayment {
            provider_payment_id: format!("yk-{payment}"),
            confirmation_url: "https://yoomoney.ru/checkout".to_owned(),
        },
        PaymentCommand::Succeed {
            provider_payment_id: format!("yk-{payment}"),
            amount_received: amount,
            currency: "RUB".to_owned(),
            provider_fee: Money::from_kopecks(3_612),
            paid_at: Utc::now(),
            test: false,
        },
    ] {
        commands
            .payments
            .execute(&payment.to_string(), command, &who)
            .await
            .expect("a payment command");
    }
    (payment, payer)
}

async fn count(context: &TestContext, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&context.pool)
        .await
        .expect("a count")
}

#[tokio::test]
async fn postgres_going_away_while_reactions_run_parks_nothing_and_loses_nothing() {
    let context = TestContext::new().await;
    let target: SocketAddr = "127.0.0.1:5432".parse().expect("an address");
    let proxy = TcpProxy::start(target).await;
    let mut settings = context.settings();
    settings.database.url = context
        .database_url
        .replace("127.0.0.1:5432", &proxy.address.to_string());
    assert_ne!(
        settings.database.url, context.database_url,
        "through the proxy"
    );
    let app = spawn_app(settings, Parts::ALL).await;
    let commands = Commands::over(context.pool.clone());
    for n in 0..10 {
        paid_pack(&commands, n).await;
    }
    // Gone while those are on their way through the relay, the workers and the
    // reactions; more are paid meanwhile (the store itself is fine).
    proxy.cut();
    let mut paid_during = Vec::new();
    for n in 10..20 {
        paid_during.push(paid_pack(&commands, n).await.1);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let reached: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rm_credit_balances WHERE account_id = ANY($1)")
            .bind(paid_during.iter().map(Uuid::to_string).collect::<Vec<_>>())
            .fetch_one(&context.pool)
            .await
            .expect("balances");
    assert_eq!(reached, 0, "the app really lost its store");
    proxy.restore();
    assert!(
        eventually(Duration::from_secs(90), || async {
            count(
                &context,
                "SELECT count(*) FROM rm_credit_balances WHERE balance >= 300",
            )
            .await
                == 20
        })
        .await,
        "every pack's credits arrived"
    );
    // Every projection caught up with every event, and nothing was set aside.
    assert!(
        eventually(Duration::from_secs(60), || async {
            count(
                &context,
                "SELECT count(*) FROM (SELECT projection FROM projection_checkpoints \
                 WHERE projection = 'payment_reactions' GROUP BY projection \
                 HAVING sum(sequence) = (SELECT count(*) FROM events WHERE aggregate_type = 'Payment')) done",
            )
            .await
                == 1
        })
        .await
    );
    assert_eq!(
        count(&context, "SELECT count(*) FROM projection_parked").await,
        0
    );
    assert_eq!(
        count(&context, "SELECT count(*) FROM outbox_parked").await,
        0
    );
    let granted = count(
        &context,
        "SELECT count(*) FROM events WHERE event_type = 'CreditsGranted' \
         AND payload -> 'CreditsGranted' ->> 'reason' = 'purchase'",
    )
    .await;
    assert_eq!(granted, 20, "each pack granted exactly once");
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn yookassa_unreachable_for_two_minutes_during_a_cancellation_refunds_once() {
    let context = TestContext::new().await;
    let (app, fake) = tests::paying::live_app(&context, "127.0.0.1/32,::1").await;
    let (buyer, _) = signed_in(&app, 994_001, "Костя").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 994_002, "Анна", Role::Admin).await;
    let order = tests::paying::paid_shop_order(&app, &fake, &buyer, "k").await;
    let order_path = format!("/api/v1/orders/{}", order.order_id);
    let payment_id = order.payment_id;

    fake.books().down = true;
    let (status, body) = post_with(
        &app,
        &format!("{order_path}/cancel"),
        &admin,
        json!({"reason": "нет в наличии", "refund": "490.00"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tokio::time::sleep(Duration::from_secs(120)).await;
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM refund_calls")
        .fetch_one(&context.pool)
        .await
        .expect("the call is still to make");
    assert!(attempts >= 4, "asked again and again: {attempts}");
    assert!(fake.books().refunds.is_empty());
    assert_eq!(
        count(&context, "SELECT count(*) FROM projection_parked").await,
        0
    );

    fake.books().down = false;
    settles(
        "refunded once it is back",
        Duration::from_secs(60),
        async || get_with(&app, &order_path, &buyer).await.1["refunded_amount"] == "490.00",
    )
    .await;
    assert_eq!(fake.books().refunds.len(), 1, "one refund at YooKassa");
    let (_, refunded) = get_with(&app, &format!("/api/v1/payments/{payment_id}"), &buyer).await;
    assert_eq!(refunded["refunded_amount"], "490.00");
    assert_eq!(
        count(&context, "SELECT count(*) FROM refund_calls").await,
        0
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_process_killed_while_yookassa_makes_a_refund_asks_again_under_the_same_key() {
    let context = TestContext::new().await;
    let (fake, url) = FakeYooKassa::start().await;
    fake.books().refund_delay = Some(Duration::from_secs(30));
    let mut env = context.env();
    env.retain(|(name, _)| name != "LEDGERBOT_YOOKASSA_MODE");
    env.extend([
        ("LEDGERBOT_YOOKASSA_MODE".to_owned(), "live".to_owned()),
        ("LEDGERBOT_YOOKASSA_SHOP_ID".to_owned(), "100500".to_owned()),
        (
            "LEDGERBOT_YOOKASSA_SECRET_KEY".to_owned(),
            "live_secret".to_owned(),
        ),
        ("LEDGERBOT_YOOKASSA_API_URL".to_owned(), url),
        (
            "LEDGERBOT_YOOKASSA_NOTIFICATION_IPS".to_owned(),
            "any".to_owned(),
        ),
    ]);
    let first = LedgerbotProcess::start(&["serve"], &env).await;
    let commands = Commands::over(context.pool.clone());
    let (payment, _) = paid_pack(&commands, 1).await;
    commands
        .payments
        .execute(
            &payment.to_string(),
            PaymentCommand::RequestRefund {
                refund_id: "refund-crash".to_owned(),
                amount: Money::from_kopecks(129_000),
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("a refund is requested");
    // YooKassa has made the refund; its answer is on its way when the process dies.
    assert!(
        eventually(Duration::from_secs(30), || async {
            !fake.books().refunds.is_empty()
        })
        .await
    );
    first.kill().await;
    assert_eq!(
        count(
            &context,
            "SELECT count(*) FROM refund_calls WHERE leased_until IS NOT NULL"
        )
        .await,
        1,
        "taken, never answered"
    );
    // The lease of the dead process runs out (not waited for here) and another asks.
    sqlx::query("UPDATE refund_calls SET leased_until = now() - interval '1 second'")
        .execute(&context.pool)
        .await
        .expect("the lease expires");
    fake.books().refund_delay = None;
    let second = LedgerbotProcess::start(&["serve"], &env).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            count(
                &context,
                "SELECT count(*) FROM events WHERE event_type = 'RefundSucceeded'",
            )
            .await
                == 1
        })
        .await,
        "the refund's result is recorded"
    );
    let asks = fake.refund_requests();
    assert_eq!(asks.len(), 2, "asked twice: {asks:?}");
    assert!(
        asks.iter()
            .all(|ask| ask.idempotence_key.as_deref() == Some("refund-crash")),
        "under one key: {asks:?}"
    );
    assert_eq!(fake.books().refunds.len(), 1, "one refund at YooKassa");
    second.kill().await;
    context.cleanup().await;
}
