use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// How a category shows in the Mini App and the bot, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryLook {
    pub name: String,
    /// An emoji or a short symbol.
    pub icon: Option<String>,
    /// `#RRGGBB`.
    pub colour: String,
    /// Sort order in lists, smallest first.
    pub position: i32,
    /// Inactive categories are kept for old tickets but not offered for new ones.
    pub active: bool,
}

/// Everything that happens to a category. Stored forever: fields are only added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CategoryEvent {
    CategoryCreated {
        #[serde(flatten)]
        look: CategoryLook,
    },
    /// The whole look after the change.
    CategoryUpdated {
        #[serde(flatten)]
        look: CategoryLook,
    },
    CategoryDeleted {},
}

impl DomainEvent for CategoryEvent {
    fn event_type(&self) -> String {
        match self {
            CategoryEvent::CategoryCreated { .. } => "CategoryCreated",
            CategoryEvent::CategoryUpdated { .. } => "CategoryUpdated",
            CategoryEvent::CategoryDeleted { .. } => "CategoryDeleted",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
