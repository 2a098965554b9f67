//! Every step of an order's life after placing it. The Order aggregate decides who may
//! and when (the commands carry `now`, so it decides whether a booking's slot has
//! started); here the step is checked for what the aggregate cannot know (the
//! salon's hours) and others' orders are not found.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Core, Written};
use crate::command::CommandError;
use crate::files::FilePurpose;
use crate::money::Money;
use crate::order::{Coursework, OrderCommand, Slot};
use crate::permissions::{Action, Caller};
use crate::use_cases::files::AttachedTo;

/// One step, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderAction {
    /// Staff price a coursework brief.
    Quote {
        price: Money,
    },
    AcceptQuote,
    /// Staff give a paid order to an executor.
    Assign {
        executor_id: Uuid,
    },
    /// An executor takes a paid order from the pool.
    Take,
    Start,
    /// `files`: Telegram file ids; `attachments`: files the executor uploaded for
    /// coursework, which become the order's.
    Submit {
        files: Vec<String>,
        attachments: Vec<Uuid>,
        note: Option<String>,
    },
    Ship {
        tracking: String,
    },
    RequestRevision {
        reason: String,
    },
    Accept,
    ConfirmDelivery,
    Complete,
    /// `refund`: what to refund of what was paid.
    Cancel {
        reason: String,
        refund: Option<Money>,
    },
    /// `reason`: required of staff moving a booking whose slot has started.
    Reschedule {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        reason: Option<String>,
    },
    NoShow,
    Review {
        stars: u8,
        text: Option<String>,
    },
    /// An internal note, never shown to the customer.
    Note {
        text: String,
    },
}

impl OrderAction {
    /// Every action's name as entry points spell it.
    pub const NAMES: &'static str = "quote, accept-quote, assign, take, start, submit, ship, \
        request-revision, accept, confirm-delivery, complete, cancel, reschedule, no-show, \
        review, notes";

    fn into_command(self, by: Caller, now: DateTime<Utc>) -> OrderCommand {
        use OrderAction as A;
        use OrderCommand as C;
        match self {
            A::Quote { price } => C::Quote { price, by },
            A::AcceptQuote => C::AcceptQuote { by },
            A::Assign { executor_id } => C::AssignExecutor { executor_id, by },
            A::Take => C::TakeOrder { by },
            A::Start => C::Start { by },
            A::Submit {
                files,
                attachments,
                note,
            } => C::SubmitResult {
                files,
                attachments,
                note,
                by,
            },
            A::Ship { tracking } => C::Ship { tracking, by },
            A::RequestRevision { reason } => C::RequestRevision { reason, by },
            A::Accept => C::Accept { by },
            A::ConfirmDelivery => C::ConfirmDelivery { by },
            A::Complete => C::Complete { by },
            A::Cancel { reason, refund } => C::Cancel {
                reason,
                refund,
                by,
                at: now,
            },
            A::Reschedule { start, end, reason } => C::Reschedule {
                slot: Slot { start, end },
                by,
                at: now,
                reason,
            },
            A::NoShow => C::MarkNoShow { at: now, by },
            A::Review { stars, text } => C::Review { stars, text, by },
            A::Note { text } => C::AddInternalNote { text, by },
        }
    }
}

impl Core {
    /// Takes `action` on order `order_id` as `caller`. Orders the caller may not see
    /// are not found, before the aggregate could say what state they are in.
    pub async fn act_on_order(
        &self,
        caller: Caller,
        order_id: Uuid,
        action: OrderAction,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        if let OrderAction::Reschedule { start, end, .. } = &action {
            if *start <= now {
                return Err(CommandError::invalid("start", "a time in the future"));
            }
            if !self.offer.salon.contains(*start, *end) {
                return Err(CommandError::invalid(
                    "start",
                    "a slot within the salon's working hours, on one day",
                ));
            }
        }
        let id = order_id.to_string();
        let (order, _) = self.commands.orders.load(&id).await?;
        if !order
            .parties()
            .is_some_and(|parties| parties.visible_to(caller))
        {
            return Err(CommandError::not_found("no such order"));
        }
        if let OrderAction::Assign { executor_id } = &action {
            caller.require(Action::AssignExecutor)?;
            self.require_executor(*executor_id).await?;
        }
        // A result's files become the order's with its event (the store attaches
        // them); checked first so a refusal names the file.
        if let OrderAction::Submit { attachments, .. } = &action {
            self.check_attachable(
                caller,
                attachments,
                FilePurpose::Coursework,
                (AttachedTo::Order, &id),
                Coursework::MAX_FILES,
            )
            .await?;
        }
        let taken = self
            .commands
            .orders
            .execute(
                &id,
                action.into_command(caller, now),
                &caller.context().at(now),
            )
            .await?;
        Ok(Written::new(id, taken.sequence))
    }

    /// Refuses early, in words, to give an order to someone who does not work on
    /// orders (by the User aggregate: a client, someone unknown or blocked); the
    /// store decides again in the event's transaction (`order_executor_works_on_orders`).
    async fn require_executor(&self, executor_id: Uuid) -> Result<(), CommandError> {
        let works = match self.standing_of(executor_id).await? {
            super::identity::Standing::Active { caller, .. } => caller.may(Action::StartWork),
            _ => false,
        };
        if works {
            Ok(())
        } else {
            Err(CommandError::refused(
                &crate::order::OrderError::NotAnExecutor,
            ))
        }
    }
}
