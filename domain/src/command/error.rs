use std::fmt;

/// What kind of failure, which decides the HTTP status and the bot's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input is malformed or out of range (400/422).
    InvalidInput,
    /// The command is not allowed in the aggregate's current state (409/422).
    InvalidState,
    /// The actor may not do this (403).
    Forbidden,
    /// The aggregate does not exist (404).
    NotFound,
    /// Others kept changing the aggregate; try again (409).
    Conflict,
    /// The store could not be reached or failed (503).
    Unavailable,
    /// Something that retrying cannot fix, such as a stored event this version
    /// cannot read (500).
    Internal,
}

/// Implemented by every aggregate's error: how to classify it.
pub trait Refusal: std::error::Error {
    fn kind(&self) -> ErrorKind;

    /// The refusal a store constraint stands for (the constraint's name), when the
    /// store enforces an invariant that spans aggregates, such as non-overlapping
    /// bookings.
    fn from_store_constraint(_constraint: &str) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// Implemented by every aggregate's command: the aggregate id a command names
/// itself, if any (`Place` carries the order id, `Register` the user id), so a
/// command sent to the wrong aggregate is refused.
pub trait Targeted {
    fn target_id(&self) -> Option<String> {
        None
    }
}

/// A command that did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CommandError {
    pub kind: ErrorKind,
    /// A sentence for the user: what is wrong and, where it helps, what to do.
    pub message: String,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn refused<E: Refusal>(error: &E) -> Self {
        Self::new(error.kind(), error.to_string())
    }
}
