//! People: one's own profile; for staff, roles and blocking. The User aggregate decides
//! who may give or take which role and who may block whom; that the business keeps an
//! owner the store decides with the event.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Core, Written};
use crate::command::CommandError;
use crate::permissions::{Action, Caller, Role};
use crate::user::UserCommand;

/// The longest reason a block keeps (the API documents it).
pub const MAX_BLOCK_REASON: usize = 500;

/// A change of one's own profile: fields left `None` stay; `Some(None)` clears.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub first_name: Option<String>,
    pub last_name: Option<Option<String>>,
    pub language: Option<Option<String>>,
}

/// What staff do to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    /// Admins make executors and support; only an owner appoints or demotes admins
    /// and owners; the last owner stays an owner.
    Role(Role),
    /// Only an owner blocks an admin or an owner; nobody blocks themselves.
    Block { reason: String },
    /// Only an owner unblocks an admin or an owner.
    Unblock,
}

impl Core {
    pub async fn update_profile(
        &self,
        caller: Caller,
        change: ProfileChange,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        if let Some(language) = change.language.as_ref().and_then(Option::as_ref)
            && !(2..=10).contains(&language.chars().count())
        {
            return Err(CommandError::invalid(
                "language",
                "a language code like ru or en",
            ));
        }
        let id = caller.user_id.to_string();
        let (user, _) = self.commands.users.load(&id).await?;
        let current = user
            .profile()
            .cloned()
            .ok_or_else(|| CommandError::not_found("no such user"))?;
        let profile = crate::user::Profile {
            first_name: change.first_name.unwrap_or(current.first_name),
            last_name: change.last_name.unwrap_or(current.last_name),
            language: change.language.unwrap_or(current.language),
            ..current
        };
        let committed = self
            .commands
            .users
            .execute(
                &id,
                UserCommand::UpdateProfile { profile },
                &caller.context().at(now),
            )
            .await?;
        Ok(Written::new(id, committed.sequence))
    }

    pub async fn change_user(
        &self,
        caller: Caller,
        user_id: Uuid,
        change: UserChange,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        let command = match change {
            UserChange::Role(role) => {
                caller.require(Action::ChangeRole)?;
                UserCommand::ChangeRole {
                    role,
                    by: caller.role,
                }
            }
            UserChange::Block { reason } => {
                caller.require(Action::BlockUser)?;
                if user_id == caller.user_id {
                    return Err(CommandError::invalid_state("you cannot block yourself"));
                }
                super::text_within(
                    "reason",
                    &reason,
                    MAX_BLOCK_REASON,
                    "say why (1 to 500 characters)",
                )?;
                UserCommand::Block {
                    reason,
                    by: caller.role,
                }
            }
            UserChange::Unblock => {
                caller.require(Action::BlockUser)?;
                UserCommand::Unblock { by: caller.role }
            }
        };
        let id = user_id.to_string();
        let (user, _) = self.commands.users.load(&id).await?;
        if user.profile().is_none() {
            return Err(CommandError::not_found("no such user"));
        }
        let committed = self
            .commands
            .users
            .execute(&id, command, &caller.context().at(now))
            .await?;
        Ok(Written::new(id, committed.sequence))
    }
}
