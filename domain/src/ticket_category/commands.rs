use super::CategoryLook;
use crate::permissions::Role;

/// A partial change: fields left `None` keep their value; `icon: Some(None)` clears
/// the icon.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CategoryChange {
    pub name: Option<String>,
    pub icon: Option<Option<String>>,
    pub colour: Option<String>,
    pub position: Option<i32>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CategoryCommand {
    Create { look: CategoryLook, by: Role },
    Update { change: CategoryChange, by: Role },
    Delete { by: Role },
}

impl crate::command::Targeted for CategoryCommand {}
