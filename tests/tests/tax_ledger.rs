//! The NPD tax ledger on the worked examples of shared/reference/npd_rules.md,
//! built by the tax-ledger worker from payments stored through the command service.

use std::time::Duration;

use api::startup::Parts;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::command::{CommandContext, Commands};
use domain::money::Money;
use domain::money::tax::{PayerKind, TaxRules};
use domain::payment::{PaymentCommand, PaymentPurpose, RefundOutcome};
use projections::read_models::tax_ledger::{MonthTotals, months};
use tests::app::spawn_app;
use tests::{TestContext, eventually};
use uuid::Uuid;

fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 9, 0, 0)
        .single()
        .expect("a valid time")
}

fn rub(roubles: u64) -> Money {
    Money::from_kopecks(roubles * 100)
}

/// A payment received on `paid` and, when given, refunded by `refund` on its date.
async fn payment(
    commands: &Commands,
    payer_kind: PayerKind,
    amount: Money,
    paid: DateTime<Utc>,
    refund: Option<(Money, DateTime<Utc>)>,
) {
    let id = Uuid::now_v7().to_string();
    let who = CommandContext::system("test");
    let run = |command| async {
        commands
            .payments
            .execute(&id, command, &who)
            .await
            .expect("payment command")
    };
    run(PaymentCommand::Create {
        purpose: PaymentPurpose::CreditPack {
            pack: "pack".to_owned(),
            credits: 1,
        },
        amount,
        payer_kind,
        payer_user_id: Uuid::now_v7(),
        idempotence_key: format!("key-{id}"),
    })
    .await;
    run(PaymentCommand::Succeed {
        provider_payment_id: format!("yk-{id}"),
        amount_received: amount,
        currency: "RUB".to_owned(),
        provider_fee: Money::rounded(amount.amount() * rust_decimal::Decimal::new(28, 3))
            .expect("fee"),
        paid_at: paid,
        test: false,
    })
    .await;
    if let Some((refund, when)) = refund {
        run(PaymentCommand::RequestRefund {
            refund_id: format!("r-{id}"),
            amount: refund,
        })
        .await;
        run(PaymentCommand::RecordRefundResult {
            refund_id: format!("r-{id}"),
            outcome: RefundOutcome::Succeeded {
                provider_refund_id: format!("ykr-{id}"),
                refunded_at: when,
            },
        })
        .await;
    }
}

/// Runs the workers until the ledger has `lines` lines, and returns the months.
async fn ledger(context: &TestContext, lines: i64) -> Vec<MonthTotals> {
    let app = spawn_app(context.settings(), Parts::ALL).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM rm_tax_lines")
                .fetch_one(&context.pool)
                .await
                .is_ok_and(|count| count == lines)
        })
        .await,
        "the ledger has its {lines} lines"
    );
    app.stop().await;
    months(&context.pool, &TaxRules::default())
        .await
        .expect("months")
}

fn november() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
}

#[tokio::test]
async fn ten_thousand_from_an_individual_owes_three_hundred() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    payment(
        &commands,
        PayerKind::Individual,
        rub(10_000),
        at(11, 5),
        None,
    )
    .await;
    let months = ledger(&context, 1).await;
    assert_eq!(months.len(), 1);
    let month = &months[0];
    assert_eq!(month.month, november());
    assert_eq!(
        (
            month.income,
            month.tax_before_deduction,
            month.deduction_used,
            month.tax_due,
            month.deduction_left
        ),
        (rub(10_000), rub(400), rub(100), rub(300), rub(9_900))
    );
    assert_eq!(
        month.due_date,
        NaiveDate::from_ymd_opt(2026, 12, 28).expect("date")
    );
    let line: (
        String,
        rust_decimal::Decimal,
        rust_decimal::Decimal,
        rust_decimal::Decimal,
        rust_decimal::Decimal,
    ) = sqlx::query_as("SELECT payer_kind, rate, tax, provider_fee, net FROM rm_tax_lines")
        .fetch_one(&context.pool)
        .await
        .expect("line");
    assert_eq!(line.0, "individual");
    assert_eq!(line.1.to_string(), "0.0400");
    assert_eq!(line.2.to_string(), "400.00");
    assert_eq!(line.3.to_string(), "280.00");
    assert_eq!(line.4.to_string(), "9720.00");
    context.cleanup().await;
}

#[tokio::test]
async fn ten_thousand_from_a_company_owes_four_hundred() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    payment(
        &commands,
        PayerKind::LegalEntity,
        rub(10_000),
        at(11, 5),
        None,
    )
    .await;
    let month = ledger(&context, 1).await.remove(0);
    assert_eq!((month.tax_due, month.deduction_used), (rub(400), rub(200)));
    context.cleanup().await;
}

#[tokio::test]
async fn the_deduction_runs_out_inside_a_month_and_is_gone_the_next() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    payment(
        &commands,
        PayerKind::Individual,
        rub(1_200_000),
        at(10, 10),
        None,
    )
    .await;
    payment(
        &commands,
        PayerKind::Individual,
        rub(10_000),
        at(11, 10),
        None,
    )
    .await;
    let months = ledger(&context, 2).await;
    assert_eq!(
        (
            months[0].tax_before_deduction,
            months[0].deduction_used,
            months[0].tax_due,
            months[0].deduction_left
        ),
        (rub(48_000), rub(10_000), rub(38_000), Money::ZERO)
    );
    assert_eq!(
        (months[1].deduction_used, months[1].tax_due),
        (Money::ZERO, rub(400))
    );
    assert_eq!(months[1].year_income, rub(1_210_000));
    assert!(!months[1].near_yearly_limit);
    context.cleanup().await;
}

#[tokio::test]
async fn a_refund_reduces_the_month_of_its_receipt() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    // Same month: 10,000 + 5,000 received, the 5,000 refunded (W8).
    payment(
        &commands,
        PayerKind::Individual,
        rub(10_000),
        at(11, 5),
        None,
    )
    .await;
    payment(
        &commands,
        PayerKind::Individual,
        rub(5_000),
        at(11, 6),
        Some((rub(5_000), at(11, 20))),
    )
    .await;
    // A later month: 2,000 received in October, refunded in November.
    payment(
        &commands,
        PayerKind::Individual,
        rub(2_000),
        at(10, 30),
        Some((rub(2_000), at(11, 2))),
    )
    .await;
    let months = ledger(&context, 5).await;
    assert_eq!(months.len(), 2);
    assert_eq!(
        months[0].month,
        NaiveDate::from_ymd_opt(2026, 10, 1).expect("date")
    );
    assert_eq!(
        (months[0].income, months[0].tax_due),
        (Money::ZERO, Money::ZERO)
    );
    assert_eq!(months[1].month, november());
    assert_eq!(
        (
            months[1].income,
            months[1].tax_due,
            months[1].deduction_used
        ),
        (rub(10_000), rub(300), rub(100))
    );
    context.cleanup().await;
}

#[tokio::test]
async fn the_yearly_limit_is_flagged_near_and_over_it() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    payment(
        &commands,
        PayerKind::Individual,
        rub(2_200_000),
        at(3, 1),
        None,
    )
    .await;
    payment(
        &commands,
        PayerKind::Individual,
        rub(300_000),
        at(4, 1),
        None,
    )
    .await;
    let months = ledger(&context, 2).await;
    assert!(months[0].near_yearly_limit && !months[0].over_yearly_limit);
    assert!(months[1].over_yearly_limit);
    context.cleanup().await;
}
