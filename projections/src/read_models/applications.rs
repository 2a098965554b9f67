//! Reading applications to become an executor (`executor_applications`, written by
//! `domain::use_cases::applications`): the pending ones with the applicant's name,
//! for admins.

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use domain::permissions::{Action, Caller};
use serde::Serialize;
use uuid::Uuid;

use crate::read_models::ReadModels;

/// A pending application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PendingApplication {
    pub application_id: Uuid,
    pub user_id: Uuid,
    pub first_name: String,
    pub username: Option<String>,
    pub about: String,
    pub created_at: DateTime<Utc>,
}

impl ReadModels {
    /// The oldest pending applications (at most 20), for admins.
    pub async fn pending_applications(
        &self,
        viewer: Caller,
    ) -> Result<Vec<PendingApplication>, CommandError> {
        viewer.require(Action::ChangeRole)?;
        Ok(sqlx::query_as(
            "SELECT a.application_id, a.user_id, COALESCE(u.first_name, '?') AS first_name, u.username, \
                    a.about, a.created_at \
             FROM executor_applications a LEFT JOIN rm_users u ON u.user_id = a.user_id::text \
             WHERE a.state = 'pending' ORDER BY a.created_at, a.application_id LIMIT 20",
        )
        .fetch_all(self.pool())
        .await?)
    }
}
