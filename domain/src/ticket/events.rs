use std::fmt;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Priority {
    Low,
    Normal,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TicketStatus {
    #[default]
    Open,
    InProgress,
    WaitingForCustomer,
    Resolved,
    Closed,
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TicketStatus::Open => "open",
            TicketStatus::InProgress => "in progress",
            TicketStatus::WaitingForCustomer => "waiting for the customer",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        })
    }
}

/// A file sent with a ticket or message (a Telegram `file_id` or a URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub file_id: String,
    pub name: Option<String>,
}

/// Everything that happens to a ticket. Stored forever: fields are only added,
/// never renamed; a change of meaning is a new version with an upcaster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TicketEvent {
    TicketOpened {
        customer_id: Uuid,
        category: String,
        title: String,
        description: String,
        priority: Priority,
        attachments: Vec<Attachment>,
    },
    MessagePosted {
        message_id: Uuid,
        author_id: Uuid,
        /// True when the author is staff (for first-response times).
        by_staff: bool,
        text: String,
        attachments: Vec<Attachment>,
        internal: bool,
        posted_at: DateTime<Utc>,
    },
    MessageEdited {
        message_id: Uuid,
        text: String,
        edited_at: DateTime<Utc>,
    },
    /// The support desk removed a message (abuse, personal data posted by mistake).
    /// Its text stays in this history; read models stop showing it.
    MessageDeleted {
        message_id: Uuid,
        deleted_by: Uuid,
        deleted_at: DateTime<Utc>,
    },
    TicketAssigned {
        assignee_id: Uuid,
    },
    StatusChanged {
        from: TicketStatus,
        to: TicketStatus,
    },
    PriorityChanged {
        from: Priority,
        to: Priority,
    },
    SupportRated {
        stars: u8,
        comment: Option<String>,
    },
}

impl DomainEvent for TicketEvent {
    fn event_type(&self) -> String {
        match self {
            TicketEvent::TicketOpened { .. } => "TicketOpened",
            TicketEvent::MessagePosted { .. } => "MessagePosted",
            TicketEvent::MessageEdited { .. } => "MessageEdited",
            TicketEvent::MessageDeleted { .. } => "MessageDeleted",
            TicketEvent::TicketAssigned { .. } => "TicketAssigned",
            TicketEvent::StatusChanged { .. } => "StatusChanged",
            TicketEvent::PriorityChanged { .. } => "PriorityChanged",
            TicketEvent::SupportRated { .. } => "SupportRated",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
