//! Process managers over real Postgres and NATS: a succeeded payment moves what it
//! paid for, once, however often it is processed.

use std::time::Duration;

use api::startup::Parts;
use chrono::{TimeZone, Utc};
use domain::command::{CommandContext, Commands};
use domain::credit::CreditAccount;
use domain::money::Money;
use domain::money::tax::PayerKind;
use domain::order::{Actor, Coursework, OrderCommand, OrderDetails, OrderStatus};
use domain::payment::{PaymentCommand, PaymentPurpose};
use domain::permissions::Role;
use tests::app::spawn_app;
use tests::{TestContext, eventually};
use uuid::Uuid;

async fn pay(commands: &Commands, payer: Uuid, purpose: PaymentPurpose, amount: Money) -> Uuid {
    let payment = Uuid::now_v7();
    let id = payment.to_string();
    let who = CommandContext::system("test");
    commands
        .payments
        .execute(
            &id,
            PaymentCommand::Create {
                purpose,
                amount,
                payer_kind: PayerKind::Individual,
                payer_user_id: payer,
                idempotence_key: format!("key-{payment}"),
            },
            &who,
        )
        .await
        .expect("created");
    commands
        .payments
        .execute(
            &id,
            PaymentCommand::Succeed {
                provider_payment_id: format!("yk-{payment}"),
                amount_received: amount,
                currency: "RUB".to_owned(),
                provider_fee: Money::from_kopecks(1_400),
                paid_at: Utc
                    .with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
                    .single()
                    .expect("time"),
                test: false,
            },
            &who,
        )
        .await
        .expect("succeeded");
    payment
}

/// Settings without the monthly allowance, whose grants would add to the balances
/// this test counts.
fn without_allowance(context: &TestContext) -> api::config::Settings {
    let mut settings = context.settings();
    settings.programs.monthly_allowance = 0;
    settings
}

async fn balance(context: &TestContext, user: Uuid) -> u64 {
    let service = domain::command::CommandService::<CreditAccount>::new(context.pool.clone(), ());
    service
        .load(&user.to_string())
        .await
        .expect("account")
        .0
        .balance()
}

#[tokio::test]
async fn succeeded_payments_grant_packs_activate_plans_and_pay_orders_once() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    let who = CommandContext::system("test");
    let payer = Uuid::now_v7();

    // A coursework order waiting for its payment.
    let order = Uuid::now_v7();
    let customer = Actor {
        user_id: payer,
        role: Role::Client,
    };
    let admin = Actor {
        user_id: Uuid::now_v7(),
        role: Role::Admin,
    };
    let order_id = order.to_string();
    commands
        .orders
        .execute(
            &order_id,
            OrderCommand::Place {
                order_id: order,
                customer_id: payer,
                terms: None,
                details: OrderDetails::Coursework(Coursework {
                    subject: "История".to_owned(),
                    work_type: "реферат".to_owned(),
                    volume: 15,
                    deadline: Utc
                        .with_ymd_and_hms(2026, 12, 20, 0, 0, 0)
                        .single()
                        .expect("time"),
                    files: vec![],
                    attachments: vec![],
                    max_revisions: 1,
                }),
            },
            &who,
        )
        .await
        .expect("placed");
    commands
        .orders
        .execute(
            &order_id,
            OrderCommand::Quote {
                price: Money::from_kopecks(250_000),
                by: admin,
            },
            &who,
        )
        .await
        .expect("quoted");
    commands
        .orders
        .execute(&order_id, OrderCommand::AcceptQuote { by: customer }, &who)
        .await
        .expect("accepted");

    pay(
        &commands,
        payer,
        PaymentPurpose::CreditPack {
            pack: "100".to_owned(),
            credits: 100,
        },
        Money::from_kopecks(49_900),
    )
    .await;
    pay(
        &commands,
        payer,
        PaymentPurpose::Subscription {
            plan: "pro".to_owned(),
            credits_per_period: 300,
            period_days: 30,
        },
        Money::from_kopecks(99_000),
    )
    .await;
    pay(
        &commands,
        payer,
        PaymentPurpose::Order { order_id: order },
        Money::from_kopecks(250_000),
    )
    .await;

    let app = spawn_app(without_allowance(&context), Parts::ALL).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            balance(&context, payer).await == 400
        })
        .await,
        "100 credits from the pack and 300 from the plan"
    );
    assert!(
        eventually(Duration::from_secs(30), || async {
            commands
                .orders
                .load(&order_id)
                .await
                .is_ok_and(|(order, _)| order.status() == OrderStatus::Paid)
        })
        .await,
        "the order moved on"
    );
    app.stop().await;

    // Process everything again from the start: nothing is granted or paid twice.
    sqlx::query("DELETE FROM projection_checkpoints WHERE projection = 'payment_reactions'")
        .execute(&context.pool)
        .await
        .expect("forget progress");
    let js = tests::stream::jetstream_at(&context.nats_url).await;
    let stream = js.get_stream(&context.stream.name).await.expect("stream");
    stream
        .delete_consumer("payment_reactions")
        .await
        .expect("consumer");
    let app = spawn_app(without_allowance(&context), Parts::WORKERS_ONLY).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT COALESCE(sum(sequence), 0)::bigint FROM projection_checkpoints WHERE projection = 'payment_reactions'",
            )
            .fetch_one(&context.pool)
            .await
            .is_ok_and(|applied| applied > 0)
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(balance(&context, payer).await, 400);
    let causes: Vec<String> = sqlx::query_scalar(
        "SELECT metadata ->> 'causation_id' FROM events WHERE aggregate_type = 'CreditAccount' ORDER BY sequence",
    )
    .fetch_all(&context.pool)
    .await
    .expect("metadata");
    assert_eq!(
        causes.len(),
        3,
        "grant, subscription, its credits: {causes:?}"
    );
    assert!(
        causes.iter().all(|cause| cause.starts_with("Payment:")),
        "{causes:?}"
    );
    app.stop().await;
    context.cleanup().await;
}
