use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::GenerationKind;

#[derive(Debug, Clone, PartialEq)]
pub enum GenerationCommand {
    Request {
        job_id: Uuid,
        user_id: Uuid,
        kind: GenerationKind,
        input_files: Vec<Uuid>,
        price: u64,
        at: DateTime<Utc>,
    },
    /// The credits were spent under the job's id.
    RecordCharge { at: DateTime<Utc> },
    /// The credits could not be spent.
    Reject { reason: String, at: DateTime<Utc> },
    /// Attempt `attempt` (from 1) at the provider begins.
    Start { attempt: u32, at: DateTime<Utc> },
    Succeed {
        result_file: Uuid,
        at: DateTime<Utc>,
    },
    Fail {
        reason: String,
        attempts: u32,
        at: DateTime<Utc>,
    },
    /// The job's spend was refunded to its account.
    RecordCreditsReturned { at: DateTime<Utc> },
}

impl crate::command::Targeted for GenerationCommand {
    fn target_id(&self) -> Option<String> {
        match self {
            GenerationCommand::Request { job_id, .. } => Some(job_id.to_string()),
            _ => None,
        }
    }
}
