//! The FAQ: admins write questions with their answers under a category and delete
//! them; everyone reads them (`projections::read_models::faq`). A question asked again
//! in its category replaces the answer.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Core, text_within};
use crate::command::CommandError;
use crate::permissions::{Action, Caller};

/// A question and its answer, under a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqEntry {
    pub category: String,
    pub question: String,
    pub answer: String,
}

impl Core {
    /// Writes `entry` (`entry_id` to change one, `None` for a new one); its id.
    pub async fn put_faq_entry(
        &self,
        caller: Caller,
        entry_id: Option<Uuid>,
        entry: FaqEntry,
        now: DateTime<Utc>,
    ) -> Result<Uuid, CommandError> {
        caller.require(Action::ManageFaq)?;
        text_within("category", &entry.category, 60, "1 to 60 characters")?;
        text_within("question", &entry.question, 200, "1 to 200 characters")?;
        text_within("answer", &entry.answer, 3000, "1 to 3000 characters")?;
        if [&entry.category, &entry.question, &entry.answer]
            .iter()
            .any(|text| text.contains('\0'))
        {
            return Err(CommandError::invalid(
                "answer",
                "text without NUL characters",
            ));
        }
        let (category, question) = (entry.category.trim(), entry.question.trim());
        let answer = entry.answer.trim();
        let written: Option<Uuid> = match entry_id {
            None => sqlx::query_scalar(
                "INSERT INTO faq_entries (entry_id, category, question, answer, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (category, question) DO UPDATE SET answer = $4, updated_by = $5, updated_at = $6 \
                 RETURNING entry_id",
            )
            .bind(Uuid::now_v7())
            .bind(category)
            .bind(question)
            .bind(answer)
            .bind(caller.user_id)
            .bind(now)
            .fetch_optional(self.pool())
            .await,
            Some(id) => sqlx::query_scalar(
                "UPDATE faq_entries SET category = $2, question = $3, answer = $4, updated_by = $5, \
                        updated_at = $6 \
                 WHERE entry_id = $1 RETURNING entry_id",
            )
            .bind(id)
            .bind(category)
            .bind(question)
            .bind(answer)
            .bind(caller.user_id)
            .bind(now)
            .fetch_optional(self.pool())
            .await,
        }
        .map_err(|error| match &error {
            sqlx::Error::Database(database) if database.is_unique_violation() => {
                CommandError::invalid("question", "this category already has that question")
            }
            _ => CommandError::from(error),
        })?;
        written.ok_or_else(|| CommandError::not_found("no such FAQ entry"))
    }

    /// Deletes entry `entry_id`; false when there was none.
    pub async fn delete_faq_entry(
        &self,
        caller: Caller,
        entry_id: Uuid,
    ) -> Result<bool, CommandError> {
        caller.require(Action::ManageFaq)?;
        let deleted = sqlx::query("DELETE FROM faq_entries WHERE entry_id = $1")
            .bind(entry_id)
            .execute(self.pool())
            .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
