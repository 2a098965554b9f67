//! Staff hand work out in the bot: an admin gives a paid coursework to an executor
//! from the staff group's card (least busy first), support gives a ticket to a
//! colleague from the desk card, and the core refuses to give work to someone whose
//! role may not do it.

use std::time::Duration;

use chrono::Utc;
use domain::order::Coursework;
use domain::permissions::Role;
use domain::use_cases::order_actions::OrderAction;
use domain::use_cases::payments::{PaymentOrder, PurposeRequest};
use domain::use_cases::placing::NewOrder;
use domain::use_cases::users::UserChange;
use serde_json::{Value, json};
use tests::TestContext;
use tests::bot_client::{
    bot_app_with, button, buttons, events_of, labels, message_with_button, registered, text,
};
use tests::paying::checkout;
use tests::people::{owner, signed_in, staff};
use tests::settles;
use tests::telegram_fake::{FakeTelegram, TgUser};
use uuid::Uuid;

const STAFF_GROUP: i64 = -100_777_000;

#[tokio::test]
async fn an_admin_gives_a_paid_order_to_an_executor_from_the_staff_group_card() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, Some(STAFF_GROUP)).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 9_000).await;
    let admin_caller = staff(&core, boss, 9_002, "Админ", Role::Admin).await;
    let busy = staff(&core, boss, 9_003, "Боря", Role::Executor).await;
    let free = staff(&core, boss, 9_004, "Вера", Role::Executor).await;
    staff(&core, boss, 9_005, "Оля", Role::Support).await;
    let admin = TgUser::new(9_002, "Админ", "ru");
    let customer = signed_in(&core, 9_001, "Аня").await;
    let paid_order = async |subject: &str| {
        let brief = Coursework {
            subject: subject.to_owned(),
            work_type: "Курсовая".to_owned(),
            volume: 20,
            deadline: Utc::now() + chrono::Duration::days(10),
            files: vec![],
            attachments: vec![],
            max_revisions: Coursework::DEFAULT_REVISIONS,
        };
        let placed = core
            .place_order(customer, NewOrder::Coursework(brief), Utc::now())
            .await
            .expect("placed");
        let order_id: Uuid = placed.aggregate_id.parse().expect("an order id");
        let quote = OrderAction::Quote {
            price: "1200".parse().expect("money"),
        };
        core.act_on_order(admin_caller, order_id, quote, Utc::now())
            .await
            .expect("quoted");
        core.act_on_order(customer, order_id, OrderAction::AcceptQuote, Utc::now())
            .await
            .expect("accepted");
        let started = core
            .start_payment(
                customer,
                PaymentOrder {
                    purpose: PurposeRequest::Order { order_id },
                    idempotence_key: format!("pay-{order_id}"),
                    payer_kind: None,
                    customer_email: None,
                    customer_phone: None,
                },
            )
            .await
            .expect("a payment");
        let url = started.confirmation_url.expect("a sandbox link");
        checkout(&app, &url, "pay").await;
        settles("the order is paid", Duration::from_secs(20), async || {
            sqlx::query_scalar::<_, String>("SELECT status FROM rm_orders WHERE order_id = $1")
                .bind(order_id.to_string())
                .fetch_optional(&context.pool)
                .await
                .expect("reads")
                .as_deref()
                == Some("paid")
        })
        .await;
        order_id
    };

    // Боря already holds one order, so Вера comes first in the list.
    let first = paid_order("Физика").await;
    telegram
        .wait_for_text(STAFF_GROUP, "Оплачен заказ «Физика»")
        .await;
    core.act_on_order(busy, first, OrderAction::Take, Utc::now())
        .await
        .expect("Боря takes the first");
    settles(
        "Боря holds the first",
        Duration::from_secs(20),
        async || {
            sqlx::query_scalar::<_, Option<Uuid>>(
                "SELECT executor_id FROM rm_orders WHERE order_id = $1",
            )
            .bind(first.to_string())
            .fetch_optional(&context.pool)
            .await
            .expect("reads")
            .flatten()
                == Some(busy.user_id)
        },
    )
    .await;
    let second = paid_order("Химия <органика>").await;
    let card = telegram
        .wait_for_text(STAFF_GROUP, "Оплачен заказ «Химия &lt;органика&gt;»")
        .await;
    let shown: Vec<String> = buttons(&card)
        .iter()
        .map(|data| data.replace(&second.to_string(), "[order]"))
        .map(|data| match data.strip_prefix("asg:o:") {
            Some(_) => "asg:o:[order]".to_owned(),
            None => data,
        })
        .collect();
    insta::assert_json_snapshot!(
        "bot_staff_group_paid_card",
        json!({"text": text(&card).replace(&second.to_string(), "[order]"), "labels": labels(&card), "buttons": shown})
    );

    // The admin presses "assign" in the group: the list comes to the private chat.
    telegram.press(&admin, 30, &button(&card, "asg:o:"));
    let list = telegram.wait_for_text(9_002, "Кому передать").await;
    // Who may work on orders (executors, admins, the owner), least busy first, then
    // by name; support is not offered.
    assert_eq!(
        labels(&list),
        ["Админ (0)", "Вера (0)", "Ольга (0)", "Боря (1)"],
        "{list:#}"
    );
    let vera = buttons(&list)
        .into_iter()
        .zip(labels(&list))
        .find(|(_, label)| label.starts_with("Вера"))
        .map(|(data, _)| data)
        .expect("Вера is offered");
    telegram.press(&admin, 31, &vera);
    telegram.wait_for_text(9_002, "Передано: Вера").await;
    telegram
        .wait_for_text(9_004, "Химия &lt;органика&gt;")
        .await;
    let assigned: Vec<Value> = events_of(&context, "Order", &second.to_string())
        .await
        .into_iter()
        .filter(|(event_type, _)| event_type == "ExecutorAssigned")
        .map(|(_, payload)| payload["ExecutorAssigned"].clone())
        .collect();
    assert_eq!(assigned.len(), 1, "{assigned:#?}");
    assert_eq!(assigned[0]["executor_id"], json!(free.user_id));
    assert_eq!(assigned[0]["taken_from_pool"], json!(false));

    // Giving an order to someone whose role does not work on orders is refused.
    let support_id: Uuid =
        sqlx::query_scalar("SELECT user_id FROM telegram_identities WHERE telegram_id = 9005")
            .fetch_one(&context.pool)
            .await
            .expect("support's id");
    let refused = core
        .act_on_order(
            admin_caller,
            second,
            OrderAction::Assign {
                executor_id: support_id,
            },
            Utc::now(),
        )
        .await
        .expect_err("support may not work on orders");
    assert_eq!(refused.field.as_deref(), Some("executor_id"), "{refused:?}");
    // Nor to a blocked executor, even one the list showed before.
    core.change_user(
        boss,
        busy.user_id,
        UserChange::Block {
            reason: "test".to_owned(),
        },
        Utc::now(),
    )
    .await
    .expect("blocked");
    let refused = core
        .act_on_order(
            admin_caller,
            second,
            OrderAction::Assign {
                executor_id: busy.user_id,
            },
            Utc::now(),
        )
        .await
        .expect_err("a blocked executor gets no order");
    assert_eq!(refused.field.as_deref(), Some("executor_id"), "{refused:?}");
    // A new order's card, not paid yet, offers no hand-out.
    assert!(
        telegram
            .texts_to(STAFF_GROUP)
            .iter()
            .filter(|message| text(message).contains("Новый заказ"))
            .all(|message| buttons(message)
                .iter()
                .all(|data| !data.starts_with("asg:"))),
        "a new, unpaid order is not handed out yet"
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn support_gives_a_ticket_to_a_colleague_from_the_desk_card() {
    let context = TestContext::new().await;
    let telegram = FakeTelegram::start().await;
    let app = bot_app_with(&context, &telegram, Some(STAFF_GROUP)).await;
    let core = app.state.core.clone();
    let boss = owner(&core, 9_500).await;
    staff(&core, boss, 9_502, "Оля", Role::Support).await;
    let colleague = staff(&core, boss, 9_503, "Петя", Role::Support).await;
    staff(&core, boss, 9_504, "Боря", Role::Executor).await;
    let customer = TgUser::new(9_501, "Аня", "ru");
    let agent = TgUser::new(9_502, "Оля", "ru");
    registered(&telegram, &customer).await;
    telegram.write(&customer, "/support");
    telegram.wait_for_text(9_501, "Опишите вопрос").await;
    telegram.write(&customer, "Не работает оплата");
    telegram.wait_for_text(9_501, "создано").await;

    // The group's card offers take and assign next to open.
    let card = message_with_button(&telegram, STAFF_GROUP, "asg:t:").await;
    let ticket_id = button(&card, "ticket:")
        .trim_start_matches("ticket:")
        .to_owned();
    assert_eq!(
        labels(&card),
        ["Открыть обращение", "🙋 Взять", "👤 Назначить"]
    );
    assert!(buttons(&card).contains(&format!("tk:{ticket_id}:t")));

    // From the desk card in the private chat, Оля gives it to Петя.
    telegram.press(&agent, 10, &format!("ticket:{ticket_id}"));
    let desk = message_with_button(&telegram, 9_502, "asg:t:").await;
    telegram.press(&agent, 11, &button(&desk, "asg:t:"));
    let list = telegram.wait_for_text(9_502, "Кому передать").await;
    let people = labels(&list);
    assert!(
        people.iter().all(|p| !p.starts_with("Боря")),
        "executors do not handle tickets: {people:?}"
    );
    let petya = buttons(&list)
        .into_iter()
        .zip(labels(&list))
        .find(|(_, label)| label.starts_with("Петя"))
        .map(|(data, _)| data)
        .expect("Петя is offered");
    telegram.press(&agent, 12, &petya);
    telegram.wait_for_text(9_502, "Передано: Петя").await;
    let assigned: Vec<Value> = events_of(&context, "Ticket", &ticket_id)
        .await
        .into_iter()
        .filter(|(event_type, _)| event_type == "TicketAssigned")
        .map(|(_, payload)| payload["TicketAssigned"].clone())
        .collect();
    assert_eq!(assigned.len(), 1, "{assigned:#?}");
    assert_eq!(assigned[0]["assignee_id"], json!(colleague.user_id));

    // A customer pressing an old assign button is refused in words.
    let customer_caller = TgUser::new(9_501, "Аня", "ru");
    telegram.press(&customer_caller, 13, &petya);
    telegram.wait_for_text(9_501, "Не получилось").await;

    app.stop().await;
    context.cleanup().await;
}
