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
}

impl Refusal for TicketError {
    fn kind(&self) -> ErrorKind {
        match self {
            TicketError::NotOpened | TicketError::UnknownMessage(_) => ErrorKind::NotFound,
            TicketError::Invalid { .. } | TicketError::AssigneeNotStaff => ErrorKind::InvalidInput,
            TicketError::InternalNoteByClient
            | TicketError::NotYourTicket
            | TicketError::NotYourMessage
            | TicketError::DeleteByNonStaff
            | TicketError::NotTheCustomer => ErrorKind::Forbidden,
            TicketError::AlreadyOpened
            | TicketError::Closed
            | TicketError::EditWindowOver
            | TicketError::Transition { .. }
            | TicketError::NotResolvedYet
            | TicketError::AlreadyRated => ErrorKind::InvalidState,
        }
    }
}
