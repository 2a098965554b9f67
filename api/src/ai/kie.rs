//! kie.ai's image task API as its public documentation describes it
//! (docs.kie.ai, "Market" models): `POST /api/v1/jobs/createTask` with
//! `{"model", "input": {"prompt", "image_urls", "output_format"}}` answers
//! `{"code": 200, "msg", "data": {"taskId"}}`; `GET /api/v1/jobs/recordInfo?taskId=`
//! answers `data.state` (`waiting`, `queuing`, `generating`, `success`, `fail`),
//! `data.resultJson` (a JSON string with `resultUrls`) and `failCode`/`failMsg`.
//! The body's `code` is checked as well as the HTTP status (kie.ai puts errors in
//! both). Bearer auth; the input photos are signed links to this server.

use std::time::Duration;

use domain::use_cases::files::{ChunkFuture, ChunkSource};
use domain::use_cases::generation::port::{AiError, AiFuture, ImageProvider, ImageTask, TaskState};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use super::{http_error, status_error};

pub struct KieImages {
    http: reqwest::Client,
    base_url: String,
    key: String,
    model: String,
    cost: Decimal,
}

#[derive(Deserialize)]
struct Envelope<T> {
    code: i64,
    #[serde(default, alias = "message")]
    msg: String,
    data: Option<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    task_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    state: String,
    #[serde(default)]
    result_json: Option<String>,
    #[serde(default)]
    fail_code: Option<serde_json::Value>,
    #[serde(default)]
    fail_msg: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultJson {
    #[serde(default)]
    result_urls: Vec<String>,
}

const SERVICE: &str = "kie.ai";

impl KieImages {
    pub fn new(
        base_url: &str,
        key: &str,
        model: &str,
        cost: Decimal,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            model: model.to_owned(),
            cost,
        })
    }

    fn checked<T>(envelope: Envelope<T>) -> Result<T, AiError> {
        match envelope.code {
            200 => envelope
                .data
                .ok_or_else(|| AiError::transient("kie.ai answered without data")),
            429 | 455 | 500 => Err(AiError::transient(format!(
                "kie.ai: {} ({})",
                envelope.msg, envelope.code
            ))),
            code => Err(AiError::refused(format!(
                "kie.ai: {} ({code})",
                envelope.msg
            ))),
        }
    }

    async fn read<T: for<'de> Deserialize<'de>>(response: reqwest::Response) -> Result<T, AiError> {
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|error| http_error(SERVICE, error))?;
        match serde_json::from_str::<Envelope<T>>(&body) {
            Ok(envelope) => Self::checked(envelope),
            Err(_) if !status.is_success() => Err(status_error(SERVICE, status, &body)),
            Err(error) => Err(AiError::transient(format!(
                "kie.ai answered something else: {error}"
            ))),
        }
    }
}

impl ImageProvider for KieImages {
    fn name(&self) -> &str {
        SERVICE
    }

    fn submit<'a>(&'a self, task: &'a ImageTask) -> AiFuture<'a, String> {
        Box::pin(async move {
            let response = self
                .http
                .post(format!("{}/api/v1/jobs/createTask", self.base_url))
                .bearer_auth(&self.key)
                .json(&json!({
                    "model": self.model,
                    "input": {
                        "prompt": task.prompt,
                        "image_urls": task.image_urls,
                        "output_format": "png",
                    },
                }))
                .send()
                .await
                .map_err(|error| http_error(SERVICE, error))?;
            let created: Created = Self::read(response).await?;
            Ok(created.task_id)
        })
    }

    fn state<'a>(&'a self, task_id: &'a str) -> AiFuture<'a, TaskState> {
        Box::pin(async move {
            let response = self
                .http
                .get(format!("{}/api/v1/jobs/recordInfo", self.base_url))
                .query(&[("taskId", task_id)])
                .bearer_auth(&self.key)
                .send()
                .await
                .map_err(|error| http_error(SERVICE, error))?;
            let record: Record = Self::read(response).await?;
            Ok(match record.state.as_str() {
                "success" => {
                    let result: ResultJson =
                        serde_json::from_str(record.result_json.as_deref().unwrap_or("{}"))
                            .map_err(|error| {
                                AiError::transient(format!("kie.ai's resultJson: {error}"))
                            })?;
                    TaskState::Succeeded {
                        result_urls: result.result_urls,
                    }
                }
                "fail" => TaskState::Failed {
                    code: match record.fail_code {
                        Some(serde_json::Value::String(code)) => code,
                        Some(other) => other.to_string(),
                        None => String::new(),
                    },
                    message: record.fail_msg.unwrap_or_default(),
                },
                _ => TaskState::Working,
            })
        })
    }

    fn download<'a>(&'a self, url: &'a str) -> AiFuture<'a, Box<dyn ChunkSource + 'a>> {
        Box::pin(async move {
            let response = self
                .http
                .get(url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|error| http_error(SERVICE, error))?;
            let source: Box<dyn ChunkSource + 'a> = Box::new(Download(response));
            Ok(source)
        })
    }

    fn cost_per_task(&self) -> Decimal {
        self.cost
    }
}

/// A download's body, a chunk at a time.
struct Download(reqwest::Response);

impl ChunkSource for Download {
    fn next_chunk(&mut self) -> ChunkFuture<'_> {
        Box::pin(async move { self.0.chunk().await.map_err(std::io::Error::other) })
    }
}
