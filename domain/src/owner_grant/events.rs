use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Everything that happens to an owner grant. Stored forever: fields are only added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OwnerGrantEvent {
    OwnerGranted { telegram_id: i64, reason: String },
    OwnerGrantApplied { user_id: Uuid },
}

impl DomainEvent for OwnerGrantEvent {
    fn event_type(&self) -> String {
        match self {
            OwnerGrantEvent::OwnerGranted { .. } => "OwnerGranted",
            OwnerGrantEvent::OwnerGrantApplied { .. } => "OwnerGrantApplied",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
