//! A user's first activity in a calendar month (UTC) → that month's free credit
//! allowance, once: the month is the grant's key, so every later activity in the
//! month, and every redelivery, finds it granted.
//!
//! Activity is what a user does: registering, placing an order, opening a ticket,
//! spending credits.
//!
//! The months this worker has seen granted are remembered, so a user's later activity
//! in the month costs nothing: the grant is idempotent, so skipping one already made
//! is what running it would do, while running it would reload the account from the
//! store (a no-op is never trusted to a cached state) on every spend.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, CreditEvent};
use domain::order::OrderEvent;
use domain::ticket::TicketEvent;
use domain::user::UserEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use super::settle;
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct MonthlyAllowance {
    commands: Arc<Commands>,
    amount: u64,
    /// (user, month) whose allowance this worker saw granted.
    granted: Mutex<HashSet<(Uuid, String)>>,
}

/// The most (user, month) pairs remembered; past it the memory starts over (a
/// forgotten pair only costs one idempotent grant).
const MAX_REMEMBERED_GRANTS: usize = 100_000;

impl MonthlyAllowance {
    /// `amount` credits per user and month (0 turns the allowance off).
    pub fn new(commands: Arc<Commands>, amount: u64) -> Self {
        Self {
            commands,
            amount,
            granted: Mutex::new(HashSet::new()),
        }
    }

    fn granted(&self) -> std::sync::MutexGuard<'_, HashSet<(Uuid, String)>> {
        match self.granted.lock() {
            Ok(granted) => granted,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    async fn react(&self, event: &EventEnvelope) -> Result<(), ApplyError> {
        if self.amount == 0 {
            return Ok(());
        }
        let Some(user) = active_user(event)? else {
            return Ok(());
        };
        let month = event.recorded_at.format("%Y-%m").to_string();
        let user_month = (user, month);
        if self.granted().contains(&user_month) {
            return Ok(());
        }
        let because = CommandContext::system("monthly-allowance").caused_by(event.message_id());
        let granting = self
            .commands
            .credits
            .execute(
                &user.to_string(),
                CreditCommand::GrantMonthlyAllowance {
                    month: user_month.1.clone(),
                    amount: self.amount,
                },
                &because,
            )
            .await;
        match granting {
            Ok(_) => {
                let mut granted = self.granted();
                if granted.len() >= MAX_REMEMBERED_GRANTS {
                    granted.clear();
                }
                granted.insert(user_month);
                Ok(())
            }
            Err(error) => settle(&format!("allowance for {user}"), error),
        }
    }
}

/// The user an event shows active, if it is an activity.
fn active_user(event: &EventEnvelope) -> Result<Option<Uuid>, ApplyError> {
    Ok(match event.aggregate_type.as_str() {
        "User" => match event.decode::<UserEvent>()? {
            UserEvent::UserRegistered { user_id, .. } => Some(user_id),
            _ => None,
        },
        "Order" => match event.decode::<OrderEvent>()? {
            OrderEvent::OrderPlaced { customer_id, .. } => Some(customer_id),
            _ => None,
        },
        "Ticket" => match event.decode::<TicketEvent>()? {
            TicketEvent::TicketOpened { customer_id, .. } => Some(customer_id),
            _ => None,
        },
        "CreditAccount" => match event.decode::<CreditEvent>()? {
            CreditEvent::CreditsSpent { .. } => Uuid::parse_str(&event.aggregate_id).ok(),
            _ => None,
        },
        _ => None,
    })
}

impl Projection for MonthlyAllowance {
    fn name(&self) -> &'static str {
        crate::ProjectionName::MonthlyAllowance.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["User", "Order", "Ticket", "CreditAccount"]
    }

    fn apply<'a>(
        &'a self,
        _connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(self.react(event))
    }
}
