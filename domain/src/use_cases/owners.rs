//! A first owner for a new deployment. Everyone registers as a client and only an
//! owner makes owners, so the first one is granted from outside:
//! `ledgerbot owner grant <telegram-id> --reason …` or `LEDGERBOT_OWNER_TELEGRAM_IDS`.
//! The grant is an event of its own ([`crate::owner_grant`], actor `system`, with the
//! reason); it takes effect at once when the account is known, else at its first
//! sign-in or `/start`, as a `RoleChanged` caused by the grant.

use chrono::Utc;
use uuid::Uuid;

use super::Core;
use crate::command::{CommandContext, CommandError};
use crate::owner_grant::OwnerGrantCommand;
use crate::permissions::Role;
use crate::user::UserCommand;

/// Where a grant stands after [`Core::grant_owner`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerGrantOutcome {
    /// The account's user is an owner now.
    Applied { user_id: Uuid },
    /// Nobody signed in with the account yet: it becomes an owner at its first
    /// sign-in or `/start`.
    Pending,
}

impl Core {
    /// Grants the owner role to Telegram account `telegram_id`, recorded with
    /// `reason` as the system's act (`source` names where it came from, e.g.
    /// `command-line`). Granting again changes nothing.
    pub async fn grant_owner(
        &self,
        telegram_id: i64,
        reason: &str,
        source: &str,
    ) -> Result<OwnerGrantOutcome, CommandError> {
        if telegram_id <= 0 {
            return Err(CommandError::invalid(
                "telegram_id",
                "a Telegram user id is a positive number",
            ));
        }
        self.commands
            .owner_grants
            .execute(
                &telegram_id.to_string(),
                OwnerGrantCommand::Grant {
                    telegram_id,
                    reason: reason.to_owned(),
                },
                &CommandContext::system(format!("owner-grant:{source}")),
            )
            .await?;
        let Some(user_id) = self.user_of_telegram(telegram_id).await? else {
            return Ok(OwnerGrantOutcome::Pending);
        };
        // Known but not registered yet: signing in right now. Either its registration
        // shows here in a moment, or it has yet to look for grants and finds this one.
        let mut registered = false;
        for _ in 0..20 {
            let (user, _) = self.commands.users.load(&user_id.to_string()).await?;
            if user.profile().is_some() {
                registered = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        if !registered {
            return Ok(OwnerGrantOutcome::Pending);
        }
        self.apply_owner_grant(telegram_id, user_id).await?;
        Ok(OwnerGrantOutcome::Applied { user_id })
    }

    /// Applies a grant waiting for `telegram_id` to its registered user `user_id`:
    /// the user's sequence after, or `None` when there is nothing to apply.
    pub(crate) async fn apply_owner_grant(
        &self,
        telegram_id: i64,
        user_id: Uuid,
    ) -> Result<Option<usize>, CommandError> {
        let grant_id = telegram_id.to_string();
        let (grant, version) = self.commands.owner_grants.load(&grant_id).await?;
        if !grant.is_granted() || grant.applied_to() == Some(user_id) {
            return Ok(None);
        }
        let because = CommandContext::system("owner-grant")
            .caused_by(format!("OwnerGrant:{grant_id}:{version}"))
            .at(Utc::now());
        let changed = self
            .commands
            .users
            .execute(
                &user_id.to_string(),
                UserCommand::ChangeRole {
                    role: Role::Owner,
                    by: Role::Owner,
                },
                &because,
            )
            .await?;
        self.commands
            .owner_grants
            .execute(
                &grant_id,
                OwnerGrantCommand::MarkApplied { user_id },
                &because,
            )
            .await?;
        tracing::info!(%user_id, telegram_id, reason = grant.reason(), "an owner grant took effect");
        Ok(Some(changed.sequence))
    }
}
