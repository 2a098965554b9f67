use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GenerationKind {
    /// A person's photo and a garment's photo → the person wearing it.
    Fitting,
    /// A photo and a prompt (often one the assistant proposed) → the edited photo.
    Editing,
}

impl GenerationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GenerationKind::Fitting => "fitting",
            GenerationKind::Editing => "editing",
        }
    }

    /// How many input photos it takes.
    pub fn inputs(self) -> usize {
        match self {
            GenerationKind::Fitting => 2,
            GenerationKind::Editing => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GenerationEvent {
    GenerationRequested {
        job_id: Uuid,
        user_id: Uuid,
        kind: GenerationKind,
        /// The input photos, by file id (their bytes are never in the log).
        input_files: Vec<Uuid>,
        /// The price in credits, from configuration at the time of the request.
        price: u64,
        requested_at: DateTime<Utc>,
    },
    GenerationCharged {
        charged_at: DateTime<Utc>,
    },
    GenerationRejected {
        /// `insufficient_credits`.
        reason: String,
        rejected_at: DateTime<Utc>,
    },
    GenerationStarted {
        attempt: u32,
        started_at: DateTime<Utc>,
    },
    GenerationSucceeded {
        result_file: Uuid,
        finished_at: DateTime<Utc>,
    },
    GenerationFailed {
        /// What went wrong, in a fixed sentence of ours (never the provider's words,
        /// which may echo the prompt).
        reason: String,
        attempts: u32,
        failed_at: DateTime<Utc>,
    },
    GenerationCreditsReturned {
        credits: u64,
        returned_at: DateTime<Utc>,
    },
}

impl DomainEvent for GenerationEvent {
    fn event_type(&self) -> String {
        match self {
            GenerationEvent::GenerationRequested { .. } => "GenerationRequested",
            GenerationEvent::GenerationCharged { .. } => "GenerationCharged",
            GenerationEvent::GenerationRejected { .. } => "GenerationRejected",
            GenerationEvent::GenerationStarted { .. } => "GenerationStarted",
            GenerationEvent::GenerationSucceeded { .. } => "GenerationSucceeded",
            GenerationEvent::GenerationFailed { .. } => "GenerationFailed",
            GenerationEvent::GenerationCreditsReturned { .. } => "GenerationCreditsReturned",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
