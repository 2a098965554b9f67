//! An OpenAI-compatible chat completions API (OpenRouter by default):
//! `POST {base}/chat/completions` with `{"model", "messages"}`, answered with
//! `choices[0].message.content` and `usage` (`prompt_tokens`, `completion_tokens`,
//! and OpenRouter's `cost`).

use std::time::Duration;

use domain::use_cases::generation::port::{AiError, AiFuture, ChatAnswer, ChatMessage, ChatModel};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use super::{http_error, status_error};

pub struct ChatCompletions {
    http: reqwest::Client,
    base_url: String,
    key: String,
    model: String,
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    model: Option<String>,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<UsageFigures>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct UsageFigures {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    cost: Option<serde_json::Number>,
}

const SERVICE: &str = "the chat model";

impl ChatCompletions {
    pub fn new(
        base_url: &str,
        key: &str,
        model: &str,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            model: model.to_owned(),
        })
    }
}

impl ChatModel for ChatCompletions {
    fn name(&self) -> &str {
        "chat-completions"
    }

    fn complete<'a>(&'a self, messages: &'a [ChatMessage]) -> AiFuture<'a, ChatAnswer> {
        Box::pin(async move {
            let messages: Vec<_> = messages
                .iter()
                .map(|message| json!({"role": message.role, "content": message.content}))
                .collect();
            let response = self
                .http
                .post(format!("{}/chat/completions", self.base_url))
                .bearer_auth(&self.key)
                .json(
                    &json!({"model": self.model, "messages": messages, "usage": {"include": true}}),
                )
                .send()
                .await
                .map_err(|error| http_error(SERVICE, error))?;
            let status = response.status();
            let body = response
                .text()
                .await
                .map_err(|error| http_error(SERVICE, error))?;
            if !status.is_success() {
                return Err(status_error(SERVICE, status, &body));
            }
            let completion: Completion = serde_json::from_str(&body).map_err(|error| {
                AiError::transient(format!("{SERVICE} answered something else: {error}"))
            })?;
            let content = completion
                .choices
                .into_iter()
                .next()
                .and_then(|choice| choice.message.content)
                .ok_or_else(|| {
                    AiError::transient(format!("{SERVICE} answered without a message"))
                })?;
            let usage = completion.usage;
            Ok(ChatAnswer {
                content,
                model: completion.model.unwrap_or_else(|| self.model.clone()),
                prompt_tokens: usage.as_ref().map_or(0, |usage| usage.prompt_tokens),
                completion_tokens: usage.as_ref().map_or(0, |usage| usage.completion_tokens),
                cost: usage.and_then(|usage| usage.cost).and_then(|cost| {
                    let text = cost.to_string();
                    text.parse::<Decimal>()
                        .or_else(|_| Decimal::from_scientific(&text))
                        .ok()
                }),
            })
        })
    }
}
