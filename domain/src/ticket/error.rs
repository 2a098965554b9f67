use super::TicketStatus;
use crate::command::{ErrorKind, Refusal};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("this ticket does not exist")]
    NotOpened,
    #[error("this ticket is already open")]
    AlreadyOpened,
    #[error("the {field} must be {rule}")]
    Invalid {
        field: &'static str,
        rule: &'static str,
    },
    #[error("only the support desk may write internal notes")]
    InternalNoteByClient,
    #[error("only the ticket's customer or the support desk may write here")]
    NotYourTicket,
    #[error("the ticket is closed; reopen it to write")]
    Closed,
    #[error("no message {0} on this ticket")]
    UnknownMessage(uuid::Uuid),
    #[error("only the author may edit a message")]
    NotYourMessage,
    #[error("only the support desk may delete messages")]
    DeleteByNonStaff,
    #[error("a message can be edited for 15 minutes after it was posted")]
    EditWindowOver,
    #[error("tickets are assigned to staff only")]
    AssigneeNotStaff,
    #[error("a ticket that is {from} cannot become {to}")]
    Transition {
        from: TicketStatus,
        to: TicketStatus,
    },
    #[error("support can be rated once the ticket is resolved")]
    NotResolvedYet,
    #[error("support was already rated")]
    AlreadyRated,
    #[error("only the ticket's customer rates support")]
    NotTheCustomer,
    #[error("a user with the role {by:?} may not {what}")]
    NotAllowed {
        by: crate::permissions::Role,
        what: &'static str,
    },
    #[error("not one of the categories offered; GET /api/v1/tickets/categories lists them")]
    CategoryNotOffered,
    /// The store refused to attach a file the message names (`attached_files_are_the_authors`).
    #[error("the files must be ones you uploaded for this, not erased and not attached elsewhere")]
    FilesNotAttachable,
}

impl Refusal for TicketError {
    fn from_store_constraint(constraint: &str) -> Option<Self> {
        match constraint {
            "ticket_assignee_is_staff" => Some(TicketError::AssigneeNotStaff),
            "ticket_category_offered" => Some(TicketError::CategoryNotOffered),
            "attached_files_are_the_authors" => Some(TicketError::FilesNotAttachable),
            _ => None,
        }
    }

    fn field(&self) -> Option<String> {
        Some(
            match self {
                TicketError::Invalid {
                    field: "message", ..
                } => "text",
                TicketError::Invalid {
                    field: "rating", ..
                } => "stars",
                TicketError::Invalid { field, .. } => field,
                TicketError::AssigneeNotStaff => "assignee_id",
                TicketError::CategoryNotOffered => "category",
                TicketError::FilesNotAttachable => "attachments",
                _ => return None,
            }
            .to_owned(),
        )
    }

    fn kind(&self) -> ErrorKind {
        match self {
            TicketError::NotOpened | TicketError::UnknownMessage(_) => ErrorKind::NotFound,
            TicketError::Invalid { .. }
            | TicketError::AssigneeNotStaff
            | TicketError::CategoryNotOffered
            | TicketError::FilesNotAttachable => ErrorKind::InvalidInput,
            TicketError::InternalNoteByClient
            | TicketError::NotYourTicket
            | TicketError::NotYourMessage
            | TicketError::DeleteByNonStaff
            | TicketError::NotTheCustomer
            | TicketError::NotAllowed { .. } => ErrorKind::Forbidden,
            TicketError::AlreadyOpened
            | TicketError::Closed
            | TicketError::EditWindowOver
            | TicketError::Transition { .. }
            | TicketError::NotResolvedYet
            | TicketError::AlreadyRated => ErrorKind::InvalidState,
        }
    }
}
