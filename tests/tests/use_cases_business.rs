//! The use cases of the businesses, called as the bot will call them: no HTTP, the
//! same `Core` and `ReadModels` the API's handlers translate to. An order from brief
//! to review, credits, a ticket's thread, payments and refunds against a
//! YooKassa-compatible server.

use api::startup::Parts;
use chrono::{Duration, Utc};
use domain::command::ErrorKind;
use domain::money::Money;
use domain::order::Coursework;
use domain::permissions::Role;
use domain::use_cases::credits::Spend;
use domain::use_cases::order_actions::OrderAction;
use domain::use_cases::payments::{PaymentOrder, PurposeRequest, RefundState};
use domain::use_cases::placing::NewOrder;
use domain::use_cases::tickets::{NewTicket, TicketChange};
use domain::use_cases::{Core, Written};
use projections::ReadModels;
use tests::TestContext;
use tests::api_client::settings;
use tests::app::spawn_app;
use tests::eventually;
use tests::people::{owner, signed_in, staff};
use tests::yookassa_fake::FakeYooKassa;
use uuid::Uuid;

#[tokio::test]
async fn an_order_goes_from_brief_to_review_and_others_do_not_find_it() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (core, reads) = (&app.state.core, &app.state.reads);
    let owner = owner(core, 620_001).await;
    let admin = staff(core, owner, 620_002, "Анна", Role::Admin).await;
    let customer = signed_in(core, 620_003, "Дарья").await;
    let stranger = signed_in(core, 620_004, "Чужой").await;
    let brief = |deadline| {
        NewOrder::Coursework(Coursework {
            subject: "Теория игр".to_owned(),
            work_type: "курсовая".to_owned(),
            volume: 30,
            deadline,
            files: vec![],
            attachments: vec![],
            max_revisions: 2,
        })
    };
    let refused = core
        .place_order(customer, brief(Utc::now() - Duration::days(1)), Utc::now())
        .await
        .expect_err("a past deadline");
    assert_eq!(refused.field.as_deref(), Some("deadline"));
    let placed = core
        .place_order(customer, brief(Utc::now() + Duration::days(14)), Utc::now())
        .await
        .expect("placed");
    let order_id: Uuid = placed.aggregate_id.parse().expect("an id");
    let act = |caller, action| async move {
        core.act_on_order(caller, order_id, action, Utc::now())
            .await
    };
    let refused = act(stranger, OrderAction::AcceptQuote)
        .await
        .expect_err("not theirs");
    assert_eq!(refused.kind, ErrorKind::NotFound);
    let refused = act(
        customer,
        OrderAction::Quote {
            price: Money::from_kopecks(500_000),
        },
    )
    .await
    .expect_err("customers do not quote");
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    act(
        admin,
        OrderAction::Quote {
            price: Money::from_kopecks(500_000),
        },
    )
    .await
    .expect("quoted");
    let written = act(customer, OrderAction::AcceptQuote)
        .await
        .expect("accepted");
    let seen = reads
        .order(customer, &written.aggregate_id, Some(&written))
        .await
        .expect("reads")
        .expect("the order");
    assert_eq!(seen.order.status, "awaiting_payment");
    assert_eq!(
        reads
            .order(stranger, &written.aggregate_id, None)
            .await
            .expect("reads"),
        None
    );
    let note = act(
        admin,
        OrderAction::Note {
            text: "звонил клиент".to_owned(),
        },
    )
    .await
    .expect("noted");
    let for_customer = reads
        .order(customer, &note.aggregate_id, Some(&note))
        .await
        .expect("reads")
        .expect("the order");
    let for_admin = reads
        .order(admin, &note.aggregate_id, Some(&note))
        .await
        .expect("reads")
        .expect("the order");
    assert_eq!(for_admin.timeline.len(), for_customer.timeline.len() + 1);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn credits_are_spent_once_per_operation_and_tickets_are_talked_through() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (core, reads) = (&app.state.core, &app.state.reads);
    let owner = owner(core, 630_001).await;
    let agent = staff(core, owner, 630_002, "Глеб", Role::Support).await;
    let customer = signed_in(core, 630_003, "Дарья").await;
    // The monthly allowance arrives by reaction; then one spend, twice.
    assert!(
        eventually(std::time::Duration::from_secs(10), || async {
            reads.balance(customer, None).await.expect("reads").balance == 10
        })
        .await
    );
    let spend = || Spend {
        amount: 4,
        reason: "image generation".to_owned(),
        operation_id: "gen-1".to_owned(),
    };
    for _ in 0..2 {
        let written = core
            .spend_credits(customer, spend(), Utc::now())
            .await
            .expect("spent");
        let balance = reads
            .balance(customer, Some(&written))
            .await
            .expect("reads");
        assert_eq!(balance.balance, 6);
    }
    let refused = core
        .spend_credits(
            customer,
            Spend {
                amount: 0,
                ..spend()
            },
            Utc::now(),
        )
        .await
        .expect_err("nothing to spend");
    assert_eq!(refused.field.as_deref(), Some("amount"));

    let opened = core
        .open_ticket(
            customer,
            NewTicket {
                category: "payments".to_owned(),
                title: "Не пришли кредиты".to_owned(),
                description: "Оплатила пакет".to_owned(),
                priority: None,
            },
            Utc::now(),
        )
        .await
        .expect("opened");
    let ticket: Uuid = opened.aggregate_id.parse().expect("an id");
    let refused = core
        .post_ticket_message(customer, ticket, "секрет".to_owned(), true, Utc::now())
        .await
        .expect_err("customers write no internal notes");
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    core.post_ticket_message(
        agent,
        ticket,
        "проверяю платёж".to_owned(),
        true,
        Utc::now(),
    )
    .await
    .expect("a note");
    core.post_ticket_message(agent, ticket, "Начислили".to_owned(), false, Utc::now())
        .await
        .expect("an answer");
    let refused = core
        .change_ticket(
            customer,
            ticket,
            TicketChange::Status(domain::ticket::TicketStatus::Resolved),
            Utc::now(),
        )
        .await
        .expect_err("the desk moves statuses");
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    let written: Written = core
        .change_ticket(
            agent,
            ticket,
            TicketChange::Assign {
                assignee_id: agent.user_id,
            },
            Utc::now(),
        )
        .await
        .expect("assigned");
    let thread = reads
        .ticket(customer, &written.aggregate_id, Some(&written))
        .await
        .expect("reads")
        .expect("the ticket");
    assert_eq!(thread.ticket.assignee_id, Some(agent.user_id));
    assert!(thread.messages.iter().all(|message| !message.internal));
    let desk = reads
        .ticket(agent, &written.aggregate_id, None)
        .await
        .expect("reads")
        .expect("the ticket");
    assert_eq!(desk.messages.len(), thread.messages.len() + 1);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_payment_is_started_settled_from_the_provider_and_refunded() {
    let context = TestContext::new().await;
    let (fake, api_url) = FakeYooKassa::start().await;
    let mut configured = settings(&context);
    configured.payments.credentials = Some(("shop".to_owned(), "secret".to_owned()));
    configured.payments.mode = Some(api::config::PaymentMode::Live);
    configured.payments.api_url = api_url;
    let app = spawn_app(configured, Parts::ALL).await;
    let (core, reads): (&Core, &ReadModels) = (&app.state.core, &app.state.reads);
    let owner = owner(core, 640_001).await;
    let buyer = signed_in(core, 640_002, "Дарья").await;
    let order = |key: &str| PaymentOrder {
        purpose: PurposeRequest::CreditPack {
            pack: "M".to_owned(),
        },
        idempotence_key: key.to_owned(),
        payer_kind: None,
        customer_email: None,
        customer_phone: None,
    };
    let started = core
        .start_payment(buyer, order("k-1"))
        .await
        .expect("started");
    assert!(started.created_now && !started.sandbox);
    let again = core
        .start_payment(buyer, order("k-1"))
        .await
        .expect("the same");
    assert_eq!(
        (again.payment_id, again.created_now),
        (started.payment_id, false)
    );
    let refused = core
        .start_payment(
            buyer,
            PaymentOrder {
                purpose: PurposeRequest::CreditPack {
                    pack: "XXL".to_owned(),
                },
                ..order("k-2")
            },
        )
        .await
        .expect_err("no such pack");
    assert_eq!(refused.field.as_deref(), Some("purpose.pack"));
    // YooKassa took the money; its notification says which payment.
    let provider_id = fake
        .books()
        .payments
        .keys()
        .next()
        .cloned()
        .expect("one payment at the provider");
    fake.succeed(&provider_id, "1253.88");
    core.settle_provider_payment(&provider_id)
        .await
        .expect("settled");
    let written = Written::new(started.payment_id.to_string(), 3);
    let paid = reads
        .payment(buyer, &written.aggregate_id, Some(&written))
        .await
        .expect("reads")
        .expect("the payment");
    assert_eq!(paid.status, "succeeded");
    let refused = core
        .refund_payment(buyer, started.payment_id, None, None)
        .await
        .expect_err("customers do not refund");
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    let refund = core
        .refund_payment(
            owner,
            started.payment_id,
            Some(Money::from_kopecks(10_000)),
            Some("r-1"),
        )
        .await
        .expect("refunded");
    assert_eq!(refund.state, RefundState::Succeeded);
    let repeat = core
        .refund_payment(
            owner,
            started.payment_id,
            Some(Money::from_kopecks(10_000)),
            Some("r-1"),
        )
        .await
        .expect("the same refund");
    assert_eq!(
        (repeat.refund_id, repeat.state),
        (refund.refund_id, RefundState::Settled)
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn an_order_a_payment_failed_for_can_be_paid_by_another_and_never_twice() {
    use domain::order::Delivery;
    use domain::payment::{PaymentCommand, PaymentPurpose};
    use domain::use_cases::placing::ShopItem;
    use tests::yookassa_fake::Scripted;

    let context = TestContext::new().await;
    let (fake, api_url) = FakeYooKassa::start().await;
    let mut configured = settings(&context);
    configured.payments.credentials = Some(("shop".to_owned(), "secret".to_owned()));
    configured.payments.mode = Some(api::config::PaymentMode::Live);
    configured.payments.api_url = api_url;
    configured.payments.attempts = 1;
    let app = spawn_app(configured, Parts::ALL).await;
    let core: &Core = &app.state.core;
    let customer = signed_in(core, 650_001, "Дарья").await;
    let place = || async {
        let order = NewOrder::Shop {
            items: vec![ShopItem {
                product_id: "mug".to_owned(),
                quantity: 1,
            }],
            delivery: Delivery {
                recipient: "Ира".to_owned(),
                phone: "+79990000000".to_owned(),
                address: "Москва".to_owned(),
            },
        };
        let placed = core
            .place_order(customer, order, Utc::now())
            .await
            .expect("placed");
        placed.aggregate_id.parse::<Uuid>().expect("an id")
    };
    let pay = |order_id: Uuid, key: &str| {
        let order = PaymentOrder {
            purpose: PurposeRequest::Order { order_id },
            idempotence_key: key.to_owned(),
            payer_kind: None,
            customer_email: None,
            customer_phone: None,
        };
        async move { core.start_payment(customer, order).await }
    };

    // YooKassa refuses for good: the payment is cancelled, the order may be paid by
    // another key, and the refused key never opens it again.
    let refused_order = place().await;
    fake.script(vec![Scripted::new(
        400,
        r#"{"type":"error","id":"e","code":"invalid_request","description":"Bad amount","parameter":"amount"}"#,
    )]);
    let refused = pay(refused_order, "r-1").await.expect_err("refused");
    assert_eq!(
        refused.code,
        Some("payment_provider_refused"),
        "{refused:?}"
    );
    fake.script(vec![]);
    let again = pay(refused_order, "r-1")
        .await
        .expect_err("a cancelled key");
    assert_eq!(again.kind, ErrorKind::InvalidState, "{again:?}");
    pay(refused_order, "r-2").await.expect("another key pays");

    // YooKassa cannot be reached and the client never comes back: the order waits for
    // that payment; after an hour reconciliation gives it up and another key pays.
    let abandoned_order = place().await;
    fake.script(vec![Scripted::new(503, "")]);
    let unavailable = pay(abandoned_order, "a-1").await.expect_err("no verdict");
    assert_eq!(unavailable.code, Some("payment_provider_unavailable"));
    fake.script(vec![]);
    let open = pay(abandoned_order, "a-2")
        .await
        .expect_err("one open payment");
    assert_eq!(open.code, Some("payment_open"), "{open:?}");
    assert!(
        eventually(std::time::Duration::from_secs(10), || async {
            sqlx::query(
                "UPDATE rm_payments SET created_at = now() - interval '2 hours' \
                 WHERE order_id = $1 AND provider_payment_id IS NULL AND status = 'pending'",
            )
            .bind(abandoned_order)
            .execute(&context.pool)
            .await
            .is_ok_and(|done| done.rows_affected() == 1)
        })
        .await
    );
    let settled = projections::housekeeping::reconcile_payments(&app.state.reads, core)
        .await
        .expect("a round");
    assert_eq!(settled, 1);
    assert!(
        eventually(std::time::Duration::from_secs(10), || async {
            pay(abandoned_order, "a-3").await.is_ok()
        })
        .await,
        "the order is released by the cancellation's reaction"
    );

    // A payment made before orders recorded their open one still counts as open.
    let older_order = place().await;
    let older = Uuid::now_v7();
    core.commands
        .payments
        .execute(
            &older.to_string(),
            PaymentCommand::Create {
                purpose: PaymentPurpose::Order {
                    order_id: older_order,
                },
                amount: Money::from_kopecks(49_000),
                payer_kind: domain::money::tax::PayerKind::Individual,
                payer_user_id: customer.user_id,
                idempotence_key: "before".to_owned(),
            },
            &domain::command::CommandContext::system("test"),
        )
        .await
        .expect("an older payment");
    core.commands
        .payments
        .execute(
            &older.to_string(),
            PaymentCommand::RecordProviderPayment {
                provider_payment_id: "2db9930f-000f-5000-9000-0000000000aa".to_owned(),
                confirmation_url: "https://yoomoney.ru/checkout".to_owned(),
            },
            &domain::command::CommandContext::system("test"),
        )
        .await
        .expect("with a checkout link");
    let open = pay(older_order, "o-1")
        .await
        .expect_err("the older one is open");
    assert_eq!(open.code, Some("payment_open"), "{open:?}");
    app.stop().await;
    context.cleanup().await;
}
