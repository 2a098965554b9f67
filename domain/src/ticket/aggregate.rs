use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Attachment, Priority, TicketCommand, TicketError, TicketEvent, TicketStatus};
use crate::permissions::{Action, Caller, Role, is_allowed};

/// How long after posting a message its author may still edit it.
pub const EDIT_WINDOW: Duration = Duration::minutes(15);
const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 2_000;
const MAX_MESSAGE: usize = 4_000;
const MAX_ATTACHMENTS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Message {
    author_id: Uuid,
    posted_at: DateTime<Utc>,
    #[serde(default)]
    deleted: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    opened: bool,
    customer_id: Option<Uuid>,
    status: TicketStatus,
    priority: Option<Priority>,
    assignee_id: Option<Uuid>,
    messages: HashMap<Uuid, Message>,
    rated: bool,
}

/// The status machine: open → in_progress → waiting_for_customer → resolved →
/// closed, back from waiting to in progress, and reopening of resolved or closed
/// tickets.
pub(super) fn can_move(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::*;
    matches!(
        (from, to),
        (Open, InProgress)
            | (Open, Resolved)
            | (InProgress, WaitingForCustomer)
            | (InProgress, Resolved)
            | (WaitingForCustomer, InProgress)
            | (WaitingForCustomer, Resolved)
            | (Resolved, Closed)
            | (Resolved, Open)
            | (Closed, Open)
    )
}

fn within(
    field: &'static str,
    text: &str,
    max: usize,
    rule: &'static str,
) -> Result<(), TicketError> {
    let length = text.trim().chars().count();
    if length == 0 || text.chars().count() > max {
        return Err(TicketError::Invalid { field, rule });
    }
    Ok(())
}

fn allowed(by: Caller, action: Action, what: &'static str) -> Result<(), TicketError> {
    if by.may(action) {
        Ok(())
    } else {
        Err(TicketError::NotAllowed { by: by.role, what })
    }
}

fn check_attachments(attachments: &[Attachment]) -> Result<(), TicketError> {
    if attachments.len() > MAX_ATTACHMENTS
        || attachments
            .iter()
            .any(|attachment| attachment.file_id.trim().is_empty())
    {
        return Err(TicketError::Invalid {
            field: "attachments",
            rule: "at most 10 files, each with a file id",
        });
    }
    Ok(())
}

impl Ticket {
    pub fn status(&self) -> TicketStatus {
        self.status
    }

    pub fn assignee_id(&self) -> Option<Uuid> {
        self.assignee_id
    }

    /// Its people, for deciding who may see it (`None` before it is opened).
    pub fn parties(&self) -> Option<super::TicketParties> {
        Some(super::TicketParties {
            customer_id: self.customer_id?,
            assignee_id: self.assignee_id,
        })
    }

    /// Who opened it (`None` before it is opened).
    pub fn customer_id(&self) -> Option<Uuid> {
        self.customer_id
    }

    fn decide(&self, command: TicketCommand) -> Result<Vec<TicketEvent>, TicketError> {
        if let TicketCommand::Open {
            customer_id,
            category,
            title,
            description,
            priority,
            attachments,
        } = command
        {
            if self.opened {
                return Err(TicketError::AlreadyOpened);
            }
            within("category", &category, 64, "1 to 64 characters")?;
            within("title", &title, MAX_TITLE, "1 to 200 characters")?;
            within(
                "description",
                &description,
                MAX_DESCRIPTION,
                "1 to 2,000 characters",
            )?;
            check_attachments(&attachments)?;
            return Ok(vec![TicketEvent::TicketOpened {
                customer_id,
                category,
                title,
                description,
                priority,
                attachments,
            }]);
        }
        if !self.opened {
            return Err(TicketError::NotOpened);
        }
        match command {
            TicketCommand::Open { .. } => Err(TicketError::AlreadyOpened),
            TicketCommand::PostMessage {
                message_id,
                author_id,
                author_role,
                text,
                attachments,
                internal,
                at,
            } => {
                if self.messages.contains_key(&message_id) {
                    return Ok(vec![]);
                }
                let own = Some(author_id) == self.customer_id;
                let desk = is_allowed(author_role, Action::ViewAllTickets);
                if !own && !desk {
                    return Err(TicketError::NotYourTicket);
                }
                if internal && !is_allowed(author_role, Action::PostInternalNote) {
                    return Err(TicketError::InternalNoteByClient);
                }
                // Answers from the support desk count for first-response times.
                let staff = desk && !own;
                if self.status == TicketStatus::Closed {
                    return Err(TicketError::Closed);
                }
                within("message", &text, MAX_MESSAGE, "1 to 4,000 characters")?;
                check_attachments(&attachments)?;
                Ok(vec![TicketEvent::MessagePosted {
                    message_id,
                    author_id,
                    by_staff: staff,
                    text,
                    attachments,
                    internal,
                    posted_at: at,
                }])
            }
            TicketCommand::EditMessage {
                message_id,
                author_id,
                text,
                at,
            } => {
                let Some(message) = self.messages.get(&message_id).filter(|m| !m.deleted) else {
                    return Err(TicketError::UnknownMessage(message_id));
                };
                if message.author_id != author_id {
                    return Err(TicketError::NotYourMessage);
                }
                if self.status == TicketStatus::Closed {
                    return Err(TicketError::Closed);
                }
                if at > message.posted_at + EDIT_WINDOW {
                    return Err(TicketError::EditWindowOver);
                }
                within("message", &text, MAX_MESSAGE, "1 to 4,000 characters")?;
                Ok(vec![TicketEvent::MessageEdited {
                    message_id,
                    text,
                    edited_at: at,
                }])
            }
            TicketCommand::DeleteMessage {
                message_id,
                by,
                by_role,
                at,
            } => {
                if !is_allowed(by_role, Action::DeleteTicketMessage) {
                    return Err(TicketError::DeleteByNonStaff);
                }
                let Some(message) = self.messages.get(&message_id) else {
                    return Err(TicketError::UnknownMessage(message_id));
                };
                if message.deleted {
                    return Ok(vec![]);
                }
                Ok(vec![TicketEvent::MessageDeleted {
                    message_id,
                    deleted_by: by,
                    deleted_at: at,
                }])
            }
            TicketCommand::Assign {
                assignee_id,
                assignee_role,
                by,
            } => {
                allowed(by, Action::AssignTicket, "assign tickets")?;
                if !matches!(assignee_role, Role::Support | Role::Admin | Role::Owner) {
                    return Err(TicketError::AssigneeNotStaff);
                }
                if self.status == TicketStatus::Closed {
                    return Err(TicketError::Closed);
                }
                if self.assignee_id == Some(assignee_id) {
                    return Ok(vec![]);
                }
                Ok(vec![TicketEvent::TicketAssigned { assignee_id }])
            }
            TicketCommand::ChangeStatus { status, by } => {
                allowed(by, Action::ChangeTicketStatus, "change ticket statuses")?;
                self.move_to(status)
            }
            // Closing works from any state (ChangeStatus only from resolved).
            TicketCommand::Close { by } => {
                allowed(by, Action::CloseTicket, "close tickets")?;
                if self.status == TicketStatus::Closed {
                    return Ok(vec![]);
                }
                Ok(vec![TicketEvent::StatusChanged {
                    from: self.status,
                    to: TicketStatus::Closed,
                }])
            }
            TicketCommand::ChangePriority { priority, by } => {
                allowed(by, Action::ChangeTicketPriority, "change ticket priorities")?;
                match self.priority {
                    Some(current) if current == priority => Ok(vec![]),
                    Some(current) => Ok(vec![TicketEvent::PriorityChanged {
                        from: current,
                        to: priority,
                    }]),
                    None => Err(TicketError::NotOpened),
                }
            }
            TicketCommand::RateSupport { by, stars, comment } => {
                if Some(by) != self.customer_id {
                    return Err(TicketError::NotTheCustomer);
                }
                if !matches!(self.status, TicketStatus::Resolved | TicketStatus::Closed) {
                    return Err(TicketError::NotResolvedYet);
                }
                if self.rated {
                    return Err(TicketError::AlreadyRated);
                }
                if !(1..=5).contains(&stars) {
                    return Err(TicketError::Invalid {
                        field: "rating",
                        rule: "1 to 5 stars",
                    });
                }
                if comment
                    .as_ref()
                    .is_some_and(|comment| comment.chars().count() > MAX_DESCRIPTION)
                {
                    return Err(TicketError::Invalid {
                        field: "comment",
                        rule: "at most 2,000 characters",
                    });
                }
                Ok(vec![TicketEvent::SupportRated { stars, comment }])
            }
        }
    }

    fn move_to(&self, to: TicketStatus) -> Result<Vec<TicketEvent>, TicketError> {
        if self.status == to {
            return Ok(vec![]);
        }
        if !can_move(self.status, to) {
            return Err(TicketError::Transition {
                from: self.status,
                to,
            });
        }
        Ok(vec![TicketEvent::StatusChanged {
            from: self.status,
            to,
        }])
    }
}

impl Aggregate for Ticket {
    const TYPE: &'static str = "Ticket";
    type Command = TicketCommand;
    type Event = TicketEvent;
    type Error = TicketError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            TicketEvent::TicketOpened {
                customer_id,
                priority,
                ..
            } => {
                self.opened = true;
                self.customer_id = Some(customer_id);
                self.priority = Some(priority);
                self.status = TicketStatus::Open;
            }
            TicketEvent::MessagePosted {
                message_id,
                author_id,
                posted_at,
                ..
            } => {
                self.messages.insert(
                    message_id,
                    Message {
                        author_id,
                        posted_at,
                        deleted: false,
                    },
                );
            }
            TicketEvent::MessageEdited { .. } => {}
            TicketEvent::MessageDeleted { message_id, .. } => {
                if let Some(message) = self.messages.get_mut(&message_id) {
                    message.deleted = true;
                }
            }
            TicketEvent::TicketAssigned { assignee_id } => self.assignee_id = Some(assignee_id),
            TicketEvent::StatusChanged { to, .. } => self.status = to,
            TicketEvent::PriorityChanged { to, .. } => self.priority = Some(to),
            TicketEvent::SupportRated { .. } => self.rated = true,
        }
    }
}
