use domain::use_cases::files::ChunkSource;
use domain::use_cases::generation::port::{
    AiError, AiFuture, ChatAnswer, ChatMessage, ChatModel, ImageProvider, ImageTask, TaskState,
};
use rust_decimal::Decimal;

/// A service with no key: every request is refused with what to set.
pub struct Unconfigured {
    pub variable: &'static str,
}

impl Unconfigured {
    fn refusal(&self) -> AiError {
        AiError::refused(format!("not configured: set {}", self.variable))
    }
}

impl ImageProvider for Unconfigured {
    fn name(&self) -> &str {
        "none"
    }

    fn configured(&self) -> bool {
        false
    }

    fn submit<'a>(&'a self, _task: &'a ImageTask) -> AiFuture<'a, String> {
        Box::pin(async move { Err(self.refusal()) })
    }

    fn state<'a>(&'a self, _task_id: &'a str) -> AiFuture<'a, TaskState> {
        Box::pin(async move { Err(self.refusal()) })
    }

    fn download<'a>(&'a self, _url: &'a str) -> AiFuture<'a, Box<dyn ChunkSource + 'a>> {
        Box::pin(async move { Err(self.refusal()) })
    }

    fn cost_per_task(&self) -> Decimal {
        Decimal::ZERO
    }
}

impl ChatModel for Unconfigured {
    fn name(&self) -> &str {
        "none"
    }

    fn configured(&self) -> bool {
        false
    }

    fn complete<'a>(&'a self, _messages: &'a [ChatMessage]) -> AiFuture<'a, ChatAnswer> {
        Box::pin(async move { Err(self.refusal()) })
    }
}
