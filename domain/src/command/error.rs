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
    /// The store or an outside service could not be reached or failed; trying again
    /// later may work (503).
    Unavailable,
    /// An outside service (the payment provider) refused the request (502).
    Upstream,
    /// Something that retrying cannot fix, such as a stored event this version
    /// cannot read (500).
    Internal,
}

/// Implemented by every aggregate's error: how to classify it.
pub trait Refusal: std::error::Error {
    fn kind(&self) -> ErrorKind;

    /// The input field at fault, as the entry points' requests name it
    /// (`"subject"`, `"work_type"`), for refusals of bad input.
    fn field(&self) -> Option<String> {
        None
    }

    /// A stable, machine-readable reason, for refusals that one [`ErrorKind`] does not
    /// tell apart (`"last_owner"`, `"payment_open"`).
    fn code(&self) -> Option<&'static str> {
        None
    }

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

/// A command or use case that did not go through: what every entry point turns into
/// an HTTP answer or a bot reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CommandError {
    pub kind: ErrorKind,
    /// A sentence for the user: what is wrong and, where it helps, what to do.
    pub message: String,
    /// The input field at fault, for [`ErrorKind::InvalidInput`] (as requests spell
    /// it: `"subject"`, `"items[2].quantity"`).
    pub field: Option<String>,
    /// A stable, machine-readable reason where the kind alone does not say it.
    pub code: Option<&'static str>,
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
            field: None,
            code: None,
        }
    }

    /// Bad input in `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message).with_field(field)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidState, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn refused<E: Refusal>(error: &E) -> Self {
        Self {
            kind: error.kind(),
            message: error.to_string(),
            field: error.field(),
            code: error.code(),
        }
    }

    /// True for failures that may go away when tried again (an outage, a conflict).
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, ErrorKind::Unavailable | ErrorKind::Conflict)
    }
}

/// A table could not be read or written. An outage is unavailable (try again); a
/// failure that will repeat (refused data, bad SQL) is internal. What failed goes to
/// the log, not to the user.
impl From<sqlx::Error> for CommandError {
    fn from(error: sqlx::Error) -> Self {
        if crate::event_store::is_transient(&error) {
            tracing::warn!(%error, "the store failed");
            CommandError::unavailable("the store could not be reached; try again in a moment")
        } else {
            tracing::error!(%error, "the store refused a statement");
            CommandError::new(ErrorKind::Internal, "the store refused the request")
        }
    }
}
