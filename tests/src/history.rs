//! A scripted, deterministic history of commands, so read models built from it can be
//! compared across runs and databases.

use chrono::{DateTime, TimeZone, Utc};
use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use sqlx::PgPool;

fn day(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// 12 credit accounts with grants, spends, a refund, points and their expiry,
/// a subscription and monthly allowances: 70-odd events.
pub async fn credits(pool: &PgPool) {
    let commands = Commands::over(pool.clone());
    let who = CommandContext::system("script");
    for account in 0..12u32 {
        let id = format!("acct-{account:02}");
        let run = |command: CreditCommand| {
            let commands = &commands;
            let who = &who;
            let id = id.clone();
            async move {
                commands
                    .credits
                    .execute(&id, command, who)
                    .await
                    .expect("scripted command")
            }
        };
        run(CreditCommand::Grant {
            amount: 100 + u64::from(account),
            reason: GrantReason::Purchase,
            reference: format!("payment-{account}"),
            expires_at: None,
        })
        .await;
        run(CreditCommand::GrantMonthlyAllowance {
            month: "2026-11".to_owned(),
            amount: 10,
        })
        .await;
        run(CreditCommand::Grant {
            amount: 20,
            reason: GrantReason::LoyaltyCashback,
            reference: format!("order-{account}"),
            expires_at: Some(day(20)),
        })
        .await;
        for operation in 0..(account % 4 + 1) {
            run(CreditCommand::Spend {
                amount: 7 + u64::from(operation),
                reason: "image generation".to_owned(),
                operation_id: format!("gen-{account}-{operation}"),
                at: day(10),
            })
            .await;
        }
        if account % 3 == 0 {
            run(CreditCommand::RefundSpend {
                operation_id: format!("gen-{account}-0"),
                at: day(11),
            })
            .await;
        }
        if account % 5 == 0 {
            run(CreditCommand::ActivateSubscription {
                plan: "pro".to_owned(),
                period_end: day(30),
                credits_per_period: 300,
            })
            .await;
        }
        run(CreditCommand::ExpirePoints { now: day(21) }).await;
    }
}

/// The people of [`business`], with fixed ids so snapshots are stable.
pub mod people {
    use uuid::Uuid;

    pub const ADMIN: Uuid = Uuid::from_u128(0xA1);
    pub const EXECUTOR: Uuid = Uuid::from_u128(0xE1);
    pub const MASTER: Uuid = Uuid::from_u128(0xE2);
    pub const SUPPORT: Uuid = Uuid::from_u128(0x51);
    /// Referred C2.
    pub const C1: Uuid = Uuid::from_u128(0xC1);
    pub const C2: Uuid = Uuid::from_u128(0xC2);
    pub const C3: Uuid = Uuid::from_u128(0xC3);
}

/// Ids of [`business`]'s orders, payments and tickets.
pub mod things {
    use uuid::Uuid;

    /// Coursework, paid, done with one revision, completed, reviewed.
    pub const COURSEWORK_DONE: Uuid = Uuid::from_u128(0x0D01);
    /// Coursework, paid, waiting in the pool.
    pub const COURSEWORK_POOL: Uuid = Uuid::from_u128(0x0D02);
    /// Shop order, paid, shipped, delivered, completed.
    pub const SHOP_DONE: Uuid = Uuid::from_u128(0x0D03);
    /// Shop order, paid, cancelled with a full refund.
    pub const SHOP_CANCELLED: Uuid = Uuid::from_u128(0x0D04);
    /// Booking, rescheduled, paid, completed.
    pub const BOOKING_DONE: Uuid = Uuid::from_u128(0x0D05);
    /// Booking, still ahead.
    pub const BOOKING_AHEAD: Uuid = Uuid::from_u128(0x0D06);
    /// Booking, the client did not come.
    pub const BOOKING_NO_SHOW: Uuid = Uuid::from_u128(0x0D07);
    /// Coursework, placed and never quoted.
    pub const COURSEWORK_NEW: Uuid = Uuid::from_u128(0x0D08);

    pub const PAY_COURSEWORK_DONE: Uuid = Uuid::from_u128(0x0F01);
    pub const PAY_COURSEWORK_POOL: Uuid = Uuid::from_u128(0x0F02);
    pub const PAY_SHOP_DONE: Uuid = Uuid::from_u128(0x0F03);
    pub const PAY_SHOP_CANCELLED: Uuid = Uuid::from_u128(0x0F04);
    pub const PAY_BOOKING_DONE: Uuid = Uuid::from_u128(0x0F05);
    pub const PAY_PACK: Uuid = Uuid::from_u128(0x0F06);
    /// Created, then canceled at the provider.
    pub const PAY_ABANDONED: Uuid = Uuid::from_u128(0x0F07);
    /// A company paying for a credit pack, partly refunded.
    pub const PAY_COMPANY: Uuid = Uuid::from_u128(0x0F08);

    /// Answered, resolved, rated.
    pub const TICKET_RESOLVED: Uuid = Uuid::from_u128(0x0B01);
    /// Waiting for staff, assigned.
    pub const TICKET_WAITING: Uuid = Uuid::from_u128(0x0B02);
}

/// Registers user `id` (Telegram `telegram_id`) with `role`, as the system.
pub async fn registered(
    commands: &Commands,
    id: uuid::Uuid,
    telegram_id: i64,
    name: &str,
    role: domain::permissions::Role,
) {
    use domain::user::{Profile, UserCommand};
    let who = CommandContext::system("script");
    let user = id.to_string();
    commands
        .users
        .execute(
            &user,
            UserCommand::Register {
                user_id: id,
                telegram_id,
                profile: Profile {
                    first_name: name.to_owned(),
                    last_name: None,
                    username: Some(format!("user{telegram_id}")),
                    language: Some("ru".to_owned()),
                    photo_url: None,
                },
                invited_with: None,
                referral_code: None,
            },
            &who,
        )
        .await
        .expect("registered");
    if role != domain::permissions::Role::Client {
        commands
            .users
            .execute(
                &user,
                UserCommand::ChangeRole {
                    role,
                    by: domain::permissions::Role::Owner,
                },
                &who,
            )
            .await
            .expect("role");
    }
}

/// A scripted week of all five businesses: users with a referral, coursework through
/// its whole lifecycle and one waiting in the pool, shop orders (one cancelled and
/// refunded), salon bookings (rescheduled, ahead, no-show), payments of every
/// purpose (one abandoned, one from a company partly refunded), and tickets with
/// messages, an internal note, assignment and a rating.
///
/// It issues what the payment reactions would (marking orders paid, granting packs)
/// itself, so it is complete without any worker; the reactions then find it done.
pub async fn business(pool: &PgPool) {
    use domain::money::Money;
    use domain::money::tax::PayerKind;
    use domain::order::{Actor, Coursework, Delivery, LineItem, OrderCommand, OrderDetails, Slot};
    use domain::payment::{PaymentCommand, PaymentPurpose, RefundOutcome};
    use domain::permissions::Role;
    use domain::ticket::{Priority, TicketCommand, TicketStatus};
    use domain::user::UserCommand;
    use people::*;
    use things::*;
    use uuid::Uuid;

    let commands = Commands::over(pool.clone());
    let who = CommandContext::system("script");
    let at = |day: u32, hour: u32| {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0)
            .single()
            .expect("a valid time")
    };
    let money = |text: &str| text.parse::<Money>().expect("an amount");
    let actor = |user_id, role| Actor { user_id, role };
    let admin = actor(ADMIN, Role::Admin);
    let executor = actor(EXECUTOR, Role::Executor);
    let master = actor(MASTER, Role::Executor);
    let desk = actor(SUPPORT, Role::Support);

    // Users.
    let users = [
        (ADMIN, 1001, "Анна", Role::Admin),
        (EXECUTOR, 1002, "Борис", Role::Executor),
        (MASTER, 1003, "Вера", Role::Executor),
        (SUPPORT, 1004, "Глеб", Role::Support),
        (C1, 2001, "Дарья", Role::Client),
        (C2, 2002, "Егор", Role::Client),
        (C3, 2003, "Жанна", Role::Client),
    ];
    for (id, telegram_id, name, role) in users {
        registered(&commands, id, telegram_id, name, role).await;
    }
    commands
        .users
        .execute(
            &C2.to_string(),
            UserCommand::LinkReferrer { referrer_id: C1 },
            &who,
        )
        .await
        .expect("referrer");
    commands
        .users
        .execute(
            &C3.to_string(),
            UserCommand::Block {
                reason: "spam".to_owned(),
                by: Role::Admin,
            },
            &who,
        )
        .await
        .expect("blocked");
    commands
        .users
        .execute(
            &C3.to_string(),
            UserCommand::Unblock { by: Role::Admin },
            &who,
        )
        .await
        .expect("unblocked");

    let order = |id: Uuid, command: OrderCommand| {
        let commands = &commands;
        let who = &who;
        async move {
            commands
                .orders
                .execute(&id.to_string(), command, who)
                .await
                .unwrap_or_else(|error| panic!("order {id}: {error}"));
        }
    };
    let payment = |id: Uuid, command: PaymentCommand| {
        let commands = &commands;
        let who = &who;
        async move {
            commands
                .payments
                .execute(&id.to_string(), command, who)
                .await
                .unwrap_or_else(|error| panic!("payment {id}: {error}"));
        }
    };
    let pay = |id: Uuid,
               purpose: PaymentPurpose,
               amount: Money,
               payer: Uuid,
               kind: PayerKind,
               day: u32| {
        let payment = &payment;
        async move {
            payment(
                id,
                PaymentCommand::Create {
                    purpose,
                    amount,
                    payer_kind: kind,
                    payer_user_id: payer,
                    idempotence_key: format!("key-{id}"),
                },
            )
            .await;
            payment(
                id,
                PaymentCommand::RecordProviderPayment {
                    provider_payment_id: format!("yk-{id}"),
                    confirmation_url: format!(
                        "https://yoomoney.ru/checkout/payments/v2/contract?orderId=yk-{id}"
                    ),
                },
            )
            .await;
            payment(
                id,
                PaymentCommand::Succeed {
                    provider_payment_id: format!("yk-{id}"),
                    amount_received: amount,
                    currency: "RUB".to_owned(),
                    provider_fee: Money::rounded(
                        amount.amount() * rust_decimal::Decimal::new(35, 3),
                    )
                    .expect("a fee"),
                    paid_at: at(day, 10),
                    test: false,
                },
            )
            .await;
        }
    };

    // Coursework, all the way.
    let brief = |subject: &str| {
        OrderDetails::Coursework(Coursework {
            subject: subject.to_owned(),
            work_type: "курсовая".to_owned(),
            volume: 30,
            deadline: at(28, 0),
            files: vec!["brief.pdf".to_owned()],
            attachments: vec![],
            max_revisions: 2,
        })
    };
    let c1 = actor(C1, Role::Client);
    let c2 = actor(C2, Role::Client);
    order(
        COURSEWORK_DONE,
        OrderCommand::Place {
            order_id: COURSEWORK_DONE,
            customer_id: C1,
            details: brief("Теория графов"),
            terms: None,
        },
    )
    .await;
    order(
        COURSEWORK_DONE,
        OrderCommand::Quote {
            price: money("12000.00"),
            by: admin,
        },
    )
    .await;
    order(COURSEWORK_DONE, OrderCommand::AcceptQuote { by: c1 }).await;
    pay(
        PAY_COURSEWORK_DONE,
        PaymentPurpose::Order {
            order_id: COURSEWORK_DONE,
        },
        money("12000.00"),
        C1,
        PayerKind::Individual,
        2,
    )
    .await;
    order(
        COURSEWORK_DONE,
        OrderCommand::MarkPaid {
            payment_id: PAY_COURSEWORK_DONE,
            amount: money("12000.00"),
        },
    )
    .await;
    order(
        COURSEWORK_DONE,
        OrderCommand::AssignExecutor {
            executor_id: EXECUTOR,
            by: admin,
        },
    )
    .await;
    order(
        COURSEWORK_DONE,
        OrderCommand::AddInternalNote {
            text: "срочно, постоянный клиент".to_owned(),
            by: admin,
        },
    )
    .await;
    order(COURSEWORK_DONE, OrderCommand::Start { by: executor }).await;
    order(
        COURSEWORK_DONE,
        OrderCommand::SubmitResult {
            files: vec!["draft.docx".to_owned()],
            attachments: vec![],
            note: None,
            by: executor,
        },
    )
    .await;
    order(
        COURSEWORK_DONE,
        OrderCommand::RequestRevision {
            reason: "нет выводов".to_owned(),
            by: c1,
        },
    )
    .await;
    order(COURSEWORK_DONE, OrderCommand::Start { by: executor }).await;
    order(
        COURSEWORK_DONE,
        OrderCommand::SubmitResult {
            files: vec!["final.docx".to_owned()],
            attachments: vec![],
            note: Some("выводы добавлены".to_owned()),
            by: executor,
        },
    )
    .await;
    order(COURSEWORK_DONE, OrderCommand::Accept { by: c1 }).await;
    order(COURSEWORK_DONE, OrderCommand::Complete { by: admin }).await;
    order(
        COURSEWORK_DONE,
        OrderCommand::Review {
            stars: 5,
            text: Some("спасибо".to_owned()),
            by: c1,
        },
    )
    .await;

    // Coursework paid and waiting for an executor; coursework never quoted.
    order(
        COURSEWORK_POOL,
        OrderCommand::Place {
            order_id: COURSEWORK_POOL,
            customer_id: C2,
            details: brief("Матанализ"),
            terms: None,
        },
    )
    .await;
    order(
        COURSEWORK_POOL,
        OrderCommand::Quote {
            price: money("4500.00"),
            by: admin,
        },
    )
    .await;
    order(COURSEWORK_POOL, OrderCommand::AcceptQuote { by: c2 }).await;
    pay(
        PAY_COURSEWORK_POOL,
        PaymentPurpose::Order {
            order_id: COURSEWORK_POOL,
        },
        money("4500.00"),
        C2,
        PayerKind::Individual,
        3,
    )
    .await;
    order(
        COURSEWORK_POOL,
        OrderCommand::MarkPaid {
            payment_id: PAY_COURSEWORK_POOL,
            amount: money("4500.00"),
        },
    )
    .await;
    order(
        COURSEWORK_NEW,
        OrderCommand::Place {
            order_id: COURSEWORK_NEW,
            customer_id: C3,
            details: brief("Эконометрика"),
            terms: None,
        },
    )
    .await;

    // Shop: one delivered, one cancelled and refunded in full.
    let cart = |name: &str, quantity: u32, price: &str| {
        let unit_price = money(price);
        OrderDetails::Shop {
            lines: vec![LineItem {
                product_id: format!("sku-{name}"),
                name: name.to_owned(),
                quantity,
                unit_price,
            }],
            total: unit_price.times(quantity).expect("a total"),
            delivery: Delivery {
                recipient: "Дарья".to_owned(),
                phone: "+79990000000".to_owned(),
                address: "Казань, ул. Баумана, 1".to_owned(),
            },
        }
    };
    order(
        SHOP_DONE,
        OrderCommand::Place {
            order_id: SHOP_DONE,
            customer_id: C1,
            details: cart("Чай улун", 3, "450.00"),
            terms: None,
        },
    )
    .await;
    pay(
        PAY_SHOP_DONE,
        PaymentPurpose::Order {
            order_id: SHOP_DONE,
        },
        money("1350.00"),
        C1,
        PayerKind::Individual,
        4,
    )
    .await;
    order(
        SHOP_DONE,
        OrderCommand::MarkPaid {
            payment_id: PAY_SHOP_DONE,
            amount: money("1350.00"),
        },
    )
    .await;
    order(
        SHOP_DONE,
        OrderCommand::Ship {
            tracking: "RA123456789RU".to_owned(),
            by: admin,
        },
    )
    .await;
    order(SHOP_DONE, OrderCommand::ConfirmDelivery { by: c1 }).await;
    order(SHOP_DONE, OrderCommand::Complete { by: admin }).await;
    order(
        SHOP_CANCELLED,
        OrderCommand::Place {
            order_id: SHOP_CANCELLED,
            customer_id: C3,
            details: cart("Пуэр", 1, "990.00"),
            terms: None,
        },
    )
    .await;
    pay(
        PAY_SHOP_CANCELLED,
        PaymentPurpose::Order {
            order_id: SHOP_CANCELLED,
        },
        money("990.00"),
        C3,
        PayerKind::Individual,
        4,
    )
    .await;
    order(
        SHOP_CANCELLED,
        OrderCommand::MarkPaid {
            payment_id: PAY_SHOP_CANCELLED,
            amount: money("990.00"),
        },
    )
    .await;
    order(
        SHOP_CANCELLED,
        OrderCommand::Cancel {
            reason: "нет в наличии".to_owned(),
            refund: Some(money("990.00")),
            by: admin,
            at: at(5, 11),
        },
    )
    .await;
    payment(
        PAY_SHOP_CANCELLED,
        // The id the cancellation's refund reaction asks under: asked once.
        PaymentCommand::RequestRefund {
            refund_id: domain::order::cancellation_refund_id(SHOP_CANCELLED),
            amount: money("990.00"),
        },
    )
    .await;
    payment(
        PAY_SHOP_CANCELLED,
        PaymentCommand::RecordRefundResult {
            refund_id: domain::order::cancellation_refund_id(SHOP_CANCELLED),
            outcome: RefundOutcome::Succeeded {
                provider_refund_id: "yk-refund-1".to_owned(),
                refunded_at: at(5, 12),
            },
        },
    )
    .await;

    // Salon.
    let visit = |day: u32, hour: u32| Slot {
        start: at(day, hour),
        end: at(day, hour + 1),
    };
    let haircut = |slot: Slot| OrderDetails::Booking {
        service_id: "haircut".to_owned(),
        service_name: "Стрижка".to_owned(),
        master_id: MASTER,
        slot,
        price: money("1500.00"),
    };
    order(
        BOOKING_DONE,
        OrderCommand::Place {
            order_id: BOOKING_DONE,
            customer_id: C2,
            details: haircut(visit(6, 10)),
            terms: None,
        },
    )
    .await;
    order(
        BOOKING_DONE,
        OrderCommand::Reschedule {
            slot: visit(6, 14),
            by: c2,
            at: at(5, 18),
            reason: None,
        },
    )
    .await;
    pay(
        PAY_BOOKING_DONE,
        PaymentPurpose::Order {
            order_id: BOOKING_DONE,
        },
        money("1500.00"),
        C2,
        PayerKind::Individual,
        6,
    )
    .await;
    order(
        BOOKING_DONE,
        OrderCommand::MarkPaid {
            payment_id: PAY_BOOKING_DONE,
            amount: money("1500.00"),
        },
    )
    .await;
    order(BOOKING_DONE, OrderCommand::Complete { by: master }).await;
    order(
        BOOKING_AHEAD,
        OrderCommand::Place {
            order_id: BOOKING_AHEAD,
            customer_id: C1,
            details: haircut(visit(27, 11)),
            terms: None,
        },
    )
    .await;
    order(
        BOOKING_NO_SHOW,
        OrderCommand::Place {
            order_id: BOOKING_NO_SHOW,
            customer_id: C3,
            details: haircut(visit(7, 9)),
            terms: None,
        },
    )
    .await;
    order(
        BOOKING_NO_SHOW,
        OrderCommand::MarkNoShow {
            at: at(7, 10),
            by: master,
        },
    )
    .await;

    // Credits: a pack bought by a customer, one bought by a company and partly refunded,
    // and a payment abandoned at the provider.
    let pack = PaymentPurpose::CreditPack {
        pack: "S".to_owned(),
        credits: 100,
    };
    pay(
        PAY_PACK,
        pack.clone(),
        money("499.00"),
        C3,
        PayerKind::Individual,
        8,
    )
    .await;
    pay(
        PAY_COMPANY,
        PaymentPurpose::CreditPack {
            pack: "XL".to_owned(),
            credits: 1000,
        },
        money("3990.00"),
        C1,
        PayerKind::LegalEntity,
        8,
    )
    .await;
    for (id, payer, credits) in [(PAY_PACK, C3, 100), (PAY_COMPANY, C1, 1000)] {
        commands
            .credits
            .execute(
                &payer.to_string(),
                CreditCommand::Grant {
                    amount: credits,
                    reason: GrantReason::Purchase,
                    reference: id.to_string(),
                    expires_at: None,
                },
                &who,
            )
            .await
            .expect("granted");
    }
    payment(
        PAY_COMPANY,
        PaymentCommand::RequestRefund {
            refund_id: "refund-2".to_owned(),
            amount: money("1000.00"),
        },
    )
    .await;
    payment(
        PAY_COMPANY,
        PaymentCommand::RecordRefundResult {
            refund_id: "refund-2".to_owned(),
            outcome: RefundOutcome::Succeeded {
                provider_refund_id: "yk-refund-2".to_owned(),
                refunded_at: at(9, 12),
            },
        },
    )
    .await;
    payment(
        PAY_ABANDONED,
        PaymentCommand::Create {
            purpose: pack,
            amount: money("499.00"),
            payer_kind: PayerKind::Individual,
            payer_user_id: C2,
            idempotence_key: "key-abandoned".to_owned(),
        },
    )
    .await;
    payment(
        PAY_ABANDONED,
        PaymentCommand::Cancel {
            reason: "expired_on_confirmation".to_owned(),
        },
    )
    .await;
    commands
        .credits
        .execute(
            &C3.to_string(),
            CreditCommand::Spend {
                amount: 30,
                reason: "image generation".to_owned(),
                operation_id: "gen-1".to_owned(),
                at: at(9, 15),
            },
            &who,
        )
        .await
        .expect("spent");

    // Support desk.
    let ticket = |id: Uuid, command: TicketCommand| {
        let commands = &commands;
        let who = &who;
        async move {
            commands
                .tickets
                .execute(&id.to_string(), command, who)
                .await
                .unwrap_or_else(|error| panic!("ticket {id}: {error}"));
        }
    };
    let post =
        |author_id, author_role, text: &str, internal, day, hour| TicketCommand::PostMessage {
            message_id: Uuid::from_u128(u128::from(day) * 100 + u128::from(hour)),
            author_id,
            author_role,
            text: text.to_owned(),
            attachments: vec![],
            internal,
            at: at(day, hour),
        };
    // The desk's categories, set up by the admin.
    for (code, name, icon, colour, position) in [
        ("payments", "Оплата", "💳", "#2E7D32", 10),
        ("orders", "Заказы", "📦", "#1565C0", 20),
    ] {
        use domain::ticket_category::{CategoryCommand, CategoryLook};
        commands
            .ticket_categories
            .execute(
                code,
                CategoryCommand::Create {
                    look: CategoryLook {
                        name: name.to_owned(),
                        icon: Some(icon.to_owned()),
                        colour: colour.to_owned(),
                        position,
                        active: true,
                    },
                    by: Role::Admin,
                },
                &who,
            )
            .await
            .expect("a category");
    }
    ticket(
        TICKET_RESOLVED,
        TicketCommand::Open {
            customer_id: C1,
            category: "payments".to_owned(),
            title: "Не пришли кредиты".to_owned(),
            description: "Оплатила пакет XL".to_owned(),
            priority: Priority::High,
            attachments: vec![],
        },
    )
    .await;
    ticket(
        TICKET_RESOLVED,
        TicketCommand::Assign {
            assignee_id: SUPPORT,
            assignee_role: Role::Support,
            by: desk,
        },
    )
    .await;
    ticket(
        TICKET_RESOLVED,
        post(
            SUPPORT,
            Role::Support,
            "проверить платёж в ЮKassa",
            true,
            8,
            12,
        ),
    )
    .await;
    ticket(
        TICKET_RESOLVED,
        post(
            SUPPORT,
            Role::Support,
            "Кредиты начислены, проверьте баланс",
            false,
            8,
            13,
        ),
    )
    .await;
    ticket(
        TICKET_RESOLVED,
        post(C1, Role::Client, "Да, вижу, спасибо!", false, 8, 14),
    )
    .await;
    ticket(
        TICKET_RESOLVED,
        TicketCommand::ChangeStatus {
            status: TicketStatus::Resolved,
            by: desk,
        },
    )
    .await;
    ticket(
        TICKET_RESOLVED,
        TicketCommand::RateSupport {
            by: C1,
            stars: 5,
            comment: None,
        },
    )
    .await;
    ticket(
        TICKET_WAITING,
        TicketCommand::Open {
            customer_id: C2,
            category: "orders".to_owned(),
            title: "Когда будет исполнитель?".to_owned(),
            description: "Заказ оплачен три дня назад".to_owned(),
            priority: Priority::Normal,
            attachments: vec![],
        },
    )
    .await;
    ticket(
        TICKET_WAITING,
        TicketCommand::ChangePriority {
            priority: Priority::High,
            by: desk,
        },
    )
    .await;
    ticket(
        TICKET_WAITING,
        post(C2, Role::Client, "Есть новости?", false, 9, 9),
    )
    .await;
}
