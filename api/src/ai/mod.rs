//! The AI services' and the virus scanner's adapters, the ports of
//! `domain::use_cases::{generation::port, files}`: kie.ai's image task API
//! (`kie.rs`), an OpenAI-compatible chat completions API such as OpenRouter
//! (`chat.rs`), and ClamAV's clamd (`clamav.rs`). Without keys, the services say they
//! are not configured (`unconfigured.rs`).

pub mod chat;
pub mod clamav;
pub mod kie;
mod unconfigured;

pub use unconfigured::Unconfigured;

use domain::use_cases::generation::port::AiError;

/// An HTTP failure as a port's error: timeouts, connection failures, 429 and 5xx may
/// pass; other statuses are the request's own fault.
pub(crate) fn http_error(service: &str, error: reqwest::Error) -> AiError {
    match error.status() {
        Some(status) if status.as_u16() == 429 || status.is_server_error() => {
            AiError::transient(format!("{service} answered {status}"))
        }
        Some(status) => AiError::refused(format!("{service} refused the request ({status})")),
        None => AiError::transient(format!("{service} could not be reached: {error}")),
    }
}

pub(crate) fn status_error(service: &str, status: reqwest::StatusCode, body: &str) -> AiError {
    let excerpt: String = body.chars().take(200).collect();
    if status.as_u16() == 429 || status.is_server_error() {
        AiError::transient(format!("{service} answered {status}: {excerpt}"))
    } else {
        AiError::refused(format!(
            "{service} refused the request ({status}): {excerpt}"
        ))
    }
}
