//! Reading the reviews of completed orders: the published ones for everyone (without
//! who wrote them), newest first; admins see the hidden ones too, marked.

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use domain::permissions::{Action, Caller};
use serde::Serialize;

use crate::read_models::ReadModels;

/// A review as the reviews page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ReviewView {
    pub order_id: String,
    /// What was ordered (the order's title).
    pub title: String,
    pub stars: i16,
    pub text: Option<String>,
    pub hidden: bool,
    pub reviewed_at: DateTime<Utc>,
}

impl ReadModels {
    /// The latest `limit` reviews (1..50): published ones, and for those who moderate
    /// reviews the hidden ones too.
    pub async fn reviews(
        &self,
        viewer: Caller,
        limit: i64,
    ) -> Result<Vec<ReviewView>, CommandError> {
        let moderator = viewer.may(Action::ModerateReviews);
        Ok(sqlx::query_as(
            "SELECT o.order_id, o.title, o.review_stars AS stars, o.review_text AS text, \
                    COALESCE(m.hidden, false) AS hidden, o.updated_at AS reviewed_at \
             FROM rm_orders o LEFT JOIN review_moderation m ON m.order_id::text = o.order_id \
             WHERE o.review_stars IS NOT NULL AND ($1 OR NOT COALESCE(m.hidden, false)) \
             ORDER BY o.updated_at DESC, o.order_id DESC LIMIT $2",
        )
        .bind(moderator)
        .bind(limit.clamp(1, 50))
        .fetch_all(self.pool())
        .await?)
    }
}
