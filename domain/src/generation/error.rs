use crate::command::{ErrorKind, Refusal};

use super::JobStatus;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerationError {
    #[error("no such generation")]
    NotFound,
    #[error("this generation was already requested")]
    AlreadyRequested,
    #[error("a {kind} takes {wanted} photo(s), not {given}")]
    WrongInputs {
        kind: &'static str,
        wanted: usize,
        given: usize,
    },
    #[error("the generation is {status:?}; it cannot {wanted} now")]
    WrongStatus {
        status: JobStatus,
        wanted: &'static str,
    },
}

impl Refusal for GenerationError {
    fn kind(&self) -> ErrorKind {
        match self {
            GenerationError::NotFound => ErrorKind::NotFound,
            GenerationError::AlreadyRequested | GenerationError::WrongStatus { .. } => {
                ErrorKind::InvalidState
            }
            GenerationError::WrongInputs { .. } => ErrorKind::InvalidInput,
        }
    }

    fn field(&self) -> Option<String> {
        matches!(self, GenerationError::WrongInputs { .. }).then(|| "input_files".to_owned())
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            GenerationError::WrongStatus { .. } => Some("generation_status"),
            _ => None,
        }
    }
}
