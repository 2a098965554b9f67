//! Process managers and timed jobs over real Postgres and NATS: the referral bonus,
//! loyalty cashback by tier, the monthly allowance, points expiry and reminders, each
//! acting once however often its cause is seen.

use std::sync::Arc;
use std::time::Duration;

use api::startup::Parts;
use chrono::{TimeZone, Utc};
use domain::command::{CommandContext, CommandService, Commands};
use domain::credit::CreditAccount;
use domain::money::Money;
use domain::money::tax::PayerKind;
use domain::payment::{PaymentCommand, PaymentPurpose};
use domain::user::{Profile, UserCommand};
use projections::read_models::credit_lots;
use projections::scheduler::{RunReport, Scheduler, SchedulerSettings};
use tests::app::spawn_app;
use tests::history::{self, people, things};
use tests::{TestContext, eventually};
use uuid::Uuid;

async fn balance(context: &TestContext, user: Uuid) -> u64 {
    CommandService::<CreditAccount>::new(context.pool.clone(), ())
        .load(&user.to_string())
        .await
        .expect("account")
        .0
        .balance()
}

/// `(reason, reference, amount)` of every grant to `user`, in order.
async fn grants(context: &TestContext, user: Uuid) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT payload -> 'CreditsGranted' ->> 'reason', payload -> 'CreditsGranted' ->> 'reference', \
                (payload -> 'CreditsGranted' ->> 'amount')::bigint \
         FROM events WHERE aggregate_type = 'CreditAccount' AND aggregate_id = $1 AND event_type = 'CreditsGranted' \
         ORDER BY sequence",
    )
    .bind(user.to_string())
    .fetch_all(&context.pool)
    .await
    .expect("grants")
}

async fn register(commands: &Commands, user: Uuid, telegram_id: i64) {
    commands
        .users
        .execute(
            &user.to_string(),
            UserCommand::Register {
                user_id: user,
                telegram_id,
                profile: Profile {
                    first_name: "Тест".to_owned(),
                    last_name: None,
                    username: None,
                    language: None,
                    photo_url: None,
                },
                invited_with: None,
                referral_code: None,
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("registered");
}

async fn pay_for_pack(commands: &Commands, payer: Uuid) {
    let payment = Uuid::now_v7();
    let id = payment.to_string();
    let who = CommandContext::system("test");
    let amount = Money::from_kopecks(49_900);
    commands
        .payments
        .execute(
            &id,
            PaymentCommand::Create {
                purpose: PaymentPurpose::CreditPack {
                    pack: "S".to_owned(),
                    credits: 100,
                },
                amount,
                payer_kind: PayerKind::Individual,
                payer_user_id: payer,
                idempotence_key: id.clone(),
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
                provider_payment_id: format!("yk-{id}"),
                amount_received: amount,
                currency: "RUB".to_owned(),
                provider_fee: Money::from_kopecks(1_747),
                paid_at: Utc::now(),
                test: false,
            },
            &who,
        )
        .await
        .expect("succeeded");
}

#[tokio::test]
async fn a_referrer_earns_the_bonus_once_for_a_referred_users_payments() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    let (referrer, referred) = (Uuid::now_v7(), Uuid::now_v7());
    register(&commands, referrer, 1).await;
    register(&commands, referred, 2).await;
    commands
        .users
        .execute(
            &referred.to_string(),
            UserCommand::LinkReferrer {
                referrer_id: referrer,
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("linked");
    pay_for_pack(&commands, referred).await;
    pay_for_pack(&commands, referred).await;
    let mut settings = context.settings();
    settings.programs.monthly_allowance = 0;
    settings.programs.referral_bonus = 25;
    let app = spawn_app(settings, Parts::ALL).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            balance(&context, referred).await == 200
        })
        .await,
        "both packs granted"
    );
    assert!(
        eventually(Duration::from_secs(30), || async {
            balance(&context, referrer).await == 25
        })
        .await,
        "the bonus arrived"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        grants(&context, referrer).await,
        vec![("referral".to_owned(), referred.to_string(), 25)],
        "one bonus for two payments"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn cashback_follows_the_tier_and_the_allowance_comes_once_a_month() {
    let context = TestContext::new().await;
    history::business(&context.pool).await;
    let app = spawn_app(context.settings(), Parts::ALL).await;
    // Allowance, the XL pack less the 250 credits its 1,000.00 ₽ refund took back
    // (1000 × 1000/3990, rounded down), referral, cashback ×2.
    let expected_c1 = 10 + (1000 - 250) + 10 + 600 + 67;
    assert!(
        eventually(Duration::from_secs(60), || async {
            balance(&context, people::C1).await == expected_c1
        })
        .await,
        "C1's balance settles at {expected_c1}, is {}",
        balance(&context, people::C1).await
    );
    let month = Utc::now().format("%Y-%m").to_string();
    let mut c1 = grants(&context, people::C1).await;
    c1.sort();
    assert_eq!(
        c1,
        vec![
            (
                "loyalty_cashback".to_owned(),
                things::COURSEWORK_DONE.to_string(),
                600
            ),
            (
                "loyalty_cashback".to_owned(),
                things::SHOP_DONE.to_string(),
                67
            ),
            ("monthly_allowance".to_owned(), month.clone(), 10),
            ("purchase".to_owned(), things::PAY_COMPANY.to_string(), 1000),
            ("referral".to_owned(), people::C2.to_string(), 10),
        ],
        "12,000 ₽ at silver (5 %), then 1,350 ₽ still at silver; one allowance for many activities"
    );
    let cashback_of_c2 = || async {
        grants(&context, people::C2)
            .await
            .into_iter()
            .filter(|(reason, _, _)| reason == "loyalty_cashback")
            .collect::<Vec<_>>()
    };
    assert!(
        eventually(Duration::from_secs(30), || async {
            !cashback_of_c2().await.is_empty()
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let c2 = cashback_of_c2().await;
    assert_eq!(
        c2,
        vec![(
            "loyalty_cashback".to_owned(),
            things::BOOKING_DONE.to_string(),
            45
        )],
        "1,500 ₽ at bronze (3 %)"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_scheduler_expires_points_and_reminds_once() {
    let context = TestContext::new().await;
    history::business(&context.pool).await;
    let app = spawn_app(context.settings(), Parts::ALL).await;
    // Wait for the cashback and the read models the scheduler reads.
    assert!(
        eventually(Duration::from_secs(60), || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT (SELECT count(*) FROM rm_credit_lots WHERE reason = 'loyalty_cashback') \
                      + (SELECT count(*) FROM rm_bookings) + (SELECT count(*) FROM rm_ticket_messages)",
            )
            .fetch_one(&context.pool)
            .await
            .is_ok_and(|count| count == 3 + 3 + 6)
        })
        .await
    );
    let scheduler = Scheduler::new(
        context.pool.clone(),
        Arc::new(Commands::over(context.pool.clone())),
        SchedulerSettings::default(),
    );
    let reminders = || async {
        sqlx::query_as::<_, (String, Option<Uuid>, String)>(
            "SELECT template, user_id, recipient FROM scheduled_reminders \
             WHERE cause LIKE 'reminder:%' ORDER BY template, user_id",
        )
        .fetch_all(&context.pool)
        .await
        .expect("reminders")
    };
    // The day before the booking ahead (27 November, 11:00 UTC).
    let eve = Utc
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("time");
    let first = scheduler.run_once(eve).await.expect("a round");
    assert_eq!(
        first,
        RunReport {
            ran: true,
            accounts_expired: 0,
            booking_reminders: 1,
            ticket_reminders: 1,
            holds_released: 0,
        }
    );
    let expected = vec![
        (
            "booking_reminder".to_owned(),
            Some(people::C1),
            "user".to_owned(),
        ),
        (
            "master_booking_reminder".to_owned(),
            Some(people::MASTER),
            "user".to_owned(),
        ),
        (
            "staff_ticket_unanswered".to_owned(),
            None,
            "staff_group".to_owned(),
        ),
    ];
    assert_eq!(reminders().await, expected);
    scheduler.run_once(eve).await.expect("a second round");
    assert_eq!(reminders().await, expected, "a rerun reminds no one twice");

    // Points that expire soon: what is left of each cashback grant.
    let later = Utc::now() + chrono::Duration::days(181);
    let expiring = credit_lots::expiring(&context.pool, &people::C1.to_string(), Utc::now(), later)
        .await
        .expect("expiring");
    let left: Vec<(String, i64)> = expiring
        .iter()
        .map(|lot| (lot.reference.clone(), lot.remaining))
        .collect();
    assert_eq!(
        left,
        vec![
            (things::COURSEWORK_DONE.to_string(), 600),
            (things::SHOP_DONE.to_string(), 67)
        ]
    );

    // Past the points' lifetime: the cashback lapses, the rest stays.
    let before = balance(&context, people::C1).await;
    let report = scheduler.run_once(later).await.expect("a round");
    assert_eq!(report.accounts_expired, 2, "C1 and C2 had cashback");
    assert_eq!(balance(&context, people::C1).await, before - 667);
    assert!(
        eventually(Duration::from_secs(30), || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM rm_credit_lots WHERE remaining > 0 AND expires_at IS NOT NULL",
            )
            .fetch_one(&context.pool)
            .await
            .is_ok_and(|count| count == 0)
        })
        .await,
        "the lots show the lapse"
    );
    let again = scheduler.run_once(later).await.expect("a round");
    assert_eq!(again.accounts_expired, 0, "nothing left to lapse");
    assert_eq!(balance(&context, people::C1).await, before - 667);
    app.stop().await;
    context.cleanup().await;
}
