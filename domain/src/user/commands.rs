use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::permissions::Role;

/// What Telegram tells us about a person; every field is theirs to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// IETF language tag from Telegram (`ru`, `en`).
    pub language: Option<String>,
    pub photo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    /// First sight of a Telegram user. Repeating it for the same Telegram id changes
    /// nothing.
    Register {
        user_id: Uuid,
        telegram_id: i64,
        profile: Profile,
        /// The referral code the user arrived with (`t.me/bot?start=ref_<code>`).
        invited_with: Option<String>,
        /// The user's own referral code; `None` derives it from the id
        /// ([`crate::user::referral_code_for`]). Another code is given when the
        /// store refuses that one as taken.
        referral_code: Option<String>,
    },
    GiveConsent {
        terms_version: String,
    },
    /// `by` is the role of whoever asks.
    ChangeRole {
        role: Role,
        by: Role,
    },
    Block {
        reason: String,
        by: Role,
    },
    Unblock {
        by: Role,
    },
    UpdateProfile {
        profile: Profile,
    },
    LinkReferrer {
        referrer_id: Uuid,
    },
}

impl crate::command::Targeted for UserCommand {
    fn target_id(&self) -> Option<String> {
        match self {
            UserCommand::Register { user_id, .. } => Some(user_id.to_string()),
            _ => None,
        }
    }
}
