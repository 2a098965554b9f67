//! Moderating reviews: admins hide a review from the published ones, or publish it
//! again (`review_moderation`). Reviews themselves are the Order aggregate's.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Core;
use crate::command::CommandError;
use crate::permissions::{Action, Caller};

impl Core {
    /// Hides (`hidden`) or publishes again the review of order `order_id`.
    pub async fn moderate_review(
        &self,
        caller: Caller,
        order_id: Uuid,
        hidden: bool,
        now: DateTime<Utc>,
    ) -> Result<(), CommandError> {
        caller.require(Action::ModerateReviews)?;
        let (order, _) = self.commands.orders.load(&order_id.to_string()).await?;
        if !order.is_reviewed() {
            return Err(CommandError::not_found("no reviewed order with this id"));
        }
        sqlx::query(
            "INSERT INTO review_moderation (order_id, hidden, decided_by, decided_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (order_id) DO UPDATE SET hidden = $2, decided_by = $3, decided_at = $4",
        )
        .bind(order_id)
        .bind(hidden)
        .bind(caller.user_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
