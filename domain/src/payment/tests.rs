use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::money::Money;
use crate::money::tax::PayerKind;

type PaymentTest = TestFramework<Payment>;

fn rub(kopecks: u64) -> Money {
    Money::from_kopecks(kopecks)
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 9, 30, 0)
        .single()
        .expect("a valid date")
}

fn payer() -> Uuid {
    Uuid::parse_str("0193a1b2-0000-7000-8000-000000000001").expect("uuid")
}

fn purpose() -> PaymentPurpose {
    PaymentPurpose::CreditPack {
        pack: "100 credits".to_owned(),
        credits: 100,
    }
}

fn create() -> PaymentCommand {
    PaymentCommand::Create {
        purpose: purpose(),
        amount: rub(49_900),
        payer_kind: PayerKind::Individual,
        payer_user_id: payer(),
        idempotence_key: "key-1".to_owned(),
    }
}

fn created() -> PaymentEvent {
    PaymentEvent::PaymentCreated {
        purpose: purpose(),
        amount: rub(49_900),
        payer_kind: PayerKind::Individual,
        payer_user_id: payer(),
        idempotence_key: "key-1".to_owned(),
    }
}

fn recorded() -> PaymentEvent {
    PaymentEvent::ProviderPaymentRecorded {
        provider_payment_id: "2419a771-000f-5000-9000-1edaf29243f2".to_owned(),
        confirmation_url: "https://yoomoney.ru/checkout/payments/v2/contract?orderId=2419a771"
            .to_owned(),
    }
}

fn succeed() -> PaymentCommand {
    PaymentCommand::Succeed {
        provider_payment_id: "2419a771-000f-5000-9000-1edaf29243f2".to_owned(),
        amount_received: rub(49_900),
        currency: "RUB".to_owned(),
        provider_fee: rub(1_397),
        paid_at: at(23),
        test: false,
    }
}

fn succeeded() -> PaymentEvent {
    PaymentEvent::PaymentSucceeded {
        provider_payment_id: "2419a771-000f-5000-9000-1edaf29243f2".to_owned(),
        amount: rub(49_900),
        provider_fee: rub(1_397),
        paid_at: at(23),
        after_cancellation: false,
        test: false,
    }
}

fn refund(id: &str, kopecks: u64) -> PaymentCommand {
    PaymentCommand::RequestRefund {
        refund_id: id.to_owned(),
        amount: rub(kopecks),
    }
}

fn refund_requested(id: &str, kopecks: u64) -> PaymentEvent {
    PaymentEvent::RefundRequested {
        refund_id: id.to_owned(),
        amount: rub(kopecks),
    }
}

#[tokio::test]
async fn create_starts_a_pending_payment_and_a_repeat_changes_nothing() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when_async(create())
        .await
        .then_expect_events(vec![created()]);
    PaymentTest::with(())
        .given(vec![created()])
        .when_async(create())
        .await
        .then_expect_events(vec![]);
    let mut other_key = create();
    if let PaymentCommand::Create {
        idempotence_key, ..
    } = &mut other_key
    {
        *idempotence_key = "key-2".to_owned();
    }
    PaymentTest::with(())
        .given(vec![created()])
        .when_async(other_key)
        .await
        .then_expect_error(PaymentError::AlreadyExists);
}

#[tokio::test]
async fn create_refuses_a_zero_amount() {
    let mut zero = create();
    if let PaymentCommand::Create { amount, .. } = &mut zero {
        *amount = Money::ZERO;
    }
    PaymentTest::with(())
        .given_no_previous_events()
        .when_async(zero)
        .await
        .then_expect_error(PaymentError::ZeroAmount);
}

#[tokio::test]
async fn the_provider_payment_is_recorded_once() {
    let record = PaymentCommand::RecordProviderPayment {
        provider_payment_id: "2419a771-000f-5000-9000-1edaf29243f2".to_owned(),
        confirmation_url: "https://yoomoney.ru/checkout/payments/v2/contract?orderId=2419a771"
            .to_owned(),
    };
    PaymentTest::with(())
        .given(vec![created()])
        .when_async(record.clone())
        .await
        .then_expect_events(vec![recorded()]);
    PaymentTest::with(())
        .given(vec![created(), recorded()])
        .when_async(record)
        .await
        .then_expect_events(vec![]);
    PaymentTest::with(())
        .given(vec![created(), recorded()])
        .when_async(PaymentCommand::RecordProviderPayment {
            provider_payment_id: "other".to_owned(),
            confirmation_url: String::new(),
        })
        .await
        .then_expect_error(PaymentError::ProviderMismatch {
            recorded: "2419a771-000f-5000-9000-1edaf29243f2".to_owned(),
            reported: "other".to_owned(),
        });
}

#[tokio::test]
async fn success_is_applied_once_however_often_it_is_reported() {
    PaymentTest::with(())
        .given(vec![created(), recorded()])
        .when_async(succeed())
        .await
        .then_expect_events(vec![succeeded()]);
    PaymentTest::with(())
        .given(vec![created(), recorded(), succeeded()])
        .when_async(succeed())
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn success_before_the_provider_id_was_recorded_records_it() {
    PaymentTest::with(())
        .given(vec![created()])
        .when_async(succeed())
        .await
        .then_expect_events(vec![
            PaymentEvent::ProviderPaymentRecorded {
                provider_payment_id: "2419a771-000f-5000-9000-1edaf29243f2".to_owned(),
                confirmation_url: String::new(),
            },
            succeeded(),
        ]);
}

#[tokio::test]
async fn the_amount_and_currency_received_must_match() {
    let mut short = succeed();
    if let PaymentCommand::Succeed {
        amount_received, ..
    } = &mut short
    {
        *amount_received = rub(100);
    }
    PaymentTest::with(())
        .given(vec![created(), recorded()])
        .when_async(short)
        .await
        .then_expect_error(PaymentError::AmountMismatch {
            expected: rub(49_900),
            received: rub(100),
            currency: "RUB".to_owned(),
        });
    let mut dollars = succeed();
    if let PaymentCommand::Succeed { currency, .. } = &mut dollars {
        *currency = "USD".to_owned();
    }
    PaymentTest::with(())
        .given(vec![created(), recorded()])
        .when_async(dollars)
        .await
        .then_expect_error(PaymentError::AmountMismatch {
            expected: rub(49_900),
            received: rub(49_900),
            currency: "USD".to_owned(),
        });
}

#[tokio::test]
async fn a_succeeded_payment_cannot_be_cancelled_nor_a_cancelled_one_succeed() {
    let cancel = PaymentCommand::Cancel {
        reason: "expired_on_confirmation".to_owned(),
    };
    PaymentTest::with(())
        .given(vec![created(), recorded()])
        .when_async(cancel.clone())
        .await
        .then_expect_events(vec![PaymentEvent::PaymentCanceled {
            reason: "expired_on_confirmation".to_owned(),
        }]);
    PaymentTest::with(())
        .given(vec![created(), recorded(), succeeded()])
        .when_async(cancel)
        .await
        .then_expect_error(PaymentError::WrongStatus {
            status: PaymentStatus::Succeeded,
            action: "be cancelled",
        });
    // The provider's success after a cancellation here is income all the same,
    // recorded and flagged so that it gets refunded.
    PaymentTest::with(())
        .given(vec![
            created(),
            recorded(),
            PaymentEvent::PaymentCanceled {
                reason: "expired_on_confirmation".to_owned(),
            },
        ])
        .when_async(succeed())
        .await
        .then_expect_events(vec![PaymentEvent::PaymentSucceeded {
            provider_payment_id: "2419a771-000f-5000-9000-1edaf29243f2".to_owned(),
            amount: rub(49_900),
            provider_fee: rub(1_397),
            paid_at: at(23),
            after_cancellation: true,
            test: false,
        }]);
    let mut greedy = succeed();
    if let PaymentCommand::Succeed { provider_fee, .. } = &mut greedy {
        *provider_fee = rub(50_000);
    }
    PaymentTest::with(())
        .given(vec![created(), recorded()])
        .when_async(greedy)
        .await
        .then_expect_error(PaymentError::FeeExceedsAmount {
            fee: rub(50_000),
            amount: rub(49_900),
        });
    PaymentTest::with(())
        .given_no_previous_events()
        .when_async(succeed())
        .await
        .then_expect_error(PaymentError::NotCreated);
}

#[tokio::test]
async fn a_cancellation_reported_twice_changes_nothing() {
    PaymentTest::with(())
        .given(vec![
            created(),
            PaymentEvent::PaymentCanceled {
                reason: "expired_on_confirmation".to_owned(),
            },
        ])
        .when_async(PaymentCommand::Cancel {
            reason: "expired_on_confirmation".to_owned(),
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn refunds_never_exceed_what_was_paid() {
    let paid = vec![created(), recorded(), succeeded()];
    PaymentTest::with(())
        .given(paid.clone())
        .when_async(refund("r-1", 20_000))
        .await
        .then_expect_events(vec![refund_requested("r-1", 20_000)]);
    let mut partly = paid.clone();
    partly.push(refund_requested("r-1", 20_000));
    PaymentTest::with(())
        .given(partly.clone())
        .when_async(refund("r-2", 30_000))
        .await
        .then_expect_error(PaymentError::RefundTooLarge {
            requested: rub(30_000),
            refundable: rub(29_900),
        });
    PaymentTest::with(())
        .given(partly.clone())
        .when_async(refund("r-2", 29_900))
        .await
        .then_expect_events(vec![refund_requested("r-2", 29_900)]);
    // The same request again is a no-op; the same id with another amount is refused.
    PaymentTest::with(())
        .given(partly.clone())
        .when_async(refund("r-1", 20_000))
        .await
        .then_expect_events(vec![]);
    PaymentTest::with(())
        .given(partly)
        .when_async(refund("r-1", 10_000))
        .await
        .then_expect_error(PaymentError::RefundConflict("r-1".to_owned()));
    PaymentTest::with(())
        .given(vec![created()])
        .when_async(refund("r-1", 100))
        .await
        .then_expect_error(PaymentError::WrongStatus {
            status: PaymentStatus::Pending,
            action: "be refunded",
        });
}

#[tokio::test]
async fn a_failed_refund_frees_its_amount_and_results_apply_once() {
    let mut history = vec![
        created(),
        recorded(),
        succeeded(),
        refund_requested("r-1", 49_900),
    ];
    let failed = PaymentCommand::RecordRefundResult {
        refund_id: "r-1".to_owned(),
        outcome: RefundOutcome::Failed {
            reason: "insufficient_funds".to_owned(),
        },
    };
    PaymentTest::with(())
        .given(history.clone())
        .when_async(failed.clone())
        .await
        .then_expect_events(vec![PaymentEvent::RefundFailed {
            refund_id: "r-1".to_owned(),
            amount: rub(49_900),
            reason: "insufficient_funds".to_owned(),
        }]);
    history.push(PaymentEvent::RefundFailed {
        refund_id: "r-1".to_owned(),
        amount: rub(49_900),
        reason: "insufficient_funds".to_owned(),
    });
    PaymentTest::with(())
        .given(history.clone())
        .when_async(failed)
        .await
        .then_expect_events(vec![]);
    PaymentTest::with(())
        .given(history)
        .when_async(refund("r-2", 49_900))
        .await
        .then_expect_events(vec![refund_requested("r-2", 49_900)]);
}

#[tokio::test]
async fn a_refund_succeeds_once_and_an_unknown_refund_is_refused() {
    let history = vec![
        created(),
        recorded(),
        succeeded(),
        refund_requested("r-1", 100),
    ];
    let success = PaymentCommand::RecordRefundResult {
        refund_id: "r-1".to_owned(),
        outcome: RefundOutcome::Succeeded {
            provider_refund_id: "216749f7-0016-50be-b000-078d43a63ae4".to_owned(),
            refunded_at: at(24),
        },
    };
    let refunded = PaymentEvent::RefundSucceeded {
        refund_id: "r-1".to_owned(),
        amount: rub(100),
        provider_refund_id: "216749f7-0016-50be-b000-078d43a63ae4".to_owned(),
        refunded_at: at(24),
    };
    PaymentTest::with(())
        .given(history.clone())
        .when_async(success.clone())
        .await
        .then_expect_events(vec![refunded.clone()]);
    let mut settled = history;
    settled.push(refunded);
    PaymentTest::with(())
        .given(settled.clone())
        .when_async(success)
        .await
        .then_expect_events(vec![]);
    PaymentTest::with(())
        .given(settled)
        .when_async(PaymentCommand::RecordRefundResult {
            refund_id: "r-1".to_owned(),
            outcome: RefundOutcome::Failed {
                reason: "late".to_owned(),
            },
        })
        .await
        .then_expect_error(PaymentError::RefundSettled("r-1".to_owned()));
    PaymentTest::with(())
        .given(vec![created()])
        .when_async(PaymentCommand::RecordRefundResult {
            refund_id: "nope".to_owned(),
            outcome: RefundOutcome::Failed {
                reason: "x".to_owned(),
            },
        })
        .await
        .then_expect_error(PaymentError::UnknownRefund("nope".to_owned()));
}

#[test]
fn every_event_variant_has_a_stable_json_shape() {
    let order = PaymentEvent::PaymentCreated {
        purpose: PaymentPurpose::Order {
            order_id: Uuid::parse_str("0193a1b2-0000-7000-8000-0000000000aa").expect("uuid"),
        },
        amount: rub(150_000),
        payer_kind: PayerKind::LegalEntity,
        payer_user_id: payer(),
        idempotence_key: "key-9".to_owned(),
    };
    let subscription = PaymentEvent::PaymentCreated {
        purpose: PaymentPurpose::Subscription {
            plan: "pro".to_owned(),
            credits_per_period: 300,
            period_days: 30,
        },
        amount: rub(99_000),
        payer_kind: PayerKind::Individual,
        payer_user_id: payer(),
        idempotence_key: "key-10".to_owned(),
    };
    let events = [
        created(),
        order,
        subscription,
        recorded(),
        succeeded(),
        PaymentEvent::PaymentCanceled {
            reason: "expired_on_confirmation".to_owned(),
        },
        refund_requested("r-1", 10),
        PaymentEvent::RefundSucceeded {
            refund_id: "r-1".to_owned(),
            amount: rub(10),
            provider_refund_id: "216749f7-0016-50be-b000-078d43a63ae4".to_owned(),
            refunded_at: at(24),
        },
        PaymentEvent::RefundFailed {
            refund_id: "r-2".to_owned(),
            amount: rub(10),
            reason: "insufficient_funds".to_owned(),
        },
    ];
    let typed: Vec<(String, String, &PaymentEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
}

fn any_command() -> impl Strategy<Value = PaymentCommand> {
    prop_oneof![
        Just(create()),
        Just(PaymentCommand::RecordProviderPayment {
            provider_payment_id: "2419a771-000f-5000-9000-1edaf29243f2".to_owned(),
            confirmation_url: String::new(),
        }),
        Just(succeed()),
        Just(PaymentCommand::Cancel {
            reason: "canceled_by_merchant".to_owned()
        }),
        (0..4u8, 0..60_000u64).prop_map(|(id, kopecks)| refund(&format!("r-{id}"), kopecks)),
        (0..4u8, any::<bool>()).prop_map(|(id, ok)| PaymentCommand::RecordRefundResult {
            refund_id: format!("r-{id}"),
            outcome: if ok {
                RefundOutcome::Succeeded {
                    provider_refund_id: format!("yk-{id}"),
                    refunded_at: at(25),
                }
            } else {
                RefundOutcome::Failed {
                    reason: "declined".to_owned(),
                }
            },
        }),
    ]
}

fn legal(from: PaymentStatus, to: PaymentStatus) -> bool {
    use PaymentStatus::*;
    from == to
        || matches!(
            (from, to),
            (New, Pending) | (Pending, Succeeded) | (Pending, Canceled) | (Canceled, Succeeded)
        )
}

proptest! {
    #[test]
    fn random_commands_keep_refunds_within_the_payment_and_states_legal(
        commands in proptest::collection::vec(any_command(), 1..40)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let mut payment = Payment::default();
        for command in commands {
            let before = payment.status();
            let sink = EventSink::default();
            let mut attempt = payment.clone();
            if runtime.block_on(attempt.handle(command, &(), &sink)).is_ok() {
                for event in runtime.block_on(sink.collect()) {
                    payment.apply(event);
                }
            }
            prop_assert!(legal(before, payment.status()), "{before:?} -> {:?}", payment.status());
            prop_assert!(payment.refunded() <= payment.amount());
            prop_assert!(payment.refundable() <= payment.amount());
            if payment.status() != PaymentStatus::Succeeded {
                prop_assert_eq!(payment.refunded(), Money::ZERO);
            }
        }
    }
}

#[tokio::test]
async fn the_rest_is_decided_on_the_payments_own_state_pending_refunds_counted() {
    // 499.00 paid, 199.00 pending.
    let mut partly = vec![created(), recorded(), succeeded()];
    partly.push(refund_requested("staff", 19_900));
    let rest =
        |up_to: Option<u64>, share_percent: Option<u8>| PaymentCommand::RequestRefundOfRest {
            refund_id: "rest".to_owned(),
            up_to: up_to.map(rub),
            share_percent,
        };
    // All that is left, however much the caller thought was left.
    PaymentTest::with(())
        .given(partly.clone())
        .when_async(rest(Some(49_900), None))
        .await
        .then_expect_events(vec![refund_requested("rest", 30_000)]);
    // A policy's half of what is left (300.00), not of what the order had seen.
    PaymentTest::with(())
        .given(partly.clone())
        .when_async(rest(Some(24_950), Some(50)))
        .await
        .then_expect_events(vec![refund_requested("rest", 15_000)]);
    // Asked again: nothing more; nothing left: nothing at all.
    let mut asked = partly.clone();
    asked.push(refund_requested("rest", 30_000));
    PaymentTest::with(())
        .given(asked.clone())
        .when_async(rest(None, None))
        .await
        .then_expect_events(vec![]);
    PaymentTest::with(())
        .given(asked)
        .when_async(PaymentCommand::RequestRefundOfRest {
            refund_id: "another".to_owned(),
            up_to: None,
            share_percent: None,
        })
        .await
        .then_expect_events(vec![]);
}
