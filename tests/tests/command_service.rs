//! The command service over the real event store: stored events, metadata, returned
//! sequences, concurrent writers, refusals, and upcasting of an old event version.

use cqrs_es::persist::{EventUpcaster, SemanticVersionEventUpcaster};
use domain::command::{CommandContext, CommandService, Commands, ErrorKind};
use domain::credit::{CreditAccount, CreditCommand, CreditEvent, GrantReason};
use domain::money::Money;
use domain::order::{OrderCommand, OrderDetails, Slot};
use domain::permissions::Role;
use futures_util::future::join_all;
use serde_json::{Value, json};
use tests::TestContext;
use uuid::Uuid;

fn grant(amount: u64, reference: &str) -> CreditCommand {
    CreditCommand::Grant {
        amount,
        reason: GrantReason::Purchase,
        reference: reference.to_owned(),
        expires_at: None,
    }
}

#[tokio::test]
async fn commands_store_events_with_metadata_and_return_the_new_sequence() {
    let context = TestContext::new().await;
    let service = CommandService::<CreditAccount>::new(context.pool.clone(), ());
    let account = Uuid::now_v7().to_string();
    let admin = Uuid::now_v7();
    let who = CommandContext::user(admin, Role::Admin)
        .with_request_id("req-1")
        .caused_by("Payment:p-1:3");

    let first = service
        .execute(&account, grant(50, "payment-1"), &who)
        .await
        .expect("grant");
    assert_eq!(first.sequence, 1);
    assert_eq!(first.events.len(), 1);
    let second = service
        .execute(
            &account,
            CreditCommand::Spend {
                amount: 20,
                reason: "image generation".to_owned(),
                operation_id: "gen-1".to_owned(),
                at: chrono::Utc::now(),
            },
            &who,
        )
        .await
        .expect("spend");
    assert_eq!(second.sequence, 2);
    // An idempotent repeat commits nothing and reports the unchanged sequence.
    let repeat = service
        .execute(&account, grant(50, "payment-1"), &who)
        .await
        .expect("repeat");
    assert_eq!((repeat.sequence, repeat.events.len()), (2, 0));

    let refused = service
        .execute(
            &account,
            CreditCommand::Spend {
                amount: 100,
                reason: "image generation".to_owned(),
                operation_id: "gen-2".to_owned(),
                at: chrono::Utc::now(),
            },
            &who,
        )
        .await
        .expect_err("not enough credits");
    assert_eq!(refused.kind, ErrorKind::InvalidState);
    assert_eq!(
        refused.message,
        "the balance is 30 credits, 100 are needed; top up or spend less"
    );

    let stored: Vec<(i64, String, String, Value, Value)> = sqlx::query_as(
        "SELECT sequence, event_type, event_version, payload::jsonb::json, metadata::jsonb::json \
         FROM events WHERE aggregate_type = 'CreditAccount' AND aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&account)
    .fetch_all(&context.pool)
    .await
    .expect("events");
    assert_eq!(stored.len(), 2);
    assert_eq!(
        (stored[0].1.as_str(), stored[0].2.as_str()),
        ("CreditsGranted", "1.0")
    );
    assert_eq!(
        stored[0].3,
        json!({"CreditsGranted": {"amount": 50, "reason": "purchase", "reference": "payment-1", "expires_at": null}})
    );
    let metadata = &stored[1].4;
    assert_eq!(metadata["actor_kind"], "user");
    assert_eq!(metadata["actor_id"], admin.to_string());
    assert_eq!(metadata["actor_role"], "admin");
    assert_eq!(metadata["request_id"], "req-1");
    assert_eq!(metadata["causation_id"], "Payment:p-1:3");
    let time = metadata["time"].as_str().expect("a time");
    assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");

    let (loaded, sequence) = service.load(&account).await.expect("load");
    assert_eq!((loaded.balance(), sequence), (30, 2));
    context.cleanup().await;
}

#[tokio::test]
async fn concurrent_commands_on_one_aggregate_are_retried_and_none_is_lost() {
    let context = TestContext::new().await;
    let service = std::sync::Arc::new(CommandService::<CreditAccount>::new(
        context.pool.clone(),
        (),
    ));
    let account = Uuid::now_v7().to_string();
    let runs = (0..8).map(|writer| {
        let service = service.clone();
        let account = account.clone();
        tokio::spawn(async move {
            let who = CommandContext::system("test");
            let mut granted = 0;
            for round in 0..5 {
                match service
                    .execute(&account, grant(1, &format!("w{writer}-{round}")), &who)
                    .await
                {
                    Ok(committed) => granted += committed.events.len() as u64,
                    Err(error) => assert_eq!(error.kind, ErrorKind::Conflict, "{error}"),
                }
            }
            granted
        })
    });
    let granted: u64 = join_all(runs)
        .await
        .into_iter()
        .map(|run| run.expect("writer"))
        .sum();
    let (loaded, sequence) = service.load(&account).await.expect("load");
    assert_eq!(
        loaded.balance(),
        granted,
        "every committed grant counts once"
    );
    assert_eq!(sequence as u64, granted);
    assert!(
        granted >= 30,
        "retries let most concurrent commands through ({granted} of 40)"
    );
    context.cleanup().await;
}

#[tokio::test]
async fn an_upcaster_brings_an_old_event_version_up_to_date_on_load() {
    let context = TestContext::new().await;
    let account = Uuid::now_v7().to_string();
    // Version 0.9 of CreditsGranted called the amount "credits" and had no expiry.
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('CreditAccount', $1, 1, 'CreditsGranted', '0.9', \
                 '{\"CreditsGranted\": {\"credits\": 7, \"reason\": \"promo\", \"reference\": \"spring\"}}', '{}')",
    )
    .bind(&account)
    .execute(&context.pool)
    .await
    .expect("legacy event");

    let plain = CommandService::<CreditAccount>::new(context.pool.clone(), ());
    let error = plain
        .load(&account)
        .await
        .expect_err("0.9 does not decode as 1.0");
    assert_eq!(error.kind, ErrorKind::Internal, "{error}");

    let upcaster: Box<dyn EventUpcaster> = Box::new(SemanticVersionEventUpcaster::new(
        "CreditsGranted",
        "1.0",
        Box::new(|mut payload: Value| {
            if let Some(body) = payload
                .get_mut("CreditsGranted")
                .and_then(Value::as_object_mut)
            {
                if let Some(credits) = body.remove("credits") {
                    body.insert("amount".to_owned(), credits);
                }
                body.entry("expires_at").or_insert(Value::Null);
            }
            payload
        }),
    ));
    let service =
        CommandService::<CreditAccount>::with_upcasters(context.pool.clone(), (), vec![upcaster]);
    let (loaded, sequence) = service.load(&account).await.expect("upcast on load");
    assert_eq!((loaded.balance(), sequence), (7, 1));
    let committed = service
        .execute(
            &account,
            CreditCommand::Spend {
                amount: 7,
                reason: "discount".to_owned(),
                operation_id: "order-9".to_owned(),
                at: chrono::Utc::now(),
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("spend the upcast credits");
    assert_eq!(committed.sequence, 2);
    assert!(matches!(
        committed.events[0],
        CreditEvent::CreditsSpent { amount: 7, .. }
    ));
    context.cleanup().await;
}

#[tokio::test]
async fn a_cached_aggregate_changed_by_another_process_is_reloaded_not_overwritten() {
    let context = TestContext::new().await;
    // Two services stand for two API processes, each with its own cache.
    let first = CommandService::<CreditAccount>::new(context.pool.clone(), ());
    let second = CommandService::<CreditAccount>::new(context.pool.clone(), ());
    let account = Uuid::now_v7().to_string();
    let who = CommandContext::system("test");
    first
        .execute(&account, grant(10, "a"), &who)
        .await
        .expect("first caches the account");
    second
        .execute(&account, grant(5, "b"), &who)
        .await
        .expect("second appends behind its back");
    // `first` still holds balance 10 at sequence 1; this spend needs the 15.
    let spend = CreditCommand::Spend {
        amount: 15,
        reason: "discount".to_owned(),
        operation_id: "order-1".to_owned(),
        at: chrono::Utc::now(),
    };
    let committed = first
        .execute(&account, spend, &who)
        .await
        .expect("reloaded and spent");
    assert_eq!(committed.sequence, 3);
    let (loaded, sequence) = first.load(&account).await.expect("load");
    assert_eq!((loaded.balance(), sequence), (0, 3));
    // And a repeat of `second`'s grant through `first` is recognised as done.
    let repeat = first
        .execute(&account, grant(5, "b"), &who)
        .await
        .expect("no-op");
    assert_eq!((repeat.sequence, repeat.events.len()), (3, 0));
    context.cleanup().await;
}

fn booking(order_id: Uuid, master_id: Uuid, start_hour: u32) -> OrderCommand {
    use chrono::TimeZone;
    let start = chrono::Utc
        .with_ymd_and_hms(2026, 12, 1, start_hour, 0, 0)
        .single()
        .expect("a valid time");
    OrderCommand::Place {
        order_id,
        customer_id: Uuid::now_v7(),
        terms: None,
        details: OrderDetails::Booking {
            service_id: "haircut".to_owned(),
            service_name: "Стрижка".to_owned(),
            master_id,
            slot: Slot {
                start,
                end: start + chrono::Duration::hours(1),
            },
            price: Money::from_kopecks(150_000),
        },
    }
}

#[tokio::test]
async fn one_masters_slot_is_booked_once_even_by_simultaneous_commands() {
    let context = TestContext::new().await;
    let commands = std::sync::Arc::new(Commands::over(context.pool.clone()));
    let master = Uuid::now_v7();
    tests::history::registered(&commands, master, 7_001, "Вера", Role::Executor).await;
    let who = CommandContext::system("test");
    // Ten processes place overlapping bookings at the same instant.
    let attempts = (0..10).map(|_| {
        let commands = commands.clone();
        let who = who.clone();
        tokio::spawn(async move {
            let order = Uuid::now_v7();
            commands
                .orders
                .execute(&order.to_string(), booking(order, master, 10), &who)
                .await
        })
    });
    let outcomes: Vec<_> = join_all(attempts)
        .await
        .into_iter()
        .map(|outcome| outcome.expect("no panic"))
        .collect();
    let booked = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(booked, 1, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
        assert_eq!(refused.kind, ErrorKind::InvalidState);
        assert_eq!(
            refused.message,
            "the master is already booked at that time; pick another slot"
        );
    }
    // Another hour is free; cancelling frees the taken one.
    let later = Uuid::now_v7();
    commands
        .orders
        .execute(&later.to_string(), booking(later, master, 11), &who)
        .await
        .expect("11:00 is free");
    let first = outcomes
        .iter()
        .find_map(|outcome| outcome.as_ref().ok())
        .expect("one booking")
        .aggregate_id
        .clone();
    commands
        .orders
        .execute(
            &first,
            OrderCommand::Cancel {
                reason: "Перенос".to_owned(),
                refund: None,
                by: domain::order::Actor {
                    user_id: Uuid::now_v7(),
                    role: Role::Admin,
                },
                at: chrono::Utc::now(),
            },
            &who,
        )
        .await
        .expect("cancelled");
    let again = Uuid::now_v7();
    commands
        .orders
        .execute(&again.to_string(), booking(again, master, 10), &who)
        .await
        .expect("10:00 is free again");
    context.cleanup().await;
}

#[tokio::test]
async fn a_command_naming_another_aggregate_is_refused() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    let order = Uuid::now_v7();
    let error = commands
        .orders
        .execute(
            &Uuid::now_v7().to_string(),
            booking(order, Uuid::now_v7(), 9),
            &CommandContext::system("test"),
        )
        .await
        .expect_err("wrong aggregate");
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    context.cleanup().await;
}

/// A calendar that never sees anything, so only the store's constraint stands
/// between two bookings of one slot.
struct BlindCalendar;

impl domain::order::SlotCalendar for BlindCalendar {
    fn is_free<'a>(
        &'a self,
        _master_id: Uuid,
        _slot: &'a Slot,
        _order_id: Uuid,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<bool, domain::order::SlotCheckError>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async { Ok(true) })
    }
}

#[tokio::test]
async fn the_store_itself_refuses_an_overlapping_booking() {
    let context = TestContext::new().await;
    let commands = Commands::new(
        context.pool.clone(),
        domain::order::OrderServices {
            calendar: std::sync::Arc::new(BlindCalendar),
        },
    );
    let master = Uuid::now_v7();
    tests::history::registered(&commands, master, 7_001, "Вера", Role::Executor).await;
    let who = CommandContext::system("test");
    let first = Uuid::now_v7();
    commands
        .orders
        .execute(&first.to_string(), booking(first, master, 10), &who)
        .await
        .expect("the first booking");
    let second = Uuid::now_v7();
    let refused = commands
        .orders
        .execute(&second.to_string(), booking(second, master, 10), &who)
        .await
        .expect_err("the constraint refuses the overlap");
    assert_eq!(refused.kind, ErrorKind::InvalidState);
    assert_eq!(
        refused.message,
        "the master is already booked at that time; pick another slot"
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Order'")
            .fetch_one(&context.pool)
            .await
            .expect("count");
    assert_eq!(stored, 1, "the refused booking left no event");
    context.cleanup().await;
}
