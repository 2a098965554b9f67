use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Attachment, Priority, TicketStatus};
use crate::permissions::{Caller, Role};

#[derive(Debug, Clone, PartialEq)]
pub enum TicketCommand {
    Open {
        customer_id: Uuid,
        category: String,
        title: String,
        description: String,
        priority: Priority,
        attachments: Vec<Attachment>,
    },
    PostMessage {
        message_id: Uuid,
        author_id: Uuid,
        author_role: Role,
        text: String,
        attachments: Vec<Attachment>,
        internal: bool,
        at: DateTime<Utc>,
    },
    EditMessage {
        message_id: Uuid,
        author_id: Uuid,
        text: String,
        at: DateTime<Utc>,
    },
    /// The support desk removes a message; deleting it again changes nothing.
    DeleteMessage {
        message_id: Uuid,
        by: Uuid,
        by_role: Role,
        at: DateTime<Utc>,
    },
    /// `assignee_role` is the assignee's role as the write side knows it; the store
    /// refuses an assignee who is not (or no longer) staff.
    Assign {
        assignee_id: Uuid,
        assignee_role: Role,
        by: Caller,
    },
    ChangeStatus {
        status: TicketStatus,
        by: Caller,
    },
    ChangePriority {
        priority: Priority,
        by: Caller,
    },
    Close {
        by: Caller,
    },
    RateSupport {
        by: Uuid,
        stars: u8,
        comment: Option<String>,
    },
}

impl crate::command::Targeted for TicketCommand {}
