//! The editing assistant's suggestions, picked by number from an entry point that
//! cannot carry their text (a chat button holds 64 bytes): read back from the chat
//! and the answer they came with, so they stay with it and go when it is erased.

use uuid::Uuid;

use crate::command::CommandError;
use crate::permissions::Caller;
use crate::use_cases::Core;

impl Core {
    /// Suggestion `index` (from 0) of the answer at `position` in `caller`'s open
    /// chat `session_id`.
    pub async fn assistant_variant(
        &self,
        caller: Caller,
        session_id: Uuid,
        position: i32,
        index: usize,
    ) -> Result<String, CommandError> {
        self.own_session(caller, session_id).await?;
        let variants: Option<serde_json::Value> = sqlx::query_scalar(
            "SELECT variants FROM assistant_messages \
             WHERE session_id = $1 AND position = $2 AND role = 'assistant'",
        )
        .bind(session_id)
        .bind(position)
        .fetch_optional(self.pool())
        .await?;
        variants
            .as_ref()
            .and_then(|variants| variants.get(index))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                CommandError::invalid_state(
                    "that suggestion is no longer there; ask the assistant again",
                )
            })
    }
}
