//! Applying to become an executor: a customer writes a few words about themselves;
//! an admin approves (the User aggregate gives the executor role, by its own rules)
//! or declines. One open application per person, kept in `executor_applications`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::users::UserChange;
use super::{Core, text_within};
use crate::command::CommandError;
use crate::permissions::{Action, Caller, Role};

/// What an admin decided, and for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub user_id: Uuid,
    pub approved: bool,
}

impl Core {
    /// `caller` applies with `about`; the application's id.
    pub async fn apply_as_executor(
        &self,
        caller: Caller,
        about: &str,
        now: DateTime<Utc>,
    ) -> Result<Uuid, CommandError> {
        if caller.role != Role::Client {
            return Err(CommandError::invalid_state(
                "only customers apply; staff already work here",
            ));
        }
        text_within("about", about, 1000, "1 to 1000 characters about yourself")?;
        if about.contains('\0') {
            return Err(CommandError::invalid(
                "about",
                "text without NUL characters",
            ));
        }
        // Under a key (a bot update handled again) the same id: the repeat finds it.
        let id = crate::command::new_id();
        sqlx::query(
            "INSERT INTO executor_applications (application_id, user_id, about, state, created_at) \
             VALUES ($1, $2, $3, 'pending', $4) ON CONFLICT (application_id) DO NOTHING",
        )
        .bind(id)
        .bind(caller.user_id)
        .bind(about.trim())
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(database) if database.is_unique_violation() => {
                CommandError::invalid_state("you have applied already; an admin will answer")
            }
            _ => CommandError::from(error),
        })?;
        Ok(id)
    }

    /// Approves or declines a pending application. Approving changes the applicant's
    /// role first: if the User aggregate refuses, the application stays pending.
    pub async fn decide_application(
        &self,
        caller: Caller,
        application_id: Uuid,
        approve: bool,
        now: DateTime<Utc>,
    ) -> Result<Decided, CommandError> {
        caller.require(Action::ChangeRole)?;
        let applicant: Option<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM executor_applications WHERE application_id = $1 AND state = 'pending'",
        )
        .bind(application_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(user_id) = applicant else {
            return Err(CommandError::not_found("no such application waiting"));
        };
        if approve {
            self.change_user(caller, user_id, UserChange::Role(Role::Executor), now)
                .await?;
        }
        sqlx::query(
            "UPDATE executor_applications SET state = $2, decided_by = $3, decided_at = $4 \
             WHERE application_id = $1 AND state = 'pending'",
        )
        .bind(application_id)
        .bind(if approve { "approved" } else { "declined" })
        .bind(caller.user_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(Decided {
            user_id,
            approved: approve,
        })
    }
}
