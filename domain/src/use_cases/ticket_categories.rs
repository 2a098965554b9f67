//! The categories a customer picks from when opening a ticket, managed by admins.

use chrono::{DateTime, Utc};

use super::{Core, Written};
use crate::command::CommandError;
use crate::permissions::{Action, Caller};
use crate::ticket_category::{CategoryChange, CategoryCommand, CategoryLook, valid_code};

impl Core {
    pub async fn create_ticket_category(
        &self,
        caller: Caller,
        code: &str,
        look: CategoryLook,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::ManageTicketCategories)?;
        if !valid_code(code) {
            return Err(CommandError::invalid(
                "code",
                "1 to 32 lowercase letters, digits, _ or -",
            ));
        }
        let command = CategoryCommand::Create {
            look,
            by: caller.role,
        };
        self.category_command(caller, code, command, now).await
    }

    /// Fields left out of `change` keep their value.
    pub async fn update_ticket_category(
        &self,
        caller: Caller,
        code: &str,
        change: CategoryChange,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::ManageTicketCategories)?;
        let command = CategoryCommand::Update {
            change,
            by: caller.role,
        };
        self.category_command(caller, code, command, now).await
    }

    /// Tickets that name it keep the code; it can be created again.
    pub async fn delete_ticket_category(
        &self,
        caller: Caller,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::ManageTicketCategories)?;
        let command = CategoryCommand::Delete { by: caller.role };
        self.category_command(caller, code, command, now).await
    }

    async fn category_command(
        &self,
        caller: Caller,
        code: &str,
        command: CategoryCommand,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        let committed = self
            .commands
            .ticket_categories
            .execute(code, command, &caller.context().at(now))
            .await?;
        Ok(Written::new(code, committed.sequence))
    }
}
