use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::{CategoryChange, CategoryCommand, CategoryError, CategoryEvent, CategoryLook};
use crate::permissions::{Action, Role, is_allowed};

const MAX_NAME: usize = 64;
const MAX_ICON: usize = 8;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketCategory {
    /// The current look; `None` before creation and after deletion.
    look: Option<CategoryLook>,
}

/// A category code: 1–32 lowercase ASCII letters, digits, `_` or `-`.
pub fn valid_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn check(look: &CategoryLook) -> Result<(), CategoryError> {
    let name = look.name.trim();
    if name.is_empty() || look.name.chars().count() > MAX_NAME {
        return Err(CategoryError::Invalid {
            field: "name",
            rule: "1 to 64 characters",
        });
    }
    if look
        .icon
        .as_ref()
        .is_some_and(|icon| icon.trim().is_empty() || icon.chars().count() > MAX_ICON)
    {
        return Err(CategoryError::Invalid {
            field: "icon",
            rule: "1 to 8 characters (an emoji), or absent",
        });
    }
    let colour = look.colour.as_bytes();
    if colour.len() != 7 || colour[0] != b'#' || !colour[1..].iter().all(u8::is_ascii_hexdigit) {
        return Err(CategoryError::Invalid {
            field: "colour",
            rule: "#RRGGBB",
        });
    }
    Ok(())
}

fn allowed(by: Role) -> Result<(), CategoryError> {
    if is_allowed(by, Action::ManageTicketCategories) {
        Ok(())
    } else {
        Err(CategoryError::Forbidden)
    }
}

fn merged(current: &CategoryLook, change: CategoryChange) -> CategoryLook {
    CategoryLook {
        name: change.name.unwrap_or_else(|| current.name.clone()),
        icon: change.icon.unwrap_or_else(|| current.icon.clone()),
        colour: change.colour.unwrap_or_else(|| current.colour.clone()),
        position: change.position.unwrap_or(current.position),
        active: change.active.unwrap_or(current.active),
    }
}

impl TicketCategory {
    pub fn look(&self) -> Option<&CategoryLook> {
        self.look.as_ref()
    }

    fn decide(&self, command: CategoryCommand) -> Result<Vec<CategoryEvent>, CategoryError> {
        match command {
            CategoryCommand::Create { look, by } => {
                allowed(by)?;
                if self.look.is_some() {
                    return Err(CategoryError::AlreadyExists);
                }
                check(&look)?;
                Ok(vec![CategoryEvent::CategoryCreated { look }])
            }
            CategoryCommand::Update { change, by } => {
                allowed(by)?;
                let current = self.look.as_ref().ok_or(CategoryError::NotFound)?;
                let look = merged(current, change);
                check(&look)?;
                if &look == current {
                    return Ok(vec![]);
                }
                Ok(vec![CategoryEvent::CategoryUpdated { look }])
            }
            CategoryCommand::Delete { by } => {
                allowed(by)?;
                if self.look.is_none() {
                    return Err(CategoryError::NotFound);
                }
                Ok(vec![CategoryEvent::CategoryDeleted {}])
            }
        }
    }
}

impl Aggregate for TicketCategory {
    const TYPE: &'static str = "TicketCategory";
    type Command = CategoryCommand;
    type Event = CategoryEvent;
    type Error = CategoryError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            CategoryEvent::CategoryCreated { look } | CategoryEvent::CategoryUpdated { look } => {
                self.look = Some(look)
            }
            CategoryEvent::CategoryDeleted {} => self.look = None,
        }
    }
}
