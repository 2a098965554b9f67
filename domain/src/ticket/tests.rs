use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::DomainEvent;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::permissions::{Caller, Role};

type TicketTest = TestFramework<Ticket>;

fn id(n: u8) -> Uuid {
    Uuid::parse_str(&format!("0193a1b2-0000-7000-8000-0000000000{n:02x}")).expect("uuid")
}

const CUSTOMER: u8 = 1;
const AGENT: u8 = 2;

/// The support agent acting on the desk.
fn desk() -> Caller {
    Caller::new(id(AGENT), Role::Support)
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, minute, 0)
        .single()
        .expect("a valid time")
}

fn open_command(title: &str, description: &str) -> TicketCommand {
    TicketCommand::Open {
        customer_id: id(CUSTOMER),
        category: "payments".to_owned(),
        title: title.to_owned(),
        description: description.to_owned(),
        priority: Priority::Normal,
        attachments: vec![Attachment {
            file_id: "AgACAgIAAxkBAAIBZ2".to_owned(),
            name: Some("screenshot.png".to_owned()),
        }],
    }
}

fn opened() -> TicketEvent {
    TicketEvent::TicketOpened {
        customer_id: id(CUSTOMER),
        category: "payments".to_owned(),
        title: "Оплата не прошла".to_owned(),
        description: "Деньги списались, а кредиты не пришли".to_owned(),
        priority: Priority::Normal,
        attachments: vec![Attachment {
            file_id: "AgACAgIAAxkBAAIBZ2".to_owned(),
            name: Some("screenshot.png".to_owned()),
        }],
    }
}

fn post(message: u8, author: u8, role: Role, internal: bool, minute: u32) -> TicketCommand {
    TicketCommand::PostMessage {
        message_id: id(100 + message),
        author_id: id(author),
        author_role: role,
        text: "Проверяем".to_owned(),
        attachments: vec![],
        internal,
        at: at(minute),
    }
}

fn posted(message: u8, author: u8, staff: bool, internal: bool, minute: u32) -> TicketEvent {
    TicketEvent::MessagePosted {
        message_id: id(100 + message),
        author_id: id(author),
        by_staff: staff,
        text: "Проверяем".to_owned(),
        attachments: vec![],
        internal,
        posted_at: at(minute),
    }
}

fn status(from: TicketStatus, to: TicketStatus) -> TicketEvent {
    TicketEvent::StatusChanged { from, to }
}

#[tokio::test]
async fn open_checks_lengths() {
    TicketTest::with(())
        .given_no_previous_events()
        .when_async(open_command(
            "Оплата не прошла",
            "Деньги списались, а кредиты не пришли",
        ))
        .await
        .then_expect_events(vec![opened()]);
    TicketTest::with(())
        .given_no_previous_events()
        .when_async(open_command(&"я".repeat(201), "x"))
        .await
        .then_expect_error(TicketError::Invalid {
            field: "title",
            rule: "1 to 200 characters",
        });
    TicketTest::with(())
        .given_no_previous_events()
        .when_async(open_command(&"я".repeat(200), &"d".repeat(2_001)))
        .await
        .then_expect_error(TicketError::Invalid {
            field: "description",
            rule: "1 to 2,000 characters",
        });
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(open_command("again", "again"))
        .await
        .then_expect_error(TicketError::AlreadyOpened);
}

#[tokio::test]
async fn messages_from_the_customer_and_staff_and_internal_notes_from_staff_only() {
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(post(1, CUSTOMER, Role::Client, false, 1))
        .await
        .then_expect_events(vec![posted(1, CUSTOMER, false, false, 1)]);
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(post(2, AGENT, Role::Support, true, 2))
        .await
        .then_expect_events(vec![posted(2, AGENT, true, true, 2)]);
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(post(3, CUSTOMER, Role::Client, true, 3))
        .await
        .then_expect_error(TicketError::InternalNoteByClient);
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(post(4, 9, Role::Client, false, 3))
        .await
        .then_expect_error(TicketError::NotYourTicket);
    // The same message id again is a no-op (a redelivered bot update).
    TicketTest::with(())
        .given(vec![opened(), posted(1, CUSTOMER, false, false, 1)])
        .when_async(post(1, CUSTOMER, Role::Client, false, 1))
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn a_closed_ticket_takes_no_messages_until_reopened() {
    let closed = vec![opened(), status(TicketStatus::Open, TicketStatus::Closed)];
    TicketTest::with(())
        .given(closed.clone())
        .when_async(post(1, CUSTOMER, Role::Client, false, 5))
        .await
        .then_expect_error(TicketError::Closed);
    TicketTest::with(())
        .given(closed)
        .when_async(TicketCommand::ChangeStatus {
            status: TicketStatus::Open,
            by: desk(),
        })
        .await
        .then_expect_events(vec![status(TicketStatus::Closed, TicketStatus::Open)]);
}

#[tokio::test]
async fn own_messages_are_edited_within_fifteen_minutes() {
    let history = vec![opened(), posted(1, CUSTOMER, false, false, 1)];
    let edit = |author: u8, minute: u32| TicketCommand::EditMessage {
        message_id: id(101),
        author_id: id(author),
        text: "Исправлено".to_owned(),
        at: at(minute),
    };
    TicketTest::with(())
        .given(history.clone())
        .when_async(edit(CUSTOMER, 16))
        .await
        .then_expect_events(vec![TicketEvent::MessageEdited {
            message_id: id(101),
            text: "Исправлено".to_owned(),
            edited_at: at(16),
        }]);
    TicketTest::with(())
        .given(history.clone())
        .when_async(edit(CUSTOMER, 17))
        .await
        .then_expect_error(TicketError::EditWindowOver);
    TicketTest::with(())
        .given(history)
        .when_async(edit(AGENT, 2))
        .await
        .then_expect_error(TicketError::NotYourMessage);
}

#[tokio::test]
async fn assignment_goes_to_staff() {
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(TicketCommand::Assign {
            assignee_id: id(AGENT),
            assignee_role: Role::Support,
            by: desk(),
        })
        .await
        .then_expect_events(vec![TicketEvent::TicketAssigned {
            assignee_id: id(AGENT),
        }]);
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(TicketCommand::Assign {
            assignee_id: id(CUSTOMER),
            assignee_role: Role::Client,
            by: desk(),
        })
        .await
        .then_expect_error(TicketError::AssigneeNotStaff);
}

#[tokio::test]
async fn status_moves_only_along_the_machine() {
    use TicketStatus::*;
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(TicketCommand::ChangeStatus {
            status: InProgress,
            by: desk(),
        })
        .await
        .then_expect_events(vec![status(Open, InProgress)]);
    TicketTest::with(())
        .given(vec![opened(), status(Open, InProgress)])
        .when_async(TicketCommand::ChangeStatus {
            status: WaitingForCustomer,
            by: desk(),
        })
        .await
        .then_expect_events(vec![status(InProgress, WaitingForCustomer)]);
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(TicketCommand::ChangeStatus {
            status: Closed,
            by: desk(),
        })
        .await
        .then_expect_error(TicketError::Transition {
            from: Open,
            to: Closed,
        });
    TicketTest::with(())
        .given(vec![opened(), status(Open, InProgress)])
        .when_async(TicketCommand::Close { by: desk() })
        .await
        .then_expect_events(vec![status(InProgress, Closed)]);
}

#[tokio::test]
async fn only_the_desk_assigns_moves_closes_and_reprioritises() {
    let customer = Caller::new(id(CUSTOMER), Role::Client);
    let executor = Caller::new(id(3), Role::Executor);
    for by in [customer, executor] {
        let refused = |what| TicketError::NotAllowed { by: by.role, what };
        TicketTest::with(())
            .given(vec![opened()])
            .when_async(TicketCommand::Assign {
                assignee_id: id(AGENT),
                assignee_role: Role::Support,
                by,
            })
            .await
            .then_expect_error(refused("assign tickets"));
        TicketTest::with(())
            .given(vec![opened()])
            .when_async(TicketCommand::ChangeStatus {
                status: TicketStatus::InProgress,
                by,
            })
            .await
            .then_expect_error(refused("change ticket statuses"));
        TicketTest::with(())
            .given(vec![opened()])
            .when_async(TicketCommand::ChangePriority {
                priority: Priority::Low,
                by,
            })
            .await
            .then_expect_error(refused("change ticket priorities"));
        TicketTest::with(())
            .given(vec![opened()])
            .when_async(TicketCommand::Close { by })
            .await
            .then_expect_error(refused("close tickets"));
    }
}

#[tokio::test]
async fn priority_changes() {
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(TicketCommand::ChangePriority {
            priority: Priority::Critical,
            by: desk(),
        })
        .await
        .then_expect_events(vec![TicketEvent::PriorityChanged {
            from: Priority::Normal,
            to: Priority::Critical,
        }]);
}

#[tokio::test]
async fn support_is_rated_once_by_the_customer_after_resolution() {
    let resolved = vec![opened(), status(TicketStatus::Open, TicketStatus::Resolved)];
    let rate = |by: u8, stars: u8| TicketCommand::RateSupport {
        by: id(by),
        stars,
        comment: Some("Спасибо!".to_owned()),
    };
    TicketTest::with(())
        .given(resolved.clone())
        .when_async(rate(CUSTOMER, 5))
        .await
        .then_expect_events(vec![TicketEvent::SupportRated {
            stars: 5,
            comment: Some("Спасибо!".to_owned()),
        }]);
    let mut rated = resolved.clone();
    rated.push(TicketEvent::SupportRated {
        stars: 5,
        comment: None,
    });
    TicketTest::with(())
        .given(rated)
        .when_async(rate(CUSTOMER, 4))
        .await
        .then_expect_error(TicketError::AlreadyRated);
    TicketTest::with(())
        .given(resolved.clone())
        .when_async(rate(AGENT, 5))
        .await
        .then_expect_error(TicketError::NotTheCustomer);
    TicketTest::with(())
        .given(resolved)
        .when_async(rate(CUSTOMER, 6))
        .await
        .then_expect_error(TicketError::Invalid {
            field: "rating",
            rule: "1 to 5 stars",
        });
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(rate(CUSTOMER, 5))
        .await
        .then_expect_error(TicketError::NotResolvedYet);
}

fn delete(message: u8, by: u8, role: Role) -> TicketCommand {
    TicketCommand::DeleteMessage {
        message_id: id(100 + message),
        by: id(by),
        by_role: role,
        at: at(9),
    }
}

#[tokio::test]
async fn only_the_desk_deletes_messages_once_and_deleted_ones_cannot_be_edited() {
    let history = vec![opened(), posted(1, CUSTOMER, false, false, 2)];
    TicketTest::with(())
        .given(history.clone())
        .when_async(delete(1, CUSTOMER, Role::Client))
        .await
        .then_expect_error(TicketError::DeleteByNonStaff);
    TicketTest::with(())
        .given(history.clone())
        .when_async(delete(7, AGENT, Role::Support))
        .await
        .then_expect_error(TicketError::UnknownMessage(id(107)));
    TicketTest::with(())
        .given(history.clone())
        .when_async(delete(1, AGENT, Role::Support))
        .await
        .then_expect_events(vec![TicketEvent::MessageDeleted {
            message_id: id(101),
            deleted_by: id(AGENT),
            deleted_at: at(9),
        }]);
    let mut deleted = history;
    deleted.push(TicketEvent::MessageDeleted {
        message_id: id(101),
        deleted_by: id(AGENT),
        deleted_at: at(9),
    });
    TicketTest::with(())
        .given(deleted.clone())
        .when_async(delete(1, AGENT, Role::Admin))
        .await
        .then_expect_events(vec![]);
    TicketTest::with(())
        .given(deleted)
        .when_async(TicketCommand::EditMessage {
            message_id: id(101),
            author_id: id(CUSTOMER),
            text: "ещё раз".to_owned(),
            at: at(3),
        })
        .await
        .then_expect_error(TicketError::UnknownMessage(id(101)));
}

#[tokio::test]
async fn commands_need_an_opened_ticket() {
    TicketTest::with(())
        .given_no_previous_events()
        .when_async(TicketCommand::Close { by: desk() })
        .await
        .then_expect_error(TicketError::NotOpened);
}

#[test]
fn every_event_variant_has_a_stable_json_shape() {
    let events = [
        opened(),
        posted(1, AGENT, true, true, 2),
        TicketEvent::MessageEdited {
            message_id: id(101),
            text: "Исправлено".to_owned(),
            edited_at: at(3),
        },
        TicketEvent::MessageDeleted {
            message_id: id(101),
            deleted_by: id(AGENT),
            deleted_at: at(4),
        },
        TicketEvent::TicketAssigned {
            assignee_id: id(AGENT),
        },
        status(TicketStatus::InProgress, TicketStatus::WaitingForCustomer),
        TicketEvent::PriorityChanged {
            from: Priority::Low,
            to: Priority::High,
        },
        TicketEvent::SupportRated {
            stars: 4,
            comment: None,
        },
    ];
    let typed: Vec<(String, String, &TicketEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
}

mod properties {
    use cqrs_es::Aggregate;
    use cqrs_es::event_sink::EventSink;
    use proptest::prelude::*;

    use super::*;

    fn any_status() -> impl Strategy<Value = TicketStatus> {
        prop_oneof![
            Just(TicketStatus::Open),
            Just(TicketStatus::InProgress),
            Just(TicketStatus::WaitingForCustomer),
            Just(TicketStatus::Resolved),
            Just(TicketStatus::Closed),
        ]
    }

    fn any_command() -> impl Strategy<Value = TicketCommand> {
        prop_oneof![
            any_status().prop_map(|status| TicketCommand::ChangeStatus { status, by: desk() }),
            Just(TicketCommand::Close { by: desk() }),
            (0..3u8, any::<bool>(), any::<bool>()).prop_map(|(message, staff, internal)| {
                let (author, role) = if staff {
                    (AGENT, Role::Support)
                } else {
                    (CUSTOMER, Role::Client)
                };
                post(message, author, role, internal, 1)
            }),
            (1..7u8).prop_map(|stars| TicketCommand::RateSupport {
                by: id(CUSTOMER),
                stars,
                comment: None
            }),
        ]
    }

    proptest! {
        #[test]
        fn random_commands_move_only_along_the_machine_and_never_write_on_closed_tickets(
            commands in proptest::collection::vec(any_command(), 1..40)
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let mut ticket = Ticket::default();
            ticket.apply(opened());
            let mut ratings = 0;
            for command in commands {
                let before = ticket.status();
                let sink = EventSink::default();
                let mut attempt = ticket.clone();
                if runtime.block_on(attempt.handle(command, &(), &sink)).is_ok() {
                    for event in runtime.block_on(sink.collect()) {
                        match &event {
                            TicketEvent::StatusChanged { from, to } => {
                                prop_assert_eq!(*from, before);
                                prop_assert!(super::super::aggregate::can_move(*from, *to) || *to == TicketStatus::Closed);
                            }
                            TicketEvent::MessagePosted { internal, by_staff, .. } => {
                                prop_assert!(before != TicketStatus::Closed);
                                prop_assert!(!internal || *by_staff);
                            }
                            TicketEvent::SupportRated { .. } => ratings += 1,
                            _ => {}
                        }
                        ticket.apply(event);
                    }
                }
            }
            prop_assert!(ratings <= 1);
        }
    }
}

#[tokio::test]
async fn executors_neither_write_internal_notes_nor_on_others_tickets() {
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(post(5, 7, Role::Executor, true, 4))
        .await
        .then_expect_error(TicketError::NotYourTicket);
    TicketTest::with(())
        .given(vec![opened()])
        .when_async(post(5, 7, Role::Executor, false, 4))
        .await
        .then_expect_error(TicketError::NotYourTicket);
}
