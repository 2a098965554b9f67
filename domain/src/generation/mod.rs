//! An image generation paid in credits: requested → charged (the credits spent under
//! the job's id) or rejected (too few credits) → running (attempts) → succeeded with
//! the result file, or failed with a reason → its credits returned, once.
//!
//! The job's prompt and photos are not in its events (they must be erasable): the
//! events name the input files by id and the prompt lives in `generation_prompts`.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{GenerationJob, JobStatus};
pub use commands::GenerationCommand;
pub use error::GenerationError;
pub use events::{GenerationEvent, GenerationKind};

#[cfg(test)]
mod tests;
