use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Profile;
use crate::permissions::Role;

/// Everything that happens to a user. Stored forever: fields are only added, never
/// renamed; a change of meaning is a new version with an upcaster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserEvent {
    UserRegistered {
        user_id: Uuid,
        telegram_id: i64,
        profile: Profile,
        /// This user's own code for inviting others.
        referral_code: String,
        invited_with: Option<String>,
    },
    ConsentGiven {
        terms_version: String,
    },
    RoleChanged {
        from: Role,
        to: Role,
    },
    UserBlocked {
        reason: String,
    },
    UserUnblocked {},
    ProfileUpdated {
        profile: Profile,
    },
    ReferrerLinked {
        referrer_id: Uuid,
    },
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> String {
        match self {
            UserEvent::UserRegistered { .. } => "UserRegistered",
            UserEvent::ConsentGiven { .. } => "ConsentGiven",
            UserEvent::RoleChanged { .. } => "RoleChanged",
            UserEvent::UserBlocked { .. } => "UserBlocked",
            UserEvent::UserUnblocked {} => "UserUnblocked",
            UserEvent::ProfileUpdated { .. } => "ProfileUpdated",
            UserEvent::ReferrerLinked { .. } => "ReferrerLinked",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
