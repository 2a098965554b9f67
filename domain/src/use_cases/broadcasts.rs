//! Broadcasts: staff write a message (text, optionally a photo) for an audience
//! (everyone, a role, a loyalty tier, people active in the last N days), look at it,
//! and confirm it. The draft and its confirmation are kept in `broadcasts`; the
//! bot's broadcaster fixes the recipients once and sends to each at most once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Core;
use crate::command::{CommandError, ErrorKind};
use crate::permissions::{Action, Caller, Role};

/// Telegram's limits: a message's text, and a photo's caption.
const TEXT_LIMIT: usize = 4096;
const CAPTION_LIMIT: usize = 1024;
const MAX_ACTIVE_DAYS: u32 = 365;

/// Who a broadcast goes to (never to blocked users).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    Everyone,
    Role {
        role: Role,
    },
    LoyaltyTier {
        tier: String,
    },
    /// Signed in or wrote to the bot in the last `days` days.
    ActiveWithin {
        days: u32,
    },
}

/// A broadcast as staff write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastDraft {
    pub text: String,
    /// A Telegram file id.
    pub photo: Option<String>,
    pub audience: Audience,
    /// Where the delivery report goes.
    pub report_chat: Option<i64>,
}

impl Core {
    /// Keeps `draft` for `caller` to confirm; its id.
    pub async fn plan_broadcast(
        &self,
        caller: Caller,
        draft: BroadcastDraft,
        now: DateTime<Utc>,
    ) -> Result<Uuid, CommandError> {
        caller.require(Action::SendBroadcast)?;
        let limit = if draft.photo.is_some() {
            CAPTION_LIMIT
        } else {
            TEXT_LIMIT
        };
        // Telegram counts UTF-16 units (an emoji is two).
        let length = draft.text.encode_utf16().count();
        if draft.photo.is_none() && (draft.text.trim().is_empty() || length > limit) {
            return Err(CommandError::invalid("text", "1 to 4096 characters"));
        }
        if draft.photo.is_some() && length > limit {
            return Err(CommandError::invalid(
                "text",
                "a photo's caption holds at most 1024 characters",
            ));
        }
        if draft.text.contains('\0') {
            return Err(CommandError::invalid("text", "text without NUL characters"));
        }
        match &draft.audience {
            Audience::ActiveWithin { days } if !(1..=MAX_ACTIVE_DAYS).contains(days) => {
                return Err(CommandError::invalid("audience", "1 to 365 days"));
            }
            Audience::LoyaltyTier { tier } if tier.trim().is_empty() || tier.len() > 100 => {
                return Err(CommandError::invalid("audience", "a loyalty tier's name"));
            }
            _ => {}
        }
        let audience = serde_json::to_value(&draft.audience)
            .map_err(|error| CommandError::new(ErrorKind::Internal, error.to_string()))?;
        let broadcast_id = crate::command::new_id();
        sqlx::query(
            "INSERT INTO broadcasts (broadcast_id, created_by, report_chat, text, photo, audience, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7) \
             ON CONFLICT (broadcast_id) DO NOTHING",
        )
        .bind(broadcast_id)
        .bind(caller.user_id)
        .bind(draft.report_chat)
        .bind(&draft.text)
        .bind(&draft.photo)
        .bind(audience)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(broadcast_id)
    }

    /// Confirms `caller`'s draft `broadcast_id`: from now on it is sent. `false` when
    /// it was confirmed (or cancelled) already, so a second press sends nothing more.
    pub async fn confirm_broadcast(
        &self,
        caller: Caller,
        broadcast_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, CommandError> {
        self.decide_broadcast(caller, broadcast_id, "confirmed", now)
            .await
    }

    /// Drops `caller`'s draft `broadcast_id`; `false` when it was no draft any more.
    pub async fn cancel_broadcast(
        &self,
        caller: Caller,
        broadcast_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, CommandError> {
        self.decide_broadcast(caller, broadcast_id, "cancelled", now)
            .await
    }

    async fn decide_broadcast(
        &self,
        caller: Caller,
        broadcast_id: Uuid,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, CommandError> {
        caller.require(Action::SendBroadcast)?;
        let created_by: Option<Uuid> =
            sqlx::query_scalar("SELECT created_by FROM broadcasts WHERE broadcast_id = $1")
                .bind(broadcast_id)
                .fetch_optional(self.pool())
                .await?;
        if created_by != Some(caller.user_id) {
            return Err(CommandError::not_found("no such broadcast of yours"));
        }
        let changed = sqlx::query(
            "UPDATE broadcasts SET state = $2, confirmed_at = CASE WHEN $2 = 'confirmed' THEN $3 END \
             WHERE broadcast_id = $1 AND state = 'draft'",
        )
        .bind(broadcast_id)
        .bind(state)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(changed.rows_affected() == 1)
    }
}
