use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::permissions::Role;

/// Who issues a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, with the role they act in.
    User { id: Uuid, role: Role },
    /// The system itself: a process manager, a scheduler, a webhook.
    System { name: String },
}

/// Everything about a command that is not the command: recorded as the metadata of
/// every event it produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    pub actor: Actor,
    /// The HTTP request or bot update that led here, for tracing a change back.
    pub request_id: Option<String>,
    /// The event that caused this command (process managers), as
    /// `<AggregateType>:<aggregate_id>:<sequence>`.
    pub causation_id: Option<String>,
    /// Wall-clock time of the command (UTC).
    pub at: DateTime<Utc>,
}

impl CommandContext {
    pub fn user(id: Uuid, role: Role) -> Self {
        Self {
            actor: Actor::User { id, role },
            request_id: None,
            causation_id: None,
            at: Utc::now(),
        }
    }

    pub fn system(name: impl Into<String>) -> Self {
        Self {
            actor: Actor::System { name: name.into() },
            request_id: None,
            causation_id: None,
            at: Utc::now(),
        }
    }

    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    pub fn caused_by(mut self, causation_id: impl Into<String>) -> Self {
        self.causation_id = Some(causation_id.into());
        self
    }

    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = at;
        self
    }

    /// The acting user's id, if a person acts.
    pub fn user_id(&self) -> Option<Uuid> {
        match &self.actor {
            Actor::User { id, .. } => Some(*id),
            Actor::System { .. } => None,
        }
    }

    /// The role the actor acts in; the system acts as owner.
    pub fn role(&self) -> Role {
        match &self.actor {
            Actor::User { role, .. } => *role,
            Actor::System { .. } => Role::Owner,
        }
    }

    /// The event metadata (a flat string map, as cqrs-es stores it).
    pub fn metadata(&self) -> HashMap<String, String> {
        let mut metadata = HashMap::new();
        match &self.actor {
            Actor::User { id, role } => {
                metadata.insert("actor_kind".to_owned(), "user".to_owned());
                metadata.insert("actor_id".to_owned(), id.to_string());
                metadata.insert("actor_role".to_owned(), crate::wire::wire_name(role));
            }
            Actor::System { name } => {
                metadata.insert("actor_kind".to_owned(), "system".to_owned());
                metadata.insert("actor_id".to_owned(), name.clone());
            }
        }
        if let Some(request_id) = &self.request_id {
            metadata.insert("request_id".to_owned(), request_id.clone());
        }
        if let Some(causation_id) = &self.causation_id {
            metadata.insert("causation_id".to_owned(), causation_id.clone());
        }
        metadata.insert(
            "time".to_owned(),
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        );
        metadata
    }
}
