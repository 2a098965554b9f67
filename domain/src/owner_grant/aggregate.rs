use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OwnerGrantCommand, OwnerGrantError, OwnerGrantEvent};

const MAX_REASON: usize = 500;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerGrant {
    telegram_id: Option<i64>,
    reason: String,
    applied_to: Option<Uuid>,
}

impl OwnerGrant {
    /// Whether the owner role was granted to this account.
    pub fn is_granted(&self) -> bool {
        self.telegram_id.is_some()
    }

    /// The user the grant took effect on, once it did.
    pub fn applied_to(&self) -> Option<Uuid> {
        self.applied_to
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    fn decide(&self, command: OwnerGrantCommand) -> Result<Vec<OwnerGrantEvent>, OwnerGrantError> {
        match command {
            OwnerGrantCommand::Grant {
                telegram_id,
                reason,
            } => {
                let reason = reason.trim().to_owned();
                if reason.is_empty() || reason.chars().count() > MAX_REASON {
                    return Err(OwnerGrantError::InvalidReason);
                }
                if self.is_granted() {
                    return Ok(vec![]);
                }
                Ok(vec![OwnerGrantEvent::OwnerGranted {
                    telegram_id,
                    reason,
                }])
            }
            OwnerGrantCommand::MarkApplied { user_id } => {
                if !self.is_granted() {
                    return Err(OwnerGrantError::NotGranted);
                }
                match self.applied_to {
                    Some(applied) if applied == user_id => Ok(vec![]),
                    Some(applied) => Err(OwnerGrantError::AppliedToAnother(applied)),
                    None => Ok(vec![OwnerGrantEvent::OwnerGrantApplied { user_id }]),
                }
            }
        }
    }
}

impl Aggregate for OwnerGrant {
    const TYPE: &'static str = "OwnerGrant";
    type Command = OwnerGrantCommand;
    type Event = OwnerGrantEvent;
    type Error = OwnerGrantError;
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
            OwnerGrantEvent::OwnerGranted {
                telegram_id,
                reason,
            } => {
                self.telegram_id = Some(telegram_id);
                self.reason = reason;
            }
            OwnerGrantEvent::OwnerGrantApplied { user_id } => self.applied_to = Some(user_id),
        }
    }
}
