//! Who may do what: the one role × action table that every entry point (API, bot,
//! process managers acting for a user) asks. Ownership rules ("only the owner of the
//! order accepts it") are the aggregates' own invariants; this table says which roles
//! may attempt an action at all.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command::{CommandContext, CommandError};

/// A user's role. Everyone starts as a client.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Orders, pays, opens tickets.
    #[default]
    Client,
    /// Does orders: a coursework author, a salon master.
    Executor,
    /// Handles support tickets.
    Support,
    /// Runs the business: prices, assigns, refunds, manages users.
    Admin,
    /// Owns the business: everything an admin does, plus making admins.
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Client,
        Role::Executor,
        Role::Support,
        Role::Admin,
        Role::Owner,
    ];

    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Client)
    }

    /// A role by its stored name (`"admin"`).
    pub fn named(name: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|role| crate::wire::wire_name(role) == name)
    }
}

/// Everything a user can ask the system to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    // Orders
    PlaceOrder,
    QuoteOrder,
    AcceptQuote,
    AssignExecutor,
    TakeOrderFromPool,
    StartWork,
    SubmitResult,
    ShipOrder,
    RequestRevision,
    AcceptResult,
    ConfirmDelivery,
    CompleteOrder,
    CancelOwnOrder,
    CancelAnyOrder,
    RescheduleBooking,
    MarkNoShow,
    ReviewOrder,
    AddOrderNote,
    ViewAllOrders,
    // Payments
    PayForSomething,
    RefundPayment,
    // Credits
    SpendOwnCredits,
    GrantCredits,
    // Tickets
    OpenTicket,
    PostTicketMessage,
    PostInternalNote,
    AssignTicket,
    ChangeTicketStatus,
    ChangeTicketPriority,
    CloseTicket,
    RateSupport,
    ViewAllTickets,
    /// Remove a message from a ticket (moderation).
    DeleteTicketMessage,
    /// Create, change and delete ticket categories.
    ManageTicketCategories,
    /// Write and delete the FAQ's questions and answers.
    ManageFaq,
    /// Hide a review from the published ones, or publish it again.
    ModerateReviews,
    // Users
    UpdateOwnProfile,
    ChangeRole,
    AppointAdmin,
    BlockUser,
    ViewUsers,
    // Business
    ViewReports,
    ViewTaxLedger,
    SendBroadcast,
    // Files and AI
    /// Upload a file (a photo for a generation, a ticket's attachment, a brief's document).
    UploadFile,
    /// Ask for an image generation (fitting, editing), paid in credits.
    GenerateImage,
    /// Talk to an AI assistant (the editing assistant, the students' assistant).
    UseAssistant,
    /// The AI providers' tokens and cost per request: the owner's margin report.
    ViewAiUsage,
}

impl Action {
    pub const ALL: [Action; 48] = [
        Action::PlaceOrder,
        Action::QuoteOrder,
        Action::AcceptQuote,
        Action::AssignExecutor,
        Action::TakeOrderFromPool,
        Action::StartWork,
        Action::SubmitResult,
        Action::ShipOrder,
        Action::RequestRevision,
        Action::AcceptResult,
        Action::ConfirmDelivery,
        Action::CompleteOrder,
        Action::CancelOwnOrder,
        Action::CancelAnyOrder,
        Action::RescheduleBooking,
        Action::MarkNoShow,
        Action::ReviewOrder,
        Action::AddOrderNote,
        Action::ViewAllOrders,
        Action::PayForSomething,
        Action::RefundPayment,
        Action::SpendOwnCredits,
        Action::GrantCredits,
        Action::OpenTicket,
        Action::PostTicketMessage,
        Action::PostInternalNote,
        Action::AssignTicket,
        Action::ChangeTicketStatus,
        Action::ChangeTicketPriority,
        Action::CloseTicket,
        Action::RateSupport,
        Action::ViewAllTickets,
        Action::DeleteTicketMessage,
        Action::ManageTicketCategories,
        Action::ManageFaq,
        Action::ModerateReviews,
        Action::UpdateOwnProfile,
        Action::ChangeRole,
        Action::AppointAdmin,
        Action::BlockUser,
        Action::ViewUsers,
        Action::ViewReports,
        Action::ViewTaxLedger,
        Action::SendBroadcast,
        Action::UploadFile,
        Action::GenerateImage,
        Action::UseAssistant,
        Action::ViewAiUsage,
    ];
}

/// The table. Read it as: which roles may attempt this action.
pub fn is_allowed(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    let staff = role.is_staff();
    let managers = matches!(role, Admin | Owner);
    match action {
        // What customers do; staff may act as customers too.
        PlaceOrder | AcceptQuote | RequestRevision | AcceptResult | ConfirmDelivery
        | CancelOwnOrder | ReviewOrder | PayForSomething | SpendOwnCredits | OpenTicket
        | PostTicketMessage | RateSupport | UpdateOwnProfile | UploadFile | GenerateImage
        | UseAssistant => true,
        // Customers move their own bookings (the order checks whose), managers any.
        RescheduleBooking => true,
        // Executors' work.
        TakeOrderFromPool | StartWork | SubmitResult => matches!(role, Executor | Admin | Owner),
        // Running orders.
        QuoteOrder | AssignExecutor | ShipOrder | CompleteOrder | CancelAnyOrder | MarkNoShow => {
            managers
        }
        AddOrderNote => staff,
        // Every customer's orders (names, briefs, prices): the desk and managers, not
        // executors, who see the pool and their own.
        ViewAllOrders => matches!(role, Support | Admin | Owner),
        // Support desk.
        PostInternalNote | AssignTicket | ChangeTicketStatus | ChangeTicketPriority
        | CloseTicket | ViewAllTickets | DeleteTicketMessage => {
            matches!(role, Support | Admin | Owner)
        }
        // Money and people.
        RefundPayment
        | GrantCredits
        | ChangeRole
        | BlockUser
        | ViewUsers
        | ViewReports
        | SendBroadcast
        | ManageTicketCategories
        | ManageFaq
        | ModerateReviews => managers,
        ViewTaxLedger | AppointAdmin | ViewAiUsage => role == Owner,
    }
}

/// Refuses unless `role` may attempt `action`.
pub fn ensure_allowed(role: Role, action: Action) -> Result<(), Forbidden> {
    if is_allowed(role, action) {
        Ok(())
    } else {
        Err(Forbidden { role, action })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a user with the role {role:?} may not {action:?}")]
pub struct Forbidden {
    pub role: Role,
    pub action: Action,
}

/// A person acting: who, and in which role. Every entry point turns its caller (an
/// access token, a Telegram update) into one; use cases and aggregates decide with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
}

impl Caller {
    pub fn new(user_id: Uuid, role: Role) -> Self {
        Self { user_id, role }
    }

    /// Whether the caller's role may attempt `action`.
    pub fn may(&self, action: Action) -> bool {
        is_allowed(self.role, action)
    }

    /// Refuses (forbidden, naming the role and the action) unless the caller's role
    /// may attempt `action`.
    pub fn require(&self, action: Action) -> Result<(), CommandError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(CommandError::forbidden(format!(
                "a {} may not {}",
                crate::wire::wire_name(&self.role),
                crate::wire::wire_name(&action).replace('_', " ")
            )))
        }
    }

    /// The metadata of the events this caller's commands produce.
    pub fn context(&self) -> CommandContext {
        CommandContext::user(self.user_id, self.role)
    }
}

/// The whole table as text, one action per line (for review and the snapshot).
pub fn matrix() -> String {
    let mut text = format!("{:<22}", "action");
    for role in Role::ALL {
        text.push_str(&format!(" {:<9}", format!("{role:?}").to_lowercase()));
    }
    text = text.trim_end().to_owned();
    text.push('\n');
    for action in Action::ALL {
        text.push_str(&format!("{:<22}", format!("{action:?}")));
        for role in Role::ALL {
            let mark = if is_allowed(role, action) { "yes" } else { "-" };
            text.push_str(&format!(" {mark:<9}"));
        }
        text = text.trim_end().to_owned();
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_matrix() {
        insta::assert_snapshot!(matrix());
    }

    #[test]
    fn owners_may_do_everything_and_clients_nothing_of_staff() {
        for action in Action::ALL {
            assert!(is_allowed(Role::Owner, action), "{action:?}");
        }
        for action in [
            Action::QuoteOrder,
            Action::PostInternalNote,
            Action::RefundPayment,
            Action::ViewAllOrders,
        ] {
            assert_eq!(
                ensure_allowed(Role::Client, action),
                Err(Forbidden {
                    role: Role::Client,
                    action
                })
            );
        }
        assert!(!is_allowed(Role::Admin, Action::AppointAdmin));
        assert!(!is_allowed(Role::Support, Action::StartWork));
    }
}
