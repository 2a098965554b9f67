//! Rules that span aggregates are decided on the write side, so they hold under races
//! and right after a change, before any read model has caught up: one open payment per
//! order, the last owner, a booking's master being an executor, a new ticket's category
//! being offered, a ticket's assignee being staff. Each runs ten attempts at once (or
//! right after the change) and checks that exactly the allowed outcome happened, in
//! the event store. The use cases are called as the bot will: without HTTP.

use std::sync::Arc;

use api::startup::Parts;
use chrono::{Duration, TimeZone, Utc};
use domain::command::{CommandError, ErrorKind};
use domain::order::Delivery;
use domain::permissions::{Caller, Role};
use domain::ticket_category::{CategoryChange, CategoryLook};
use domain::use_cases::Core;
use domain::use_cases::payments::{PaymentOrder, PurposeRequest};
use domain::use_cases::placing::{NewOrder, ShopItem};
use domain::use_cases::tickets::{NewTicket, TicketChange};
use domain::use_cases::users::UserChange;
use futures_util::future::join_all;
use tests::TestContext;
use tests::api_client::settings;
use tests::app::{TestApp, spawn_app};
use tests::history::registered;
use uuid::Uuid;

/// The use cases only: no relay, no workers, so no read model moves meanwhile.
const WRITE_SIDE_ONLY: Parts = Parts {
    relay: false,
    workers: false,
    bot: false,
};

async fn user(app: &TestApp, telegram_id: i64, role: Role) -> Caller {
    tests::people::registered_caller(&app.state.core, telegram_id, role).await
}

/// Runs `attempt(i)` for i in 0..10 at once.
async fn ten_at_once<F, Fut, T>(attempt: F) -> Vec<Result<T, CommandError>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, CommandError>> + Send + 'static,
    T: Send + 'static,
{
    let tasks = (0..10).map(|index| tokio::spawn(attempt(index)));
    join_all(tasks)
        .await
        .into_iter()
        .map(|joined| joined.expect("no panic"))
        .collect()
}

async fn events_of(context: &TestContext, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&context.pool)
        .await
        .expect("a count")
}

#[tokio::test]
async fn one_order_has_one_open_payment_however_many_checkouts_race() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), WRITE_SIDE_ONLY).await;
    let core: Arc<Core> = app.state.core.clone();
    let customer = user(&app, 910_001, Role::Client).await;
    let order = core
        .place_order(
            customer,
            NewOrder::Shop {
                items: vec![ShopItem {
                    product_id: "mug".to_owned(),
                    quantity: 1,
                }],
                delivery: Delivery {
                    recipient: "Ира".to_owned(),
                    phone: "+79990000000".to_owned(),
                    address: "Москва".to_owned(),
                },
            },
            Utc::now(),
        )
        .await
        .expect("placed");
    let order_id: Uuid = order.aggregate_id.parse().expect("an id");
    let checkout = |key: String| PaymentOrder {
        purpose: PurposeRequest::Order { order_id },
        idempotence_key: key,
        payer_kind: None,
        customer_email: None,
        customer_phone: None,
    };
    // Ten checkouts with ten different keys at once (two tabs, a double tap, a retry
    // with a new key): one payment.
    let outcomes = ten_at_once(|index| {
        let core = core.clone();
        let checkout = checkout(format!("tab-{index}"));
        async move { core.start_payment(customer, checkout).await }
    })
    .await;
    let started: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(started.len(), 1, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            refused.code == Some("payment_open") || refused.kind == ErrorKind::Conflict,
            "{refused:?}"
        );
    }
    assert_eq!(events_of(&context, "PaymentOpened").await, 1);
    assert_eq!(events_of(&context, "ProviderPaymentRecorded").await, 1);
    // The refused ones are cancelled, so they can never be paid.
    assert_eq!(
        events_of(&context, "PaymentCanceled").await,
        outcomes
            .iter()
            .filter(|o| o.as_ref().is_err_and(|e| e.code == Some("payment_open")))
            .count() as i64
    );
    // The same key is the same payment; any other is refused while it is open.
    let again = core
        .start_payment(customer, checkout(winning_key(&outcomes)))
        .await
        .expect("the same payment");
    assert_eq!(again.payment_id, started[0].payment_id);
    let refused = core
        .start_payment(customer, checkout("later".to_owned()))
        .await
        .expect_err("one open payment");
    assert_eq!(refused.code, Some("payment_open"), "{refused:?}");
    app.stop().await;
    context.cleanup().await;
}

/// The key of the attempt that started the payment.
fn winning_key<T>(outcomes: &[Result<T, CommandError>]) -> String {
    let index = outcomes
        .iter()
        .position(Result::is_ok)
        .expect("one succeeded");
    format!("tab-{index}")
}

#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_one() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), WRITE_SIDE_ONLY).await;
    let core = app.state.core.clone();
    let first = user(&app, 920_001, Role::Owner).await;
    let second = user(&app, 920_002, Role::Owner).await;
    // Ten attempts at once, half by each owner, each removing the other: demoting to
    // admin, or blocking.
    let outcomes = ten_at_once(|index| {
        let core = core.clone();
        let (by, target) = if index % 2 == 0 {
            (first, second)
        } else {
            (second, first)
        };
        let change = if index % 4 < 2 {
            UserChange::Role(Role::Admin)
        } else {
            UserChange::Block {
                reason: "race".to_owned(),
            }
        };
        async move {
            core.change_user(by, target.user_id, change, Utc::now())
                .await
        }
    })
    .await;
    assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            refused.code == Some("last_owner")
                || refused.kind == ErrorKind::Conflict
                || refused.kind == ErrorKind::InvalidState,
            "{refused:?}"
        );
    }
    let owners: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_directory WHERE role = 'owner' AND NOT blocked",
    )
    .fetch_one(&context.pool)
    .await
    .expect("a count");
    assert_eq!(owners, 1, "one owner is left: {outcomes:?}");
    // The one left cannot step down.
    for owner in [first, second] {
        let (loaded, _) = core
            .commands
            .users
            .load(&owner.user_id.to_string())
            .await
            .expect("loads");
        if loaded.role() == Role::Owner && !loaded.is_blocked() {
            let refused = core
                .change_user(
                    owner,
                    owner.user_id,
                    UserChange::Role(Role::Admin),
                    Utc::now(),
                )
                .await
                .expect_err("the last owner stays");
            assert_eq!(refused.code, Some("last_owner"));
        }
    }
    app.stop().await;
    context.cleanup().await;
}

/// A start on the salon's working day a week ahead, at `hour` UTC (+03:00 salon).
fn slot_start(hour: u32) -> chrono::DateTime<Utc> {
    let day = (Utc::now() + Duration::days(7)).date_naive();
    Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).expect("a time"))
}

#[tokio::test]
async fn a_demoted_master_takes_no_booking_even_before_any_read_model_knows() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), WRITE_SIDE_ONLY).await;
    let core = app.state.core.clone();
    let admin = user(&app, 930_001, Role::Admin).await;
    let master = user(&app, 930_002, Role::Executor).await;
    let other = user(&app, 930_003, Role::Executor).await;
    let customer = user(&app, 930_004, Role::Client).await;
    let booking = |master: Uuid, hour: u32| NewOrder::Booking {
        service_id: "haircut".to_owned(),
        master_id: master,
        start: slot_start(hour),
    };
    core.change_user(
        admin,
        master.user_id,
        UserChange::Role(Role::Client),
        Utc::now(),
    )
    .await
    .expect("demoted");
    // Right after (no read model has seen it): ten bookings at ten free hours.
    let outcomes = ten_at_once(|index| {
        let core = core.clone();
        let order = booking(master.user_id, 7 + (index as u32 % 10));
        async move { core.place_order(customer, order, Utc::now()).await }
    })
    .await;
    for outcome in &outcomes {
        let refused = outcome
            .as_ref()
            .expect_err("a demoted master takes no booking");
        assert_eq!(refused.field.as_deref(), Some("master_id"), "{refused:?}");
    }
    // An executor's five hours, each asked for twice at once (by ten customers, as
    // one customer holds at most three unpaid bookings): each hour is booked once.
    let mut customers = Vec::new();
    for index in 0..10 {
        customers.push(user(&app, 930_010 + index, Role::Client).await);
    }
    let outcomes = ten_at_once(|index| {
        let core = core.clone();
        let order = booking(other.user_id, 7 + (index as u32 % 5));
        let customer = customers[index];
        async move { core.place_order(customer, order, Utc::now()).await }
    })
    .await;
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        5,
        "{outcomes:?}"
    );
    assert_eq!(events_of(&context, "OrderPlaced").await, 5);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_withdrawn_category_and_a_demoted_agent_are_refused_at_once() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), WRITE_SIDE_ONLY).await;
    let core = app.state.core.clone();
    let admin = user(&app, 940_001, Role::Admin).await;
    let agent = user(&app, 940_002, Role::Support).await;
    let customer = user(&app, 940_003, Role::Client).await;
    let look = |active| CategoryLook {
        name: "Заказы".to_owned(),
        icon: None,
        colour: "#1565C0".to_owned(),
        position: 1,
        active,
    };
    core.create_ticket_category(admin, "orders", look(true), Utc::now())
        .await
        .expect("created");
    let open = |category: &str| NewTicket {
        category: category.to_owned(),
        title: "Где заказ?".to_owned(),
        description: "Жду неделю".to_owned(),
        priority: None,
    };
    let opened = core
        .open_ticket(customer, open("orders"), Utc::now())
        .await
        .expect("opened");
    let ticket: Uuid = opened.aggregate_id.parse().expect("an id");
    core.update_ticket_category(
        admin,
        "orders",
        CategoryChange {
            active: Some(false),
            ..CategoryChange::default()
        },
        Utc::now(),
    )
    .await
    .expect("withdrawn");
    core.change_user(
        admin,
        agent.user_id,
        UserChange::Role(Role::Client),
        Utc::now(),
    )
    .await
    .expect("demoted");
    let opens = ten_at_once(|_| {
        let core = core.clone();
        let ticket = open("orders");
        async move { core.open_ticket(customer, ticket, Utc::now()).await }
    })
    .await;
    for outcome in &opens {
        let refused = outcome.as_ref().expect_err("the category is not offered");
        assert_eq!(refused.field.as_deref(), Some("category"), "{refused:?}");
    }
    let assigns = ten_at_once(|_| {
        let core = core.clone();
        let change = TicketChange::Assign {
            assignee_id: agent.user_id,
        };
        async move { core.change_ticket(admin, ticket, change, Utc::now()).await }
    })
    .await;
    for outcome in &assigns {
        let refused = outcome
            .as_ref()
            .expect_err("the assignee is no longer staff");
        assert_eq!(refused.field.as_deref(), Some("assignee_id"), "{refused:?}");
    }
    assert_eq!(events_of(&context, "TicketOpened").await, 1);
    assert_eq!(events_of(&context, "TicketAssigned").await, 0);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_referral_code_two_users_drew_is_given_to_the_first_and_the_second_gets_another() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let core = &app.state.core;
    // The user Telegram 995_001 will be, and another whose id ends the same way: the
    // derived codes (the id's last 40 bits) collide.
    let will_be = Uuid::now_v7();
    let mut bytes = *will_be.as_bytes();
    bytes[8] ^= 0x01;
    let first = Uuid::from_bytes(bytes);
    assert_eq!(
        domain::user::referral_code_for(first),
        domain::user::referral_code_for(will_be)
    );
    registered(&core.commands, first, 995_000, "Первый", Role::Client).await;
    sqlx::query(
        "INSERT INTO telegram_identities (telegram_id, user_id, created_at) VALUES ($1, $2, now())",
    )
    .bind(995_001_i64)
    .bind(will_be)
    .execute(&context.pool)
    .await
    .expect("the identity");
    let signed = core
        .sign_in(
            &tests::people::telegram(995_001, "Второй"),
            None,
            Utc::now(),
        )
        .await
        .expect("the second signs in all the same");
    assert_eq!(signed.user_id, will_be);
    let (user, _) = core
        .commands
        .users
        .load(&will_be.to_string())
        .await
        .expect("the user");
    assert_ne!(user.referral_code(), domain::user::referral_code_for(first));
    assert_eq!(user.referral_code().len(), 16, "a longer random code");
    // And again: the same user, no new registration.
    core.sign_in(
        &tests::people::telegram(995_001, "Второй"),
        None,
        Utc::now(),
    )
    .await
    .expect("signs in again");
    assert!(
        tests::eventually(std::time::Duration::from_secs(20), || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM rm_users")
                .fetch_one(&context.pool)
                .await
                .is_ok_and(|users| users == 2)
        })
        .await
    );
    let parked: i64 = sqlx::query_scalar("SELECT count(*) FROM projection_parked")
        .fetch_one(&context.pool)
        .await
        .expect("parked");
    assert_eq!(parked, 0);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn text_with_a_nul_character_never_reaches_the_store() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), WRITE_SIDE_ONLY).await;
    let core = &app.state.core;
    let client = user(&app, 995_101, Role::Client).await;
    let stored = async || -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&context.pool)
            .await
            .expect("events")
    };
    core.commands
        .credits
        .execute(
            &client.user_id.to_string(),
            domain::credit::CreditCommand::Grant {
                amount: 5,
                reason: domain::credit::GrantReason::Promo,
                reference: "launch".to_owned(),
                expires_at: None,
            },
            &domain::command::CommandContext::system("test"),
        )
        .await
        .expect("credits to spend");
    let before = stored().await;
    let refused = core
        .spend_credits(
            client,
            domain::use_cases::credits::Spend {
                amount: 1,
                reason: "image".to_owned(),
                operation_id: "op\u{0}1".to_owned(),
            },
            Utc::now(),
        )
        .await
        .expect_err("refused");
    assert_eq!(
        (refused.kind, refused.field.as_deref(), refused.code),
        (
            ErrorKind::InvalidInput,
            Some("operation_id"),
            Some("nul_character")
        ),
        "{refused:?}"
    );
    assert_eq!(stored().await, before, "nothing was stored");
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn an_order_goes_only_to_someone_who_works_on_orders_even_past_the_use_case() {
    use domain::command::{CommandContext, Commands};
    use domain::order::{Actor, OrderCommand};
    use tests::history::{business, people, things};

    let context = TestContext::new().await;
    business(&context.pool).await;
    let commands = Commands::over(context.pool.clone());
    let admin = Actor {
        user_id: people::ADMIN,
        role: Role::Admin,
    };
    let give = |executor_id| {
        let commands = &commands;
        async move {
            commands
                .orders
                .execute(
                    &things::COURSEWORK_POOL.to_string(),
                    OrderCommand::AssignExecutor {
                        executor_id,
                        by: admin,
                    },
                    &CommandContext::system("test"),
                )
                .await
        }
    };
    // Straight to the aggregate (no use case checks first): the store refuses a
    // client and support, and takes the executor.
    for not_working in [people::C1, people::SUPPORT] {
        let refused = give(not_working).await.expect_err("refused by the store");
        assert_eq!(refused.field.as_deref(), Some("executor_id"), "{refused:?}");
        assert_eq!(refused.kind, ErrorKind::InvalidInput, "{refused:?}");
    }
    give(people::EXECUTOR).await.expect("an executor takes it");
    context.cleanup().await;
}
