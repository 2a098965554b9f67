use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::DomainEvent;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::money::Money;
use crate::permissions::Role;

/// An in-memory calendar: the slots already taken, per master and order.
#[derive(Default)]
struct Calendar {
    taken: Mutex<Vec<(Uuid, Slot, Uuid)>>,
}

impl SlotCalendar for Calendar {
    fn is_free<'a>(
        &'a self,
        master_id: Uuid,
        slot: &'a Slot,
        order_id: Uuid,
    ) -> Pin<Box<dyn Future<Output = Result<bool, SlotCheckError>> + Send + 'a>> {
        let free = self
            .taken
            .lock()
            .map(|taken| {
                !taken.iter().any(|(master, other, order)| {
                    *master == master_id && *order != order_id && other.overlaps(slot)
                })
            })
            .map_err(|_| SlotCheckError("calendar lock poisoned".to_owned()));
        Box::pin(async move { free })
    }
}

fn services_with(taken: Vec<(Uuid, Slot, Uuid)>) -> OrderServices {
    OrderServices {
        calendar: Arc::new(Calendar {
            taken: Mutex::new(taken),
        }),
    }
}

fn services() -> OrderServices {
    services_with(vec![])
}

type OrderTest = TestFramework<Order>;

fn id(n: u8) -> Uuid {
    Uuid::parse_str(&format!("0193a1b2-0000-7000-8000-0000000000{n:02x}")).expect("uuid")
}

const ORDER: u8 = 1;
const CUSTOMER: u8 = 2;
const ADMIN: u8 = 3;
const EXECUTOR: u8 = 4;
const MASTER: u8 = 5;
const STRANGER: u8 = 6;
const PAYMENT: u8 = 7;
const FILE: u8 = 8;

fn customer() -> Actor {
    Actor {
        user_id: id(CUSTOMER),
        role: Role::Client,
    }
}
fn admin() -> Actor {
    Actor {
        user_id: id(ADMIN),
        role: Role::Admin,
    }
}
fn executor() -> Actor {
    Actor {
        user_id: id(EXECUTOR),
        role: Role::Executor,
    }
}
fn master() -> Actor {
    Actor {
        user_id: id(MASTER),
        role: Role::Executor,
    }
}
fn stranger() -> Actor {
    Actor {
        user_id: id(STRANGER),
        role: Role::Client,
    }
}

fn rub(roubles: u64) -> Money {
    Money::from_kopecks(roubles * 100)
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, hour, 0, 0)
        .single()
        .expect("a valid time")
}

fn brief() -> Coursework {
    Coursework {
        subject: "Эконометрика".to_owned(),
        work_type: "курсовая".to_owned(),
        volume: 30,
        deadline: at(18) + Duration::days(14),
        files: vec!["BQACAgIAAxkBAAIC".to_owned()],
        attachments: vec![],
        max_revisions: 2,
    }
}

fn coursework_placed() -> OrderEvent {
    OrderEvent::OrderPlaced {
        order_id: id(ORDER),
        customer_id: id(CUSTOMER),
        details: OrderDetails::Coursework(brief()),
        terms: None,
    }
}

fn quoted(price: u64) -> OrderEvent {
    OrderEvent::PriceQuoted {
        price: rub(price),
        by: id(ADMIN),
    }
}

fn paid(amount: u64) -> OrderEvent {
    OrderEvent::OrderPaid {
        payment_id: id(PAYMENT),
        amount: rub(amount),
    }
}

fn assigned() -> OrderEvent {
    OrderEvent::ExecutorAssigned {
        executor_id: id(EXECUTOR),
        taken_from_pool: false,
        by: id(ADMIN),
    }
}

fn submitted() -> OrderEvent {
    OrderEvent::ResultSubmitted {
        files: vec!["BQACAgIAAxkBAAID".to_owned()],
        attachments: vec![],
        note: Some("Готово".to_owned()),
    }
}

/// Coursework up to the given point of its life.
fn coursework_until(last: &str) -> Vec<OrderEvent> {
    let steps = [
        ("placed", coursework_placed()),
        ("quoted", quoted(5_000)),
        (
            "accepted_quote",
            OrderEvent::QuoteAccepted { by: id(CUSTOMER) },
        ),
        ("paid", paid(5_000)),
        ("assigned", assigned()),
        ("started", OrderEvent::WorkStarted { by: id(EXECUTOR) }),
        ("submitted", submitted()),
        ("accepted", OrderEvent::ResultAccepted { by: id(CUSTOMER) }),
        ("completed", OrderEvent::OrderCompleted { by: id(ADMIN) }),
    ];
    let mut history = Vec::new();
    for (name, event) in steps {
        history.push(event);
        if name == last {
            return history;
        }
    }
    panic!("no step {last}")
}

fn slot(start: u32, end: u32) -> Slot {
    Slot {
        start: at(start),
        end: at(end),
    }
}

fn booking_details(slot: Slot) -> OrderDetails {
    OrderDetails::Booking {
        service_id: "haircut".to_owned(),
        service_name: "Стрижка".to_owned(),
        master_id: id(MASTER),
        slot,
        price: rub(1_500),
    }
}

fn booked() -> OrderEvent {
    OrderEvent::OrderPlaced {
        order_id: id(ORDER),
        customer_id: id(CUSTOMER),
        details: booking_details(slot(10, 11)),
        terms: None,
    }
}

fn shop_details(total: Money) -> OrderDetails {
    OrderDetails::Shop {
        lines: vec![
            LineItem {
                product_id: "tea-1".to_owned(),
                name: "Чай".to_owned(),
                quantity: 3,
                unit_price: Money::from_kopecks(19_950),
            },
            LineItem {
                product_id: "cup-2".to_owned(),
                name: "Кружка".to_owned(),
                quantity: 1,
                unit_price: rub(450),
            },
        ],
        total,
        delivery: Delivery {
            recipient: "Анна".to_owned(),
            phone: "+79990000000".to_owned(),
            address: "Москва, Тверская 1".to_owned(),
        },
    }
}

fn shop_placed() -> OrderEvent {
    OrderEvent::OrderPlaced {
        order_id: id(ORDER),
        customer_id: id(CUSTOMER),
        details: shop_details(Money::from_kopecks(104_850)),
        terms: None,
    }
}

// ---- one open payment per order ---------------------------------------------

fn opened(payment: u8) -> OrderEvent {
    OrderEvent::PaymentOpened {
        payment_id: id(payment),
        by: id(CUSTOMER),
    }
}

fn open_payment(payment: u8, by: Actor) -> OrderCommand {
    OrderCommand::OpenPayment {
        payment_id: id(payment),
        by,
    }
}

#[tokio::test]
async fn an_order_waits_for_one_payment_at_a_time() {
    OrderTest::with(services())
        .given(vec![shop_placed()])
        .when_async(open_payment(PAYMENT, customer()))
        .await
        .then_expect_events(vec![opened(PAYMENT)]);
    // The same payment again is a repeat; another is refused while it is open.
    OrderTest::with(services())
        .given(vec![shop_placed(), opened(PAYMENT)])
        .when_async(open_payment(PAYMENT, customer()))
        .await
        .then_expect_events(vec![]);
    OrderTest::with(services())
        .given(vec![shop_placed(), opened(PAYMENT)])
        .when_async(open_payment(STRANGER, customer()))
        .await
        .then_expect_error(OrderError::PaymentOpen(id(PAYMENT)));
    // Released (cancelled at the provider), another may be started.
    let released = OrderEvent::PaymentReleased {
        payment_id: id(PAYMENT),
    };
    OrderTest::with(services())
        .given(vec![shop_placed(), opened(PAYMENT), released.clone()])
        .when_async(open_payment(STRANGER, customer()))
        .await
        .then_expect_events(vec![opened(STRANGER)]);
    // A released payment never pays: it is not opened again.
    OrderTest::with(services())
        .given(vec![shop_placed(), opened(PAYMENT), released.clone()])
        .when_async(open_payment(PAYMENT, customer()))
        .await
        .then_expect_error(OrderError::PaymentReleased(id(PAYMENT)));
    // Releasing another payment, or again, changes nothing.
    OrderTest::with(services())
        .given(vec![shop_placed(), opened(PAYMENT)])
        .when_async(OrderCommand::ReleasePayment {
            payment_id: id(STRANGER),
        })
        .await
        .then_expect_events(vec![]);
    OrderTest::with(services())
        .given(vec![shop_placed(), opened(PAYMENT)])
        .when_async(OrderCommand::ReleasePayment {
            payment_id: id(PAYMENT),
        })
        .await
        .then_expect_events(vec![released]);
}

#[tokio::test]
async fn only_the_customer_opens_a_payment_and_only_while_one_is_due() {
    OrderTest::with(services())
        .given(vec![shop_placed()])
        .when_async(open_payment(PAYMENT, stranger()))
        .await
        .then_expect_error(OrderError::NotTheCustomer("pay for the order"));
    OrderTest::with(services())
        .given(vec![coursework_placed()])
        .when_async(open_payment(PAYMENT, customer()))
        .await
        .then_expect_error(OrderError::WrongState {
            kind: Kind::Coursework,
            status: OrderStatus::Placed,
            action: "be paid",
        });
    let paid = OrderEvent::OrderPaid {
        payment_id: id(PAYMENT),
        amount: Money::from_kopecks(104_850),
    };
    OrderTest::with(services())
        .given(vec![shop_placed(), opened(PAYMENT), paid])
        .when_async(open_payment(STRANGER, customer()))
        .await
        .then_expect_error(OrderError::AlreadyPaid(id(PAYMENT)));
}

// ---- coursework -------------------------------------------------------------

#[tokio::test]
async fn a_coursework_order_goes_from_brief_to_review() {
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(OrderCommand::Place {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details: OrderDetails::Coursework(brief()),
            terms: None,
        })
        .await
        .then_expect_events(vec![coursework_placed()]);
    OrderTest::with(services())
        .given(coursework_until("placed"))
        .when_async(OrderCommand::Quote {
            price: rub(5_000),
            by: admin(),
        })
        .await
        .then_expect_events(vec![quoted(5_000)]);
    OrderTest::with(services())
        .given(coursework_until("quoted"))
        .when_async(OrderCommand::AcceptQuote { by: customer() })
        .await
        .then_expect_events(vec![OrderEvent::QuoteAccepted { by: id(CUSTOMER) }]);
    OrderTest::with(services())
        .given(coursework_until("accepted_quote"))
        .when_async(OrderCommand::MarkPaid {
            payment_id: id(PAYMENT),
            amount: rub(5_000),
        })
        .await
        .then_expect_events(vec![paid(5_000)]);
    OrderTest::with(services())
        .given(coursework_until("paid"))
        .when_async(OrderCommand::AssignExecutor {
            executor_id: id(EXECUTOR),
            by: admin(),
        })
        .await
        .then_expect_events(vec![assigned()]);
    OrderTest::with(services())
        .given(coursework_until("assigned"))
        .when_async(OrderCommand::Start { by: executor() })
        .await
        .then_expect_events(vec![OrderEvent::WorkStarted { by: id(EXECUTOR) }]);
    OrderTest::with(services())
        .given(coursework_until("started"))
        .when_async(OrderCommand::SubmitResult {
            files: vec!["BQACAgIAAxkBAAID".to_owned()],
            attachments: vec![],
            note: Some("Готово".to_owned()),
            by: executor(),
        })
        .await
        .then_expect_events(vec![submitted()]);
    OrderTest::with(services())
        .given(coursework_until("submitted"))
        .when_async(OrderCommand::Accept { by: customer() })
        .await
        .then_expect_events(vec![OrderEvent::ResultAccepted { by: id(CUSTOMER) }]);
    OrderTest::with(services())
        .given(coursework_until("accepted"))
        .when_async(OrderCommand::Complete { by: admin() })
        .await
        .then_expect_events(vec![OrderEvent::OrderCompleted { by: id(ADMIN) }]);
    OrderTest::with(services())
        .given(coursework_until("completed"))
        .when_async(OrderCommand::Review {
            stars: 5,
            text: Some("Отлично".to_owned()),
            by: customer(),
        })
        .await
        .then_expect_events(vec![OrderEvent::OrderReviewed {
            stars: 5,
            text: Some("Отлично".to_owned()),
        }]);
}

#[tokio::test]
async fn a_command_in_the_wrong_state_is_refused_naming_the_state() {
    OrderTest::with(services())
        .given(coursework_until("placed"))
        .when_async(OrderCommand::Start { by: executor() })
        .await
        .then_expect_error_message("a Coursework order that is placed cannot be started");
    OrderTest::with(services())
        .given(coursework_until("quoted"))
        .when_async(OrderCommand::MarkPaid {
            payment_id: id(PAYMENT),
            amount: rub(5_000),
        })
        .await
        .then_expect_error(OrderError::WrongState {
            kind: Kind::Coursework,
            status: OrderStatus::Quoted,
            action: "be paid",
        });
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(OrderCommand::AcceptQuote { by: customer() })
        .await
        .then_expect_error(OrderError::NotPlaced);
}

#[tokio::test]
async fn an_executor_takes_a_paid_order_from_the_pool() {
    OrderTest::with(services())
        .given(coursework_until("paid"))
        .when_async(OrderCommand::TakeOrder { by: executor() })
        .await
        .then_expect_events(vec![OrderEvent::ExecutorAssigned {
            executor_id: id(EXECUTOR),
            taken_from_pool: true,
            by: id(EXECUTOR),
        }]);
    OrderTest::with(services())
        .given(coursework_until("paid"))
        .when_async(OrderCommand::TakeOrder { by: customer() })
        .await
        .then_expect_error(OrderError::NotAllowed(Role::Client, "take orders"));
    OrderTest::with(services())
        .given(coursework_until("assigned"))
        .when_async(OrderCommand::TakeOrder { by: executor() })
        .await
        .then_expect_error(OrderError::WrongState {
            kind: Kind::Coursework,
            status: OrderStatus::Assigned,
            action: "be taken",
        });
}

#[tokio::test]
async fn only_the_customer_accepts_and_only_the_assigned_executor_submits() {
    OrderTest::with(services())
        .given(coursework_until("quoted"))
        .when_async(OrderCommand::AcceptQuote { by: stranger() })
        .await
        .then_expect_error(OrderError::NotTheCustomer("accept the price"));
    OrderTest::with(services())
        .given(coursework_until("submitted"))
        .when_async(OrderCommand::Accept { by: stranger() })
        .await
        .then_expect_error(OrderError::NotTheCustomer("accept the result"));
    let other_executor = Actor {
        user_id: id(STRANGER),
        role: Role::Executor,
    };
    OrderTest::with(services())
        .given(coursework_until("started"))
        .when_async(OrderCommand::SubmitResult {
            files: vec!["f".to_owned()],
            attachments: vec![],
            note: None,
            by: other_executor,
        })
        .await
        .then_expect_error(OrderError::NotTheExecutor("submit the result"));
    OrderTest::with(services())
        .given(coursework_until("assigned"))
        .when_async(OrderCommand::Start { by: other_executor })
        .await
        .then_expect_error(OrderError::NotTheExecutor("start the work"));
}

#[tokio::test]
async fn prices_are_positive_and_payments_match_them() {
    OrderTest::with(services())
        .given(coursework_until("placed"))
        .when_async(OrderCommand::Quote {
            price: Money::ZERO,
            by: admin(),
        })
        .await
        .then_expect_error(OrderError::Invalid {
            field: "price",
            rule: "more than 0.00",
        });
    OrderTest::with(services())
        .given(coursework_until("placed"))
        .when_async(OrderCommand::Quote {
            price: rub(10),
            by: customer(),
        })
        .await
        .then_expect_error(OrderError::NotAllowed(Role::Client, "quote prices"));
    OrderTest::with(services())
        .given(coursework_until("accepted_quote"))
        .when_async(OrderCommand::MarkPaid {
            payment_id: id(PAYMENT),
            amount: rub(4_999),
        })
        .await
        .then_expect_error(OrderError::AmountMismatch {
            expected: rub(5_000),
            paid: rub(4_999),
        });
    // The same payment reported again changes nothing.
    OrderTest::with(services())
        .given(coursework_until("paid"))
        .when_async(OrderCommand::MarkPaid {
            payment_id: id(PAYMENT),
            amount: rub(5_000),
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn revisions_are_limited() {
    let mut history = coursework_until("submitted");
    let revise = OrderCommand::RequestRevision {
        reason: "Добавьте выводы".to_owned(),
        by: customer(),
    };
    OrderTest::with(services())
        .given(history.clone())
        .when_async(revise.clone())
        .await
        .then_expect_events(vec![OrderEvent::RevisionRequested {
            reason: "Добавьте выводы".to_owned(),
            revision: 1,
        }]);
    for revision in 1..=2 {
        history.push(OrderEvent::RevisionRequested {
            reason: "Добавьте выводы".to_owned(),
            revision,
        });
        history.push(OrderEvent::WorkStarted { by: id(EXECUTOR) });
        history.push(submitted());
    }
    OrderTest::with(services())
        .given(history)
        .when_async(revise)
        .await
        .then_expect_error(OrderError::NoRevisionsLeft(2));
    OrderTest::with(services())
        .given(coursework_until("submitted"))
        .when_async(OrderCommand::RequestRevision {
            reason: "x".to_owned(),
            by: stranger(),
        })
        .await
        .then_expect_error(OrderError::NotTheCustomer("ask for a revision"));
}

#[tokio::test]
async fn cancelling_says_what_happens_to_the_money() {
    OrderTest::with(services())
        .given(coursework_until("quoted"))
        .when_async(OrderCommand::Cancel {
            reason: "Передумал".to_owned(),
            refund: None,
            by: customer(),
            at: at(8),
        })
        .await
        .then_expect_events(vec![OrderEvent::OrderCancelled {
            reason: "Передумал".to_owned(),
            by: id(CUSTOMER),
            refund: None,
            decision: Some(CancelDecision::Policy { percent: 100 }),
        }]);
    OrderTest::with(services())
        .given(coursework_until("started"))
        .when_async(OrderCommand::Cancel {
            reason: "Передумал".to_owned(),
            refund: None,
            by: customer(),
            at: at(8),
        })
        .await
        .then_expect_error(OrderError::WrongState {
            kind: Kind::Coursework,
            status: OrderStatus::InProgress,
            action: "be cancelled by the customer (ask support)",
        });
    OrderTest::with(services())
        .given(coursework_until("started"))
        .when_async(OrderCommand::Cancel {
            reason: "Исполнитель заболел".to_owned(),
            refund: None,
            by: admin(),
            at: at(8),
        })
        .await
        .then_expect_error(OrderError::RefundNotStated { paid: rub(5_000) });
    OrderTest::with(services())
        .given(coursework_until("started"))
        .when_async(OrderCommand::Cancel {
            reason: "Исполнитель заболел".to_owned(),
            refund: Some(rub(6_000)),
            by: admin(),
            at: at(8),
        })
        .await
        .then_expect_error(OrderError::RefundTooLarge {
            refund: rub(6_000),
            paid: rub(5_000),
        });
    OrderTest::with(services())
        .given(coursework_until("started"))
        .when_async(OrderCommand::Cancel {
            reason: "Исполнитель заболел".to_owned(),
            refund: Some(rub(5_000)),
            by: admin(),
            at: at(8),
        })
        .await
        .then_expect_events(vec![OrderEvent::OrderCancelled {
            reason: "Исполнитель заболел".to_owned(),
            by: id(ADMIN),
            refund: Some(OrderRefund {
                payment_id: id(PAYMENT),
                amount: rub(5_000),
            }),
            decision: Some(CancelDecision::Staff { after_start: false }),
        }]);
    OrderTest::with(services())
        .given(coursework_until("completed"))
        .when_async(OrderCommand::Cancel {
            reason: "x".to_owned(),
            refund: Some(rub(1)),
            by: admin(),
            at: at(8),
        })
        .await
        .then_expect_error(OrderError::WrongState {
            kind: Kind::Coursework,
            status: OrderStatus::Completed,
            action: "be cancelled",
        });
    OrderTest::with(services())
        .given(coursework_until("placed"))
        .when_async(OrderCommand::Cancel {
            reason: "x".to_owned(),
            refund: None,
            by: stranger(),
            at: at(8),
        })
        .await
        .then_expect_error(OrderError::NotAllowed(
            Role::Client,
            "cancel others' orders",
        ));
}

#[tokio::test]
async fn a_review_is_given_once_after_completion_by_the_customer() {
    let mut reviewed = coursework_until("completed");
    reviewed.push(OrderEvent::OrderReviewed {
        stars: 4,
        text: None,
    });
    OrderTest::with(services())
        .given(reviewed)
        .when_async(OrderCommand::Review {
            stars: 5,
            text: None,
            by: customer(),
        })
        .await
        .then_expect_error(OrderError::AlreadyReviewed);
    OrderTest::with(services())
        .given(coursework_until("accepted"))
        .when_async(OrderCommand::Review {
            stars: 5,
            text: None,
            by: customer(),
        })
        .await
        .then_expect_error(OrderError::WrongState {
            kind: Kind::Coursework,
            status: OrderStatus::Accepted,
            action: "be reviewed",
        });
    OrderTest::with(services())
        .given(coursework_until("completed"))
        .when_async(OrderCommand::Review {
            stars: 0,
            text: None,
            by: customer(),
        })
        .await
        .then_expect_error(OrderError::Invalid {
            field: "rating",
            rule: "1 to 5 stars",
        });
    OrderTest::with(services())
        .given(coursework_until("completed"))
        .when_async(OrderCommand::Review {
            stars: 5,
            text: None,
            by: stranger(),
        })
        .await
        .then_expect_error(OrderError::NotTheCustomer("review the order"));
}

#[tokio::test]
async fn internal_notes_come_from_staff_in_any_state() {
    OrderTest::with(services())
        .given(coursework_until("completed"))
        .when_async(OrderCommand::AddInternalNote {
            text: "Клиент просил скидку".to_owned(),
            by: admin(),
        })
        .await
        .then_expect_events(vec![OrderEvent::InternalNoteAdded {
            author_id: id(ADMIN),
            text: "Клиент просил скидку".to_owned(),
        }]);
    OrderTest::with(services())
        .given(coursework_until("placed"))
        .when_async(OrderCommand::AddInternalNote {
            text: "x".to_owned(),
            by: customer(),
        })
        .await
        .then_expect_error(OrderError::NotAllowed(Role::Client, "add internal notes"));
}

// ---- shop -------------------------------------------------------------------

#[tokio::test]
async fn a_shop_order_computes_its_total_and_goes_to_delivery() {
    // The total given by the caller is ignored: 3 × 199.50 + 450.00 = 1048.50.
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(OrderCommand::Place {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details: shop_details(rub(1)),
            terms: None,
        })
        .await
        .then_expect_events(vec![shop_placed()]);
    let paid_shop = vec![
        shop_placed(),
        OrderEvent::OrderPaid {
            payment_id: id(PAYMENT),
            amount: Money::from_kopecks(104_850),
        },
    ];
    OrderTest::with(services())
        .given(vec![shop_placed()])
        .when_async(OrderCommand::MarkPaid {
            payment_id: id(PAYMENT),
            amount: Money::from_kopecks(104_850),
        })
        .await
        .then_expect_events(vec![paid_shop[1].clone()]);
    OrderTest::with(services())
        .given(paid_shop.clone())
        .when_async(OrderCommand::Ship {
            tracking: "RA123456789RU".to_owned(),
            by: admin(),
        })
        .await
        .then_expect_events(vec![OrderEvent::OrderShipped {
            tracking: "RA123456789RU".to_owned(),
        }]);
    let mut shipped = paid_shop;
    shipped.push(OrderEvent::OrderShipped {
        tracking: "RA123456789RU".to_owned(),
    });
    OrderTest::with(services())
        .given(shipped.clone())
        .when_async(OrderCommand::ConfirmDelivery { by: customer() })
        .await
        .then_expect_events(vec![OrderEvent::DeliveryConfirmed { by: id(CUSTOMER) }]);
    OrderTest::with(services())
        .given(shipped.clone())
        .when_async(OrderCommand::ConfirmDelivery { by: admin() })
        .await
        .then_expect_events(vec![OrderEvent::DeliveryConfirmed { by: id(ADMIN) }]);
    OrderTest::with(services())
        .given(shipped.clone())
        .when_async(OrderCommand::ConfirmDelivery { by: stranger() })
        .await
        .then_expect_error(OrderError::NotTheCustomer("confirm the delivery"));
    let mut delivered = shipped;
    delivered.push(OrderEvent::DeliveryConfirmed { by: id(CUSTOMER) });
    OrderTest::with(services())
        .given(delivered)
        .when_async(OrderCommand::Complete { by: admin() })
        .await
        .then_expect_events(vec![OrderEvent::OrderCompleted { by: id(ADMIN) }]);
}

#[tokio::test]
async fn shop_lines_are_checked() {
    let mut details = shop_details(rub(1));
    if let OrderDetails::Shop { lines, .. } = &mut details {
        lines[0].quantity = 0;
    }
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(OrderCommand::Place {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details,
            terms: None,
        })
        .await
        .then_expect_error(OrderError::Invalid {
            field: "quantity",
            rule: "at least 1",
        });
    let mut free = shop_details(rub(1));
    if let OrderDetails::Shop { lines, .. } = &mut free {
        lines[1].unit_price = Money::ZERO;
    }
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(OrderCommand::Place {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details: free,
            terms: None,
        })
        .await
        .then_expect_error(OrderError::Invalid {
            field: "unit price",
            rule: "more than 0.00",
        });
    OrderTest::with(services())
        .given(vec![shop_placed()])
        .when_async(OrderCommand::Ship {
            tracking: "RA1".to_owned(),
            by: admin(),
        })
        .await
        .then_expect_error(OrderError::WrongState {
            kind: Kind::Shop,
            status: OrderStatus::AwaitingPayment,
            action: "be shipped",
        });
}

// ---- bookings ---------------------------------------------------------------

#[tokio::test]
async fn a_booking_needs_a_free_slot() {
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(OrderCommand::Place {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details: booking_details(slot(10, 11)),
            terms: None,
        })
        .await
        .then_expect_events(vec![booked()]);
    // Another order holds 10:30–11:30 with the same master.
    let busy = services_with(vec![(
        id(MASTER),
        Slot {
            start: at(10) + Duration::minutes(30),
            end: at(11) + Duration::minutes(30),
        },
        id(99),
    )]);
    OrderTest::with(busy)
        .given_no_previous_events()
        .when_async(OrderCommand::Place {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details: booking_details(slot(10, 11)),
            terms: None,
        })
        .await
        .then_expect_error(OrderError::SlotTaken);
    OrderTest::with(services())
        .given_no_previous_events()
        .when_async(OrderCommand::Place {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details: booking_details(slot(11, 10)),
            terms: None,
        })
        .await
        .then_expect_error(OrderError::Invalid {
            field: "slot",
            rule: "a start before its end",
        });
}

#[tokio::test]
async fn a_booking_is_rescheduled_to_a_free_slot_only() {
    OrderTest::with(services())
        .given(vec![booked()])
        .when_async(OrderCommand::Reschedule {
            slot: slot(12, 13),
            by: customer(),
            at: at(8),
            reason: None,
        })
        .await
        .then_expect_events(vec![OrderEvent::BookingRescheduled {
            from: slot(10, 11),
            to: slot(12, 13),
            by: Some(id(CUSTOMER)),
            after_start: false,
            reason: None,
            late: false,
        }]);
    let busy = services_with(vec![(id(MASTER), slot(12, 13), id(99))]);
    OrderTest::with(busy)
        .given(vec![booked()])
        .when_async(OrderCommand::Reschedule {
            slot: slot(12, 13),
            by: customer(),
            at: at(8),
            reason: None,
        })
        .await
        .then_expect_error(OrderError::SlotTaken);
    // The price was for an hour: a longer slot is a new booking.
    OrderTest::with(services())
        .given(vec![booked()])
        .when_async(OrderCommand::Reschedule {
            slot: slot(12, 15),
            by: customer(),
            at: at(8),
            reason: None,
        })
        .await
        .then_expect_error(OrderError::Invalid {
            field: "slot",
            rule: "as long as the booked one",
        });
    // Its own slot does not count as taken.
    let own = services_with(vec![(id(MASTER), slot(10, 11), id(ORDER))]);
    OrderTest::with(own)
        .given(vec![booked()])
        .when_async(OrderCommand::Reschedule {
            slot: Slot {
                start: at(10) + Duration::minutes(30),
                end: at(11) + Duration::minutes(30),
            },
            by: admin(),
            at: at(8),
            reason: None,
        })
        .await
        .then_expect_events(vec![OrderEvent::BookingRescheduled {
            from: slot(10, 11),
            to: Slot {
                start: at(10) + Duration::minutes(30),
                end: at(11) + Duration::minutes(30),
            },
            by: Some(id(ADMIN)),
            after_start: false,
            reason: None,
            late: false,
        }]);
}

#[tokio::test]
async fn a_booking_is_paid_completed_or_marked_as_a_no_show() {
    OrderTest::with(services())
        .given(vec![booked()])
        .when_async(OrderCommand::MarkPaid {
            payment_id: id(PAYMENT),
            amount: rub(1_500),
        })
        .await
        .then_expect_events(vec![paid(1_500)]);
    OrderTest::with(services())
        .given(vec![booked()])
        .when_async(OrderCommand::Complete { by: master() })
        .await
        .then_expect_events(vec![OrderEvent::OrderCompleted { by: id(MASTER) }]);
    OrderTest::with(services())
        .given(vec![booked()])
        .when_async(OrderCommand::Complete { by: stranger() })
        .await
        .then_expect_error(OrderError::NotAllowed(Role::Client, "complete orders"));
    OrderTest::with(services())
        .given(vec![booked()])
        .when_async(OrderCommand::MarkNoShow {
            at: at(10) + Duration::minutes(20),
            by: master(),
        })
        .await
        .then_expect_events(vec![OrderEvent::NoShowMarked { by: id(MASTER) }]);
    OrderTest::with(services())
        .given(vec![booked()])
        .when_async(OrderCommand::MarkNoShow {
            at: at(9),
            by: master(),
        })
        .await
        .then_expect_error(OrderError::SlotNotStarted);
    OrderTest::with(services())
        .given(vec![booked()])
        .when_async(OrderCommand::Cancel {
            reason: "Не успеваю".to_owned(),
            refund: None,
            by: customer(),
            at: at(8),
        })
        .await
        .then_expect_events(vec![OrderEvent::OrderCancelled {
            reason: "Не успеваю".to_owned(),
            by: id(CUSTOMER),
            refund: None,
            decision: Some(CancelDecision::Policy { percent: 100 }),
        }]);
}

#[tokio::test]
async fn a_paid_order_refuses_a_second_payment() {
    let paid_booking = vec![booked(), paid(1_500)];
    OrderTest::with(services())
        .given(paid_booking.clone())
        .when_async(OrderCommand::MarkPaid {
            payment_id: id(99),
            amount: rub(1_500),
        })
        .await
        .then_expect_error(OrderError::AlreadyPaid(id(PAYMENT)));
    OrderTest::with(services())
        .given(paid_booking)
        .when_async(OrderCommand::MarkPaid {
            payment_id: id(PAYMENT),
            amount: rub(1_500),
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn a_customer_cancelling_a_paid_booking_gets_it_all_back_and_cannot_choose_otherwise() {
    let paid_booking = vec![booked(), paid(1_500)];
    OrderTest::with(services())
        .given(paid_booking.clone())
        .when_async(OrderCommand::Cancel {
            reason: "Заболела".to_owned(),
            refund: None,
            by: customer(),
            at: at(8),
        })
        .await
        .then_expect_events(vec![OrderEvent::OrderCancelled {
            reason: "Заболела".to_owned(),
            by: id(CUSTOMER),
            refund: Some(OrderRefund {
                payment_id: id(PAYMENT),
                amount: rub(1_500),
            }),
            decision: Some(CancelDecision::Policy { percent: 100 }),
        }]);
    OrderTest::with(services())
        .given(paid_booking)
        .when_async(OrderCommand::Cancel {
            reason: "Заболела".to_owned(),
            refund: Some(rub(100)),
            by: customer(),
            at: at(8),
        })
        .await
        .then_expect_error(OrderError::RefundSetByCustomer);
}

#[test]
fn every_event_variant_has_a_stable_json_shape() {
    let events = [
        coursework_placed(),
        shop_placed(),
        booked(),
        quoted(5_000),
        OrderEvent::QuoteAccepted { by: id(CUSTOMER) },
        paid(5_000),
        assigned(),
        OrderEvent::WorkStarted { by: id(EXECUTOR) },
        submitted(),
        OrderEvent::RevisionRequested {
            reason: "Добавьте выводы".to_owned(),
            revision: 1,
        },
        OrderEvent::ResultAccepted { by: id(CUSTOMER) },
        OrderEvent::OrderShipped {
            tracking: "RA123456789RU".to_owned(),
        },
        OrderEvent::DeliveryConfirmed { by: id(CUSTOMER) },
        OrderEvent::OrderCompleted { by: id(ADMIN) },
        OrderEvent::OrderCancelled {
            reason: "Передумал".to_owned(),
            by: id(CUSTOMER),
            refund: Some(OrderRefund {
                payment_id: id(PAYMENT),
                amount: rub(5_000),
            }),
            decision: None,
        },
        OrderEvent::BookingRescheduled {
            from: slot(10, 11),
            to: slot(12, 13),
            by: None,
            after_start: false,
            reason: None,
            late: false,
        },
        OrderEvent::NoShowMarked { by: id(MASTER) },
        OrderEvent::OrderReviewed {
            stars: 5,
            text: Some("Отлично".to_owned()),
        },
        OrderEvent::InternalNoteAdded {
            author_id: id(ADMIN),
            text: "Клиент просил скидку".to_owned(),
        },
        OrderEvent::RefundRecorded {
            payment_id: id(PAYMENT),
            refund_id: cancellation_refund_id(id(ORDER)),
            amount: rub(1_500),
        },
        OrderEvent::PaymentOpened {
            payment_id: id(PAYMENT),
            by: id(CUSTOMER),
        },
        OrderEvent::PaymentReleased {
            payment_id: id(PAYMENT),
        },
        // Added with the booking rules (optional fields, absent above).
        OrderEvent::OrderPlaced {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details: booking_details(slot(10, 11)),
            terms: Some(BookingTerms {
                hold_until: at(8) + Duration::minutes(15),
                max_unpaid: 3,
                full_refund_hours: 24,
                late_refund_percent: 50,
            }),
        },
        OrderEvent::OrderCancelled {
            reason: "Заболела".to_owned(),
            by: id(CUSTOMER),
            refund: Some(OrderRefund {
                payment_id: id(PAYMENT),
                amount: rub(750),
            }),
            decision: Some(CancelDecision::Policy { percent: 50 }),
        },
        OrderEvent::OrderCancelled {
            reason: "Мастер заболел".to_owned(),
            by: id(ADMIN),
            refund: Some(OrderRefund {
                payment_id: id(PAYMENT),
                amount: rub(1_500),
            }),
            decision: Some(CancelDecision::Staff { after_start: true }),
        },
        OrderEvent::OrderCancelled {
            reason: NOT_PAID_IN_TIME.to_owned(),
            by: Uuid::nil(),
            refund: None,
            decision: Some(CancelDecision::HoldExpired),
        },
        OrderEvent::BookingRescheduled {
            from: slot(10, 11),
            to: slot(12, 13),
            by: Some(id(ADMIN)),
            after_start: true,
            reason: Some("Клиентка опоздала".to_owned()),
            late: false,
        },
        // Added with kept files (optional fields, absent above).
        OrderEvent::OrderPlaced {
            order_id: id(ORDER),
            customer_id: id(CUSTOMER),
            details: OrderDetails::Coursework(Coursework {
                files: vec![],
                attachments: vec![id(FILE)],
                ..brief()
            }),
            terms: None,
        },
        OrderEvent::ResultSubmitted {
            files: vec![],
            attachments: vec![id(FILE)],
            note: None,
        },
    ];
    let typed: Vec<(String, String, &OrderEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
}

mod rules;

mod properties {
    use cqrs_es::Aggregate;
    use cqrs_es::event_sink::EventSink;
    use proptest::prelude::*;

    use super::*;
    use crate::order::transitions::{Step, next};

    fn any_actor() -> impl Strategy<Value = Actor> {
        prop_oneof![
            Just(customer()),
            Just(admin()),
            Just(executor()),
            Just(stranger())
        ]
    }

    fn any_command() -> impl Strategy<Value = OrderCommand> {
        prop_oneof![
            any_actor().prop_map(|by| OrderCommand::Quote {
                price: rub(5_000),
                by
            }),
            any_actor().prop_map(|by| OrderCommand::AcceptQuote { by }),
            Just(OrderCommand::MarkPaid {
                payment_id: id(PAYMENT),
                amount: rub(5_000)
            }),
            any_actor().prop_map(|by| OrderCommand::AssignExecutor {
                executor_id: id(EXECUTOR),
                by
            }),
            any_actor().prop_map(|by| OrderCommand::TakeOrder { by }),
            any_actor().prop_map(|by| OrderCommand::Start { by }),
            any_actor().prop_map(|by| OrderCommand::SubmitResult {
                files: vec!["f".to_owned()],
                attachments: vec![],
                note: None,
                by
            }),
            any_actor().prop_map(|by| OrderCommand::RequestRevision {
                reason: "again".to_owned(),
                by
            }),
            any_actor().prop_map(|by| OrderCommand::Accept { by }),
            any_actor().prop_map(|by| OrderCommand::Complete { by }),
            (any_actor(), any::<bool>()).prop_map(|(by, refund)| OrderCommand::Cancel {
                reason: "why".to_owned(),
                refund: refund.then(|| rub(5_000)),
                by,
                at: at(8),
            }),
            (any_actor(), 0..7u8).prop_map(|(by, stars)| OrderCommand::Review {
                stars,
                text: None,
                by
            }),
        ]
    }

    /// The step an event represents, to check it against the table.
    fn step(event: &OrderEvent) -> Option<Step> {
        Some(match event {
            OrderEvent::PriceQuoted { .. } => Step::Quote,
            OrderEvent::QuoteAccepted { .. } => Step::AcceptQuote,
            OrderEvent::OrderPaid { .. } => Step::MarkPaid,
            OrderEvent::ExecutorAssigned { .. } => Step::AssignExecutor,
            OrderEvent::WorkStarted { .. } => Step::Start,
            OrderEvent::ResultSubmitted { .. } => Step::SubmitResult,
            OrderEvent::RevisionRequested { .. } => Step::RequestRevision,
            OrderEvent::ResultAccepted { .. } => Step::Accept,
            OrderEvent::OrderCompleted { .. } => Step::Complete,
            OrderEvent::OrderCancelled { .. } => Step::Cancel,
            OrderEvent::OrderReviewed { .. } => Step::Review,
            _ => return None,
        })
    }

    proptest! {
        #[test]
        fn random_commands_only_take_legal_transitions(commands in proptest::collection::vec(any_command(), 1..50)) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let services = services();
            let mut order = Order::default();
            order.apply(coursework_placed());
            let mut reviews = 0;
            let mut revisions = 0;
            for command in commands {
                let sink = EventSink::default();
                let mut attempt = order.clone();
                if runtime.block_on(attempt.handle(command, &services, &sink)).is_ok() {
                    for event in runtime.block_on(sink.collect()) {
                        let before = order.status();
                        if let Some(step) = step(&event) {
                            prop_assert!(next(Kind::Coursework, before, step).is_some(), "{event:?} in {before}");
                        }
                        reviews += usize::from(matches!(event, OrderEvent::OrderReviewed { .. }));
                        revisions += usize::from(matches!(event, OrderEvent::RevisionRequested { .. }));
                        order.apply(event);
                    }
                }
            }
            prop_assert!(reviews <= 1);
            prop_assert!(revisions <= 2);
        }
    }
}

#[tokio::test]
async fn refunds_of_the_orders_payment_are_recorded_once() {
    let refund = |payment: u8, refund_id: &str| OrderCommand::RecordRefund {
        payment_id: id(payment),
        refund_id: refund_id.to_owned(),
        amount: rub(500),
    };
    let history = coursework_until("completed");
    OrderTest::with(services())
        .given(history.clone())
        .when_async(refund(PAYMENT, "r-1"))
        .await
        .then_expect_events(vec![OrderEvent::RefundRecorded {
            payment_id: id(PAYMENT),
            refund_id: "r-1".to_owned(),
            amount: rub(500),
        }]);
    let mut recorded = history.clone();
    recorded.push(OrderEvent::RefundRecorded {
        payment_id: id(PAYMENT),
        refund_id: "r-1".to_owned(),
        amount: rub(500),
    });
    OrderTest::with(services())
        .given(recorded)
        .when_async(refund(PAYMENT, "r-1"))
        .await
        .then_expect_events(vec![]);
    OrderTest::with(services())
        .given(history)
        .when_async(refund(99, "r-2"))
        .await
        .then_expect_error(OrderError::NotThisOrdersPayment(id(99)));
    assert_eq!(
        cancellation_refund_id(id(ORDER)),
        format!("order-{}-cancellation", id(ORDER))
    );
}
