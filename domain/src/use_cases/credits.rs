//! Spending credits. Grants come from payments, referrals, cashback and the monthly
//! allowance (process managers); what a customer does directly is spend.

use chrono::{DateTime, Utc};

use super::{Core, Written, text_within};
use crate::command::CommandError;
use crate::credit::CreditCommand;
use crate::permissions::{Action, Caller};

/// A spend as the customer asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    pub amount: u64,
    /// What the credits pay for ("image generation").
    pub reason: String,
    /// The caller's id for this spend: repeating it spends once.
    pub operation_id: String,
}

impl Core {
    /// Spends from `caller`'s own account; points that lapse soonest go first.
    pub async fn spend_credits(
        &self,
        caller: Caller,
        spend: Spend,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::SpendOwnCredits)?;
        text_within(
            "operation_id",
            &spend.operation_id,
            100,
            "1 to 100 characters",
        )?;
        text_within("reason", &spend.reason, 200, "1 to 200 characters")?;
        if spend.amount == 0 {
            return Err(CommandError::invalid("amount", "at least 1"));
        }
        let account = caller.user_id.to_string();
        let committed = self
            .commands
            .credits
            .execute(
                &account,
                CreditCommand::Spend {
                    amount: spend.amount,
                    reason: spend.reason,
                    operation_id: spend.operation_id,
                    at: now,
                },
                &caller.context().at(now),
            )
            .await?;
        Ok(Written::new(account, committed.sequence))
    }
}
