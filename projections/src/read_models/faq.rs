//! Reading the FAQ (`faq_entries`, written by `domain::use_cases::faq`): every entry
//! by category and question, for everyone.

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use serde::Serialize;
use uuid::Uuid;

use crate::read_models::ReadModels;

/// A question with its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaqItem {
    pub entry_id: Uuid,
    pub category: String,
    pub question: String,
    pub answer: String,
    pub updated_at: DateTime<Utc>,
}

impl ReadModels {
    /// The whole FAQ, by category, then question (at most 500 entries).
    pub async fn faq(&self) -> Result<Vec<FaqItem>, CommandError> {
        Ok(sqlx::query_as(
            "SELECT entry_id, category, question, answer, updated_at FROM faq_entries \
             ORDER BY category, question LIMIT 500",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// One entry.
    pub async fn faq_entry(&self, entry_id: Uuid) -> Result<Option<FaqItem>, CommandError> {
        Ok(sqlx::query_as(
            "SELECT entry_id, category, question, answer, updated_at FROM faq_entries WHERE entry_id = $1",
        )
        .bind(entry_id)
        .fetch_optional(self.pool())
        .await?)
    }
}
