//! The outside AI services as ports: an image provider that runs tasks (kie.ai's task
//! API in the API crate's adapter) and a chat model (an OpenAI-compatible chat
//! completions API). The composition root injects them.

use std::future::Future;
use std::pin::Pin;

use rust_decimal::Decimal;

use crate::use_cases::files::ChunkSource;

pub type AiFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AiError>> + Send + 'a>>;

/// A failure of an AI service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AiError {
    pub message: String,
    /// Whether asking again may work (a timeout, a 5xx, a rate limit); a refusal of the
    /// request itself (bad input, content policy, no money at the provider) is not.
    pub transient: bool,
    /// The job's own inputs were erased before it ran (no provider was asked).
    pub inputs_erased: bool,
}

impl AiError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: true,
            inputs_erased: false,
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: false,
            inputs_erased: false,
        }
    }

    pub fn inputs_erased(message: impl Into<String>) -> Self {
        Self {
            inputs_erased: true,
            ..Self::refused(message)
        }
    }
}

/// An image task: a prompt and the input photos as URLs the provider fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTask {
    pub prompt: String,
    pub image_urls: Vec<String>,
}

/// Where a task is at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    Working,
    Succeeded { result_urls: Vec<String> },
    Failed { code: String, message: String },
}

pub trait ImageProvider: Send + Sync {
    /// The provider's name (for the usage records).
    fn name(&self) -> &str;

    /// False when no provider is set up (requests are refused before anything is spent).
    fn configured(&self) -> bool {
        true
    }

    /// Creates a task; the provider's id for it.
    fn submit<'a>(&'a self, task: &'a ImageTask) -> AiFuture<'a, String>;

    fn state<'a>(&'a self, task_id: &'a str) -> AiFuture<'a, TaskState>;

    /// The bytes of a result.
    fn download<'a>(&'a self, url: &'a str) -> AiFuture<'a, Box<dyn ChunkSource + 'a>>;

    /// What one task costs at the provider (configuration: the task API reports no
    /// price), for the owner's margin report.
    fn cost_per_task(&self) -> Decimal;
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

/// A model's answer with what it used.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatAnswer {
    pub content: String,
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// What the provider says the request cost, if it says.
    pub cost: Option<Decimal>,
}

pub trait ChatModel: Send + Sync {
    fn name(&self) -> &str;

    fn configured(&self) -> bool {
        true
    }

    fn complete<'a>(&'a self, messages: &'a [ChatMessage]) -> AiFuture<'a, ChatAnswer>;
}
