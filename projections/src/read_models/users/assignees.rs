//! Who staff may give work to: the people whose role may work on orders (for an
//! order) or handle tickets (for a ticket), not blocked, least busy first, with how
//! much they hold now. The write side still decides (`Core::act_on_order` and the
//! Ticket aggregate refuse someone whose role or block changed since).

use domain::command::CommandError;
use domain::permissions::{Action, Caller, Role, is_allowed};
use serde::Serialize;
use uuid::Uuid;

use crate::read_models::ReadModels;

/// How many people a list of assignees shows.
const ASSIGNEES: i64 = 20;

/// What is being handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    Orders,
    Tickets,
}

impl Work {
    /// The action the giver needs, and the one the receiver's role must allow.
    fn actions(self) -> (Action, Action) {
        match self {
            Work::Orders => (Action::AssignExecutor, Action::StartWork),
            Work::Tickets => (Action::AssignTicket, Action::ChangeTicketStatus),
        }
    }
}

/// Someone work may be given to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignee {
    pub user_id: String,
    pub first_name: String,
    pub username: Option<String>,
    pub role: String,
    /// Orders in work, or tickets neither resolved nor closed, assigned to them now.
    pub active: i64,
}

impl ReadModels {
    /// The people `viewer` may give `work` to, least busy first.
    pub async fn assignees(
        &self,
        viewer: Caller,
        work: Work,
    ) -> Result<Vec<Assignee>, CommandError> {
        self.holders(viewer, work, None).await
    }

    /// `user_id`, if `viewer` may give `work` to them.
    pub async fn assignee(
        &self,
        viewer: Caller,
        work: Work,
        user_id: Uuid,
    ) -> Result<Option<Assignee>, CommandError> {
        Ok(self.holders(viewer, work, Some(user_id)).await?.pop())
    }

    async fn holders(
        &self,
        viewer: Caller,
        work: Work,
        only: Option<Uuid>,
    ) -> Result<Vec<Assignee>, CommandError> {
        let (giving, receiving) = work.actions();
        viewer.require(giving)?;
        let roles: Vec<String> = Role::ALL
            .into_iter()
            .filter(|role| is_allowed(*role, receiving))
            .map(|role| domain::wire::wire_name(&role))
            .collect();
        let held = match work {
            Work::Orders => "SELECT executor_id AS holder, active FROM rm_executor_workload",
            Work::Tickets => {
                "SELECT assignee_id AS holder, count(*) AS active FROM rm_tickets \
                 WHERE assignee_id IS NOT NULL AND status NOT IN ('resolved', 'closed') \
                 GROUP BY assignee_id"
            }
        };
        Ok(sqlx::query_as(&format!(
            "SELECT u.user_id, u.first_name, u.username, u.role, COALESCE(h.active, 0)::int8 AS active \
             FROM rm_users u LEFT JOIN ({held}) h ON h.holder::text = u.user_id \
             WHERE u.role = ANY($1) AND NOT u.blocked AND ($3::text IS NULL OR u.user_id = $3) \
             ORDER BY COALESCE(h.active, 0), u.first_name, u.user_id LIMIT $2"
        ))
        .bind(&roles)
        .bind(ASSIGNEES)
        .bind(only.map(|id| id.to_string()))
        .fetch_all(self.pool())
        .await?)
    }
}
