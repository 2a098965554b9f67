//! The support desk: customers open tickets and talk on their own; staff answer (or
//! leave internal notes), assign, set status and priority. The Ticket aggregate has
//! the last word on each step; that the category is offered and the assignee is staff
//! the store decides with the event.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Core, Written};
use crate::command::CommandError;
use crate::permissions::{Action, Caller, Role};
use crate::ticket::{Priority, TicketCommand, TicketStatus};
use crate::use_cases::files::{AttachedTo, MAX_ATTACHED};

/// A new ticket as the customer writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub category: String,
    pub title: String,
    pub description: String,
    /// Normal when not given.
    pub priority: Option<Priority>,
}

/// A change to a ticket by staff or its customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketChange {
    /// To a support agent or an admin.
    Assign {
        assignee_id: Uuid,
    },
    Status(TicketStatus),
    Priority(Priority),
    /// Only the customer, once resolved.
    Rate {
        stars: u8,
        comment: Option<String>,
    },
}

impl Core {
    pub async fn open_ticket(
        &self,
        caller: Caller,
        ticket: NewTicket,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::OpenTicket)?;
        if ticket.category.trim().is_empty() || ticket.category.chars().count() > 50 {
            return Err(CommandError::invalid("category", "1 to 50 characters"));
        }
        let ticket_id = crate::command::new_id().to_string();
        let committed = self
            .commands
            .tickets
            .execute(
                &ticket_id,
                TicketCommand::Open {
                    customer_id: caller.user_id,
                    category: ticket.category,
                    title: ticket.title,
                    description: ticket.description,
                    priority: ticket.priority.unwrap_or(Priority::Normal),
                    attachments: Vec::new(),
                },
                &caller.context().at(now),
            )
            .await?;
        Ok(Written::new(ticket_id, committed.sequence))
    }

    /// A message in the thread, or (staff) an internal note.
    pub async fn post_ticket_message(
        &self,
        caller: Caller,
        ticket_id: Uuid,
        text: String,
        internal: bool,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        self.post_ticket_message_with_files(caller, ticket_id, text, internal, &[], now)
            .await
    }

    /// A message (or note) with files the caller uploaded for tickets: they are
    /// attached to the ticket, so whoever may see the message may read them (a note's
    /// only staff), and the event names them by id alone.
    pub async fn post_ticket_message_with_files(
        &self,
        caller: Caller,
        ticket_id: Uuid,
        text: String,
        internal: bool,
        files: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(if internal {
            Action::PostInternalNote
        } else {
            Action::PostTicketMessage
        })?;
        if !files.is_empty() {
            // Files go only to a ticket the caller may see (else they would be tied
            // to a stranger's ticket for nothing).
            let (ticket, _) = self.commands.tickets.load(&ticket_id.to_string()).await?;
            if !ticket
                .parties()
                .is_some_and(|parties| parties.visible_to(caller))
            {
                return Err(CommandError::not_found("no such ticket"));
            }
        }
        let attached_to = if internal {
            AttachedTo::TicketNote
        } else {
            AttachedTo::TicketMessage
        };
        // The store attaches them with the message's event; checked first so a
        // refusal names the file.
        self.check_attachable(
            caller,
            files,
            crate::files::FilePurpose::Ticket,
            (attached_to, &ticket_id.to_string()),
            MAX_ATTACHED,
        )
        .await?;
        let attachments = files
            .iter()
            .copied()
            .map(|file_id| crate::ticket::Attachment {
                file_id: file_id.to_string(),
                name: None,
            })
            .collect();
        self.ticket_command(
            caller,
            ticket_id,
            TicketCommand::PostMessage {
                message_id: crate::command::new_id(),
                author_id: caller.user_id,
                author_role: caller.role,
                text,
                attachments,
                internal,
                at: now,
            },
            now,
        )
        .await
    }

    /// One's own message, within the edit window.
    pub async fn edit_ticket_message(
        &self,
        caller: Caller,
        ticket_id: Uuid,
        message_id: Uuid,
        text: String,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        self.ticket_command(
            caller,
            ticket_id,
            TicketCommand::EditMessage {
                message_id,
                author_id: caller.user_id,
                text,
                at: now,
            },
            now,
        )
        .await
    }

    /// The support desk removes a message; it stays in the thread without its text.
    pub async fn delete_ticket_message(
        &self,
        caller: Caller,
        ticket_id: Uuid,
        message_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::DeleteTicketMessage)?;
        self.ticket_command(
            caller,
            ticket_id,
            TicketCommand::DeleteMessage {
                message_id,
                by: caller.user_id,
                by_role: caller.role,
                at: now,
            },
            now,
        )
        .await
    }

    pub async fn change_ticket(
        &self,
        caller: Caller,
        ticket_id: Uuid,
        change: TicketChange,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        let command = match change {
            TicketChange::Assign { assignee_id } => {
                caller.require(Action::AssignTicket)?;
                let assignee_role = self
                    .role_of(assignee_id)
                    .await?
                    .ok_or_else(|| CommandError::invalid("assignee_id", "no such user"))?;
                TicketCommand::Assign {
                    assignee_id,
                    assignee_role,
                    by: caller,
                }
            }
            TicketChange::Status(status) => {
                caller.require(Action::ChangeTicketStatus)?;
                TicketCommand::ChangeStatus { status, by: caller }
            }
            TicketChange::Priority(priority) => {
                caller.require(Action::ChangeTicketPriority)?;
                TicketCommand::ChangePriority {
                    priority,
                    by: caller,
                }
            }
            TicketChange::Rate { stars, comment } => {
                caller.require(Action::RateSupport)?;
                TicketCommand::RateSupport {
                    by: caller.user_id,
                    stars,
                    comment,
                }
            }
        };
        self.ticket_command(caller, ticket_id, command, now).await
    }

    /// Runs `command` on a ticket `caller` may see (others' are not found).
    async fn ticket_command(
        &self,
        caller: Caller,
        ticket_id: Uuid,
        command: TicketCommand,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        let id = ticket_id.to_string();
        let (ticket, _) = self.commands.tickets.load(&id).await?;
        if !ticket
            .parties()
            .is_some_and(|parties| parties.visible_to(caller))
        {
            return Err(CommandError::not_found("no such ticket"));
        }
        let committed = self
            .commands
            .tickets
            .execute(&id, command, &caller.context().at(now))
            .await?;
        Ok(Written::new(id, committed.sequence))
    }

    /// A registered user's role as the write side knows it.
    pub(crate) async fn role_of(&self, user_id: Uuid) -> Result<Option<Role>, CommandError> {
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM user_directory WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(role.map(|name| Role::named(&name).unwrap_or_default()))
    }
}
