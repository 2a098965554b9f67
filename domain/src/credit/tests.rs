use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use proptest::prelude::*;

use super::*;

type AccountTest = TestFramework<CreditAccount>;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0)
        .single()
        .expect("a valid date")
}

fn granted(amount: u64, reason: GrantReason, reference: &str) -> CreditEvent {
    CreditEvent::CreditsGranted {
        amount,
        reason,
        reference: reference.to_owned(),
        expires_at: None,
    }
}

fn points(amount: u64, reference: &str, expires: u32) -> CreditEvent {
    CreditEvent::CreditsGranted {
        amount,
        reason: GrantReason::LoyaltyCashback,
        reference: reference.to_owned(),
        expires_at: Some(at(expires)),
    }
}

fn spent(amount: u64, operation: &str) -> CreditEvent {
    CreditEvent::CreditsSpent {
        amount,
        reason: "image generation".to_owned(),
        operation_id: operation.to_owned(),
        spent_at: at(1),
    }
}

fn spend(amount: u64, operation: &str) -> CreditCommand {
    CreditCommand::Spend {
        amount,
        reason: "image generation".to_owned(),
        operation_id: operation.to_owned(),
        at: at(1),
    }
}

#[tokio::test]
async fn a_grant_adds_credits_once_per_reason_and_reference() {
    AccountTest::with(())
        .given_no_previous_events()
        .when_async(CreditCommand::Grant {
            amount: 50,
            reason: GrantReason::Purchase,
            reference: "payment-1".to_owned(),
            expires_at: None,
        })
        .await
        .then_expect_events(vec![granted(50, GrantReason::Purchase, "payment-1")]);
    AccountTest::with(())
        .given(vec![granted(50, GrantReason::Purchase, "payment-1")])
        .when_async(CreditCommand::Grant {
            amount: 50,
            reason: GrantReason::Purchase,
            reference: "payment-1".to_owned(),
            expires_at: None,
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn a_grant_needs_an_amount_and_a_reference() {
    AccountTest::with(())
        .given_no_previous_events()
        .when_async(CreditCommand::Grant {
            amount: 0,
            reason: GrantReason::Promo,
            reference: "autumn".to_owned(),
            expires_at: None,
        })
        .await
        .then_expect_error(CreditError::ZeroAmount);
    AccountTest::with(())
        .given_no_previous_events()
        .when_async(CreditCommand::Grant {
            amount: 5,
            reason: GrantReason::Admin,
            reference: " ".to_owned(),
            expires_at: None,
        })
        .await
        .then_expect_error(CreditError::Missing("reference"));
}

#[tokio::test]
async fn a_spend_takes_credits_once_per_operation() {
    AccountTest::with(())
        .given(vec![granted(10, GrantReason::Purchase, "p")])
        .when_async(spend(4, "gen-1"))
        .await
        .then_expect_events(vec![spent(4, "gen-1")]);
    AccountTest::with(())
        .given(vec![
            granted(10, GrantReason::Purchase, "p"),
            spent(4, "gen-1"),
        ])
        .when_async(spend(4, "gen-1"))
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn the_balance_never_goes_below_zero() {
    AccountTest::with(())
        .given(vec![granted(3, GrantReason::Purchase, "p")])
        .when_async(spend(4, "gen-1"))
        .await
        .then_expect_error(CreditError::InsufficientBalance {
            balance: 3,
            requested: 4,
        });
}

#[tokio::test]
async fn a_spend_must_name_its_operation_and_reason() {
    AccountTest::with(())
        .given(vec![granted(3, GrantReason::Purchase, "p")])
        .when_async(spend(1, ""))
        .await
        .then_expect_error(CreditError::Missing("operation id"));
    AccountTest::with(())
        .given(vec![granted(3, GrantReason::Purchase, "p")])
        .when_async(spend(0, "gen-1"))
        .await
        .then_expect_error(CreditError::ZeroAmount);
}

#[tokio::test]
async fn a_spend_is_refunded_once() {
    let history = vec![granted(10, GrantReason::Purchase, "p"), spent(4, "gen-1")];
    AccountTest::with(())
        .given(history.clone())
        .when_async(CreditCommand::RefundSpend {
            operation_id: "gen-1".to_owned(),
            at: at(2),
        })
        .await
        .then_expect_events(vec![CreditEvent::SpendRefunded {
            operation_id: "gen-1".to_owned(),
            amount: 4,
        }]);
    let mut refunded = history;
    refunded.push(CreditEvent::SpendRefunded {
        operation_id: "gen-1".to_owned(),
        amount: 4,
    });
    AccountTest::with(())
        .given(refunded)
        .when_async(CreditCommand::RefundSpend {
            operation_id: "gen-1".to_owned(),
            at: at(2),
        })
        .await
        .then_expect_error(CreditError::AlreadyRefunded("gen-1".to_owned()));
    AccountTest::with(())
        .given_no_previous_events()
        .when_async(CreditCommand::RefundSpend {
            operation_id: "nope".to_owned(),
            at: at(2),
        })
        .await
        .then_expect_error(CreditError::UnknownOperation("nope".to_owned()));
}

#[tokio::test]
async fn the_monthly_allowance_is_granted_once_per_month() {
    AccountTest::with(())
        .given_no_previous_events()
        .when_async(CreditCommand::GrantMonthlyAllowance {
            month: "2026-11".to_owned(),
            amount: 10,
        })
        .await
        .then_expect_events(vec![granted(10, GrantReason::MonthlyAllowance, "2026-11")]);
    AccountTest::with(())
        .given(vec![granted(10, GrantReason::MonthlyAllowance, "2026-11")])
        .when_async(CreditCommand::GrantMonthlyAllowance {
            month: "2026-11".to_owned(),
            amount: 10,
        })
        .await
        .then_expect_events(vec![]);
    for bad in ["2026-13", "2026-1", "26-11", "november"] {
        AccountTest::with(())
            .given_no_previous_events()
            .when_async(CreditCommand::GrantMonthlyAllowance {
                month: bad.to_owned(),
                amount: 10,
            })
            .await
            .then_expect_error(CreditError::InvalidMonth(bad.to_owned()));
    }
}

#[tokio::test]
async fn a_subscription_records_the_plan_and_grants_its_period_once() {
    let activated = vec![
        CreditEvent::SubscriptionActivated {
            plan: "pro".to_owned(),
            period_end: at(30),
            credits_per_period: 300,
        },
        CreditEvent::CreditsGranted {
            amount: 300,
            reason: GrantReason::Subscription,
            reference: "pro:2026-11-30T12:00:00Z".to_owned(),
            expires_at: Some(at(30)),
        },
    ];
    let activate = CreditCommand::ActivateSubscription {
        plan: "pro".to_owned(),
        period_end: at(30),
        credits_per_period: 300,
    };
    AccountTest::with(())
        .given_no_previous_events()
        .when_async(activate.clone())
        .await
        .then_expect_events(activated.clone());
    AccountTest::with(())
        .given(activated)
        .when_async(activate)
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn points_expire_by_what_is_left_of_each_grant() {
    // 10 points expiring on the 20th, 5 on the 25th, 7 credits that keep; 12 spent:
    // the soonest-expiring points go first (10), then 2 of the next.
    let history = vec![
        points(10, "order-1", 20),
        points(5, "order-2", 25),
        granted(7, GrantReason::Purchase, "p"),
        spent(12, "discount-1"),
    ];
    AccountTest::with(())
        .given(history.clone())
        .when_async(CreditCommand::ExpirePoints { now: at(26) })
        .await
        .then_expect_events(vec![CreditEvent::PointsExpired {
            amount: 3,
            expired: vec![ExpiredGrant {
                reason: GrantReason::LoyaltyCashback,
                reference: "order-2".to_owned(),
                amount: 3,
            }],
        }]);
    AccountTest::with(())
        .given(history)
        .when_async(CreditCommand::ExpirePoints { now: at(19) })
        .await
        .then_expect_events(vec![]);
}

#[test]
fn every_event_variant_has_a_stable_json_shape() {
    let events = [
        CreditEvent::CreditsGranted {
            amount: 300,
            reason: GrantReason::Subscription,
            reference: "pro:2026-11-30T12:00:00Z".to_owned(),
            expires_at: Some(at(30)),
        },
        granted(
            10,
            GrantReason::Referral,
            "0193a1b2-0000-7000-8000-000000000002",
        ),
        spent(4, "gen-1"),
        CreditEvent::SpendRefunded {
            operation_id: "gen-1".to_owned(),
            amount: 4,
        },
        CreditEvent::SubscriptionActivated {
            plan: "pro".to_owned(),
            period_end: at(30),
            credits_per_period: 300,
        },
        CreditEvent::PointsExpired {
            amount: 3,
            expired: vec![ExpiredGrant {
                reason: GrantReason::LoyaltyCashback,
                reference: "order-2".to_owned(),
                amount: 3,
            }],
        },
        CreditEvent::CreditsRevoked {
            reason: GrantReason::Purchase,
            reference: "0193a1b2-0000-7000-8000-000000000009".to_owned(),
            amount: 150,
            operation_id: "refund:0193a1b2-0000-7000-8000-000000000009:r-1".to_owned(),
        },
    ];
    let typed: Vec<(String, String, &CreditEvent)> = events
        .iter()
        .map(|event| {
            use cqrs_es::DomainEvent;
            (event.event_type(), event.event_version(), event)
        })
        .collect();
    insta::assert_json_snapshot!(typed);
}

#[derive(Debug, Clone)]
enum Step {
    Grant(u64, u8),
    Points(u64, u8, u32),
    Spend(u64, u8),
    Refund(u8),
    Allowance(u8),
    Expire(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..50u64, 0..4u8).prop_map(|(amount, reference)| Step::Grant(amount, reference)),
        (1..20u64, 0..4u8, 1..28u32).prop_map(|(a, r, d)| Step::Points(a, r, d)),
        (0..40u64, 0..6u8).prop_map(|(amount, operation)| Step::Spend(amount, operation)),
        (0..6u8).prop_map(Step::Refund),
        (1..13u8).prop_map(Step::Allowance),
        (1..29u32).prop_map(Step::Expire),
    ]
}

fn command(step: &Step) -> CreditCommand {
    match step {
        Step::Grant(amount, reference) => CreditCommand::Grant {
            amount: *amount,
            reason: GrantReason::Purchase,
            reference: format!("payment-{reference}"),
            expires_at: None,
        },
        Step::Points(amount, reference, day) => CreditCommand::Grant {
            amount: *amount,
            reason: GrantReason::LoyaltyCashback,
            reference: format!("order-{reference}"),
            expires_at: Some(at(*day)),
        },
        Step::Spend(amount, operation) => spend(*amount, &format!("op-{operation}")),
        Step::Refund(operation) => CreditCommand::RefundSpend {
            operation_id: format!("op-{operation}"),
            at: at(15),
        },
        Step::Allowance(month) => CreditCommand::GrantMonthlyAllowance {
            month: format!("2026-{month:02}"),
            amount: 10,
        },
        Step::Expire(day) => CreditCommand::ExpirePoints { now: at(*day) },
    }
}

proptest! {
    #[test]
    fn random_commands_never_break_the_account(steps in proptest::collection::vec(step(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let mut account = CreditAccount::default();
        let mut history: Vec<CreditEvent> = Vec::new();
        for step in &steps {
            let sink = EventSink::default();
            let mut attempt = account.clone();
            let outcome = runtime.block_on(attempt.handle(command(step), &(), &sink));
            if outcome.is_ok() {
                for event in runtime.block_on(sink.collect()) {
                    account.apply(event.clone());
                    history.push(event);
                }
            }
        }
        // The balance is what came in minus what went out, and never negative.
        let mut expected: i128 = 0;
        let mut spends = std::collections::HashMap::new();
        let mut refunds = std::collections::HashMap::new();
        let mut grants = std::collections::HashSet::new();
        for event in &history {
            match event {
                CreditEvent::CreditsGranted { amount, reason, reference, .. } => {
                    expected += i128::from(*amount);
                    prop_assert!(grants.insert((*reason, reference.clone())), "granted twice: {reference}");
                }
                CreditEvent::CreditsSpent { amount, operation_id, .. } => {
                    expected -= i128::from(*amount);
                    *spends.entry(operation_id.clone()).or_insert(0) += 1;
                }
                CreditEvent::SpendRefunded { amount, operation_id } => {
                    expected += i128::from(*amount);
                    *refunds.entry(operation_id.clone()).or_insert(0) += 1;
                }
                CreditEvent::PointsExpired { amount, .. } => expected -= i128::from(*amount),
                CreditEvent::CreditsRevoked { amount, .. } => expected -= i128::from(*amount),
                CreditEvent::SubscriptionActivated { .. } => {}
            }
            prop_assert!(expected >= 0, "balance went negative");
        }
        prop_assert_eq!(i128::from(account.balance()), expected);
        prop_assert!(spends.values().all(|&count| count == 1), "an operation spent twice");
        prop_assert!(refunds.values().all(|&count| count == 1), "a spend refunded twice");
        prop_assert!(refunds.keys().all(|operation| spends.contains_key(operation)));
    }
}

#[tokio::test]
async fn lapsed_points_cannot_be_spent_and_a_refund_into_them_lapses() {
    // 100 points expiring on the 20th.
    AccountTest::with(())
        .given(vec![points(100, "order-1", 20)])
        .when_async(CreditCommand::Spend {
            amount: 1,
            reason: "discount".to_owned(),
            operation_id: "late".to_owned(),
            at: at(21),
        })
        .await
        .then_expect_error(CreditError::InsufficientBalance {
            balance: 0,
            requested: 1,
        });
    // Spent on the 1st, refunded on the 21st: the points come back already lapsed.
    AccountTest::with(())
        .given(vec![points(100, "order-1", 20), spent(100, "gen-1")])
        .when_async(CreditCommand::RefundSpend {
            operation_id: "gen-1".to_owned(),
            at: at(21),
        })
        .await
        .then_expect_events(vec![
            CreditEvent::SpendRefunded {
                operation_id: "gen-1".to_owned(),
                amount: 100,
            },
            CreditEvent::PointsExpired {
                amount: 100,
                expired: vec![ExpiredGrant {
                    reason: GrantReason::LoyaltyCashback,
                    reference: "order-1".to_owned(),
                    amount: 100,
                }],
            },
        ]);
}

#[tokio::test]
async fn a_month_has_one_spelling() {
    for odd in ["2026-+1", "2026-1 ", "+026-01"] {
        AccountTest::with(())
            .given_no_previous_events()
            .when_async(CreditCommand::GrantMonthlyAllowance {
                month: odd.to_owned(),
                amount: DEFAULT_MONTHLY_ALLOWANCE,
            })
            .await
            .then_expect_error(CreditError::InvalidMonth(odd.to_owned()));
    }
}

#[tokio::test]
async fn a_refunded_purchase_takes_back_what_is_left_of_its_own_grant_once() {
    let revoke = |reference: Option<&str>, amount, operation: &str| CreditCommand::Revoke {
        reason: GrantReason::Purchase,
        reference: reference.map(str::to_owned),
        amount,
        operation_id: operation.to_owned(),
    };
    let history = vec![
        granted(300, GrantReason::Purchase, "pay-1"),
        granted(50, GrantReason::LoyaltyCashback, "order-1"),
        spent(200, "gen-1"),
    ];
    let revoked = |amount, operation: &str| CreditEvent::CreditsRevoked {
        reason: GrantReason::Purchase,
        reference: "pay-1".to_owned(),
        amount,
        operation_id: operation.to_owned(),
    };
    // 200 spent came from the purchase (it keeps); 100 of it is left: no more is taken,
    // and the cashback points are not touched.
    let left = AccountTest::with(())
        .given(history.clone())
        .when_async(revoke(Some("pay-1"), 150, "r-1"))
        .await
        .inspect_result()
        .expect("revoked");
    assert_eq!(left.len(), 1);
    let CreditEvent::CreditsRevoked { amount, .. } = &left[0] else {
        panic!("{left:?}");
    };
    let mut after = history.clone();
    after.extend(left.clone());
    AccountTest::with(())
        .given(after.clone())
        .when_async(revoke(Some("pay-1"), 150, "r-1"))
        .await
        .then_expect_events(vec![]);
    let mut account = CreditAccount::default();
    for event in after {
        cqrs_es::Aggregate::apply(&mut account, event);
    }
    assert_eq!(account.balance(), 350 - 200 - amount);
    assert!(
        account
            .lots()
            .any(|lot| lot.reason == GrantReason::LoyaltyCashback && lot.remaining > 0)
    );
    // Nothing left of it: nothing happens. No such grant: nothing happens.
    AccountTest::with(())
        .given(vec![
            granted(300, GrantReason::Purchase, "pay-1"),
            spent(300, "gen-1"),
        ])
        .when_async(revoke(Some("pay-1"), 10, "r-2"))
        .await
        .then_expect_events(vec![]);
    AccountTest::with(())
        .given(history.clone())
        .when_async(revoke(Some("pay-9"), 10, "r-3"))
        .await
        .then_expect_events(vec![]);
    // Without a reference: the newest grant of the reason.
    AccountTest::with(())
        .given(vec![
            granted(100, GrantReason::Purchase, "pay-0"),
            granted(300, GrantReason::Purchase, "pay-1"),
        ])
        .when_async(revoke(None, 30, "r-4"))
        .await
        .then_expect_events(vec![revoked(30, "r-4")]);
}
