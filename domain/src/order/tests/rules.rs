//! The salon's booking rules at their edges: the slot's start, the refund policy's
//! hour boundary, the unpaid hold.

use super::*;

fn terms() -> BookingTerms {
    BookingRules::default().terms(at(8), at(10))
}

/// A booking of 10:00–11:00 made at 08:00 under the default rules (hold until 08:15,
/// full refund up to 24 h ahead, then 50 %).
fn booked_under_rules() -> OrderEvent {
    OrderEvent::OrderPlaced {
        order_id: id(ORDER),
        customer_id: id(CUSTOMER),
        details: booking_details(slot(10, 11)),
        terms: Some(terms()),
    }
}

fn paid_booking() -> Vec<OrderEvent> {
    vec![booked_under_rules(), paid(1_500)]
}

fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

fn cancel(by: Actor, at: DateTime<Utc>, refund: Option<Money>) -> OrderCommand {
    OrderCommand::Cancel {
        reason: "Не смогу".to_owned(),
        refund,
        by,
        at,
    }
}

fn cancelled(by: u8, amount: Option<Money>, decision: CancelDecision) -> OrderEvent {
    OrderEvent::OrderCancelled {
        reason: "Не смогу".to_owned(),
        by: id(by),
        refund: amount.map(|amount| OrderRefund {
            payment_id: id(PAYMENT),
            amount,
        }),
        decision: Some(decision),
    }
}

fn reschedule(by: Actor, at: DateTime<Utc>, reason: Option<&str>) -> OrderCommand {
    OrderCommand::Reschedule {
        slot: slot(12, 13),
        by,
        at,
        reason: reason.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_customer_cancels_until_the_slot_starts_and_not_a_minute_later() {
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(customer(), at(10) - minutes(1), None))
        .await
        .then_expect_events(vec![cancelled(
            CUSTOMER,
            Some(rub(750)),
            CancelDecision::Policy { percent: 50 },
        )]);
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(customer(), at(10) + minutes(1), None))
        .await
        .then_expect_error(OrderError::SlotStarted("cancelled"));
    // Even a no-show staff have not marked yet keeps its money.
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(customer(), at(10), None))
        .await
        .then_expect_error(OrderError::SlotStarted("cancelled"));
    // A booking made before the rules follows the start rule too.
    OrderTest::with(services())
        .given(vec![booked(), paid(1_500)])
        .when_async(cancel(customer(), at(10) + minutes(1), None))
        .await
        .then_expect_error(OrderError::SlotStarted("cancelled"));
}

#[tokio::test]
async fn staff_cancel_after_the_start_choosing_the_refund_and_it_is_recorded_as_an_override() {
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(admin(), at(10) + minutes(1), Some(rub(300))))
        .await
        .then_expect_events(vec![cancelled(
            ADMIN,
            Some(rub(300)),
            CancelDecision::Staff { after_start: true },
        )]);
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(admin(), at(10) - minutes(1), Some(rub(1_500))))
        .await
        .then_expect_events(vec![cancelled(
            ADMIN,
            Some(rub(1_500)),
            CancelDecision::Staff { after_start: false },
        )]);
    // Staff still say how much once paid.
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(admin(), at(10) + minutes(1), None))
        .await
        .then_expect_error(OrderError::RefundNotStated { paid: rub(1_500) });
}

#[tokio::test]
async fn the_refund_is_full_up_to_the_policys_hours_and_a_share_after() {
    let start = at(10);
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(customer(), start - Duration::hours(24), None))
        .await
        .then_expect_events(vec![cancelled(
            CUSTOMER,
            Some(rub(1_500)),
            CancelDecision::Policy { percent: 100 },
        )]);
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(
            customer(),
            start - Duration::hours(24) + minutes(1),
            None,
        ))
        .await
        .then_expect_events(vec![cancelled(
            CUSTOMER,
            Some(rub(750)),
            CancelDecision::Policy { percent: 50 },
        )]);
    // The customer still cannot choose.
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(cancel(
            customer(),
            start - Duration::hours(48),
            Some(rub(1)),
        ))
        .await
        .then_expect_error(OrderError::RefundSetByCustomer);
    // An unpaid booking: nothing to give back.
    OrderTest::with(services())
        .given(vec![booked_under_rules()])
        .when_async(cancel(customer(), start - minutes(1), None))
        .await
        .then_expect_events(vec![cancelled(
            CUSTOMER,
            None,
            CancelDecision::Policy { percent: 50 },
        )]);
}

#[tokio::test]
async fn the_share_applies_to_what_is_left_rounded_half_up_to_kopecks() {
    let refunded = |kopecks: u64| OrderEvent::RefundRecorded {
        payment_id: id(PAYMENT),
        refund_id: "manual-1".to_owned(),
        amount: Money::from_kopecks(kopecks),
    };
    // 1,500.00 − 500.00 = 1,000.00 left: half is 500.00.
    let mut history = paid_booking();
    history.push(refunded(50_000));
    OrderTest::with(services())
        .given(history)
        .when_async(cancel(customer(), at(10) - minutes(1), None))
        .await
        .then_expect_events(vec![cancelled(
            CUSTOMER,
            Some(rub(500)),
            CancelDecision::Policy { percent: 50 },
        )]);
    // 1,499.99 left: half is 749.995, paid back as 750.00.
    let mut history = paid_booking();
    history.push(refunded(1));
    OrderTest::with(services())
        .given(history)
        .when_async(cancel(customer(), at(10) - minutes(1), None))
        .await
        .then_expect_events(vec![cancelled(
            CUSTOMER,
            Some(rub(750)),
            CancelDecision::Policy { percent: 50 },
        )]);
    assert_eq!(
        refund_share(Money::from_kopecks(1), 50),
        Money::from_kopecks(1)
    );
    assert_eq!(
        refund_share(Money::from_kopecks(3), 33),
        Money::from_kopecks(1)
    );
    assert_eq!(refund_share(rub(1_500), 0), Money::ZERO);
    // Everything refunded already: nothing more.
    let mut history = paid_booking();
    history.push(refunded(150_000));
    OrderTest::with(services())
        .given(history)
        .when_async(cancel(customer(), at(10) - minutes(1), None))
        .await
        .then_expect_events(vec![cancelled(
            CUSTOMER,
            None,
            CancelDecision::Policy { percent: 50 },
        )]);
}

#[tokio::test]
async fn a_customer_moves_a_booking_until_its_start_and_staff_after_it_with_a_reason() {
    let moved = |by: u8, after_start: bool, reason: Option<&str>| OrderEvent::BookingRescheduled {
        from: slot(10, 11),
        to: slot(12, 13),
        by: Some(id(by)),
        after_start,
        reason: reason.map(str::to_owned),
        late: false,
    };
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(reschedule(customer(), at(10) - minutes(1), None))
        .await
        .then_expect_events(vec![OrderEvent::BookingRescheduled {
            from: slot(10, 11),
            to: slot(12, 13),
            by: Some(id(CUSTOMER)),
            after_start: false,
            reason: None,
            late: true,
        }]);
    // Early enough for a full refund: not a late move.
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(reschedule(customer(), at(10) - Duration::hours(24), None))
        .await
        .then_expect_events(vec![moved(CUSTOMER, false, None)]);
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(reschedule(customer(), at(10) + minutes(1), None))
        .await
        .then_expect_error(OrderError::SlotStarted("moved"));
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(reschedule(admin(), at(10) - minutes(1), None))
        .await
        .then_expect_events(vec![moved(ADMIN, false, None)]);
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(reschedule(admin(), at(10) + minutes(1), None))
        .await
        .then_expect_error(OrderError::Invalid {
            field: "reason",
            rule: "given when moving a booking whose slot has started",
        });
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(reschedule(admin(), at(10) + minutes(1), Some("Опоздала")))
        .await
        .then_expect_events(vec![moved(ADMIN, true, Some("Опоздала"))]);
    // Never into the past.
    OrderTest::with(services())
        .given(paid_booking())
        .when_async(reschedule(admin(), at(12) + minutes(1), Some("Опоздала")))
        .await
        .then_expect_error(OrderError::Invalid {
            field: "slot",
            rule: "a start in the future",
        });
}

#[tokio::test]
async fn a_booking_moved_late_refunds_at_most_the_late_share_however_far_it_went() {
    let far = Slot {
        start: at(10) + Duration::days(3),
        end: at(11) + Duration::days(3),
    };
    let mut history = paid_booking();
    history.push(OrderEvent::BookingRescheduled {
        from: slot(10, 11),
        to: far,
        by: Some(id(CUSTOMER)),
        after_start: false,
        reason: None,
        late: true,
    });
    OrderTest::with(services())
        .given(history)
        .when_async(cancel(customer(), at(10), None))
        .await
        .then_expect_events(vec![cancelled(
            CUSTOMER,
            Some(rub(750)),
            CancelDecision::Policy { percent: 50 },
        )]);
}

#[tokio::test]
async fn an_unpaid_booking_is_released_once_its_hold_has_passed() {
    let release = |at| OrderCommand::ReleaseUnpaidHold { at };
    let hold_until = at(8) + minutes(15);
    OrderTest::with(services())
        .given(vec![booked_under_rules()])
        .when_async(release(hold_until - minutes(1)))
        .await
        .then_expect_error(OrderError::HoldNotExpired(hold_until));
    OrderTest::with(services())
        .given(vec![booked_under_rules()])
        .when_async(release(hold_until))
        .await
        .then_expect_events(vec![OrderEvent::OrderCancelled {
            reason: NOT_PAID_IN_TIME.to_owned(),
            by: Uuid::nil(),
            refund: None,
            decision: Some(CancelDecision::HoldExpired),
        }]);
    // Paid, already cancelled, or made before the rules: left alone.
    for history in [
        paid_booking(),
        vec![
            booked_under_rules(),
            cancelled(CUSTOMER, None, CancelDecision::Policy { percent: 100 }),
        ],
        vec![booked()],
        // At the checkout when the hold ran out: kept until that payment ends.
        vec![booked_under_rules(), opened(PAYMENT)],
    ] {
        OrderTest::with(services())
            .given(history)
            .when_async(release(hold_until + minutes(1)))
            .await
            .then_expect_events(vec![]);
    }
}

#[test]
fn a_hold_never_runs_past_the_slot_start() {
    let soon = BookingRules::default().terms(at(8), at(8) + minutes(5));
    assert_eq!(soon.hold_until, at(8) + minutes(5));
    assert_eq!(terms().hold_until, at(8) + minutes(15));
}

#[test]
fn a_share_is_rounded_half_up_within_what_is_left() {
    assert_eq!(
        refund_share(Money::from_kopecks(150_000), 50),
        Money::from_kopecks(75_000)
    );
    assert_eq!(
        refund_share(Money::from_kopecks(1), 50),
        Money::from_kopecks(1)
    );
}

#[tokio::test]
async fn only_bookings_keep_terms_and_the_terms_are_sane() {
    let place = |details, terms| OrderCommand::Place {
        order_id: id(ORDER),
        customer_id: id(CUSTOMER),
        details,
        terms,
    };
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(place(OrderDetails::Coursework(brief()), Some(terms())))
        .await
        .then_expect_events(vec![coursework_placed()]);
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(place(booking_details(slot(10, 11)), Some(terms())))
        .await
        .then_expect_events(vec![booked_under_rules()]);
    let greedy = BookingTerms {
        late_refund_percent: 101,
        ..terms()
    };
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(place(booking_details(slot(10, 11)), Some(greedy)))
        .await
        .then_expect_error(OrderError::Invalid {
            field: "terms",
            rule: "a refund percentage of at most 100",
        });
}
