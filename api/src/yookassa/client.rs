//! The HTTP client for YooKassa's v3 API.
//!
//! - Authentication: HTTP Basic with the shop id and the secret key.
//! - Every POST carries an `Idempotence-Key`, the same one on every retry, so a repeat is
//!   YooKassa's "same data, same key": it returns the original result and never makes a
//!   second payment or refund.
//! - Retries: on timeouts, connection errors and 5xx (YooKassa: "on 500, repeat with the
//!   same data and key"), with a delay that starts at `retry_delay` and doubles on each
//!   retry, capped at 30 s. Never on 4xx: 404 is [`YooKassaError::NotFound`], any other 4xx
//!   is [`YooKassaError::Rejected`] with YooKassa's error code.
//! - Ids put into paths are checked first (`[A-Za-z0-9_-]` only), so no id can change the
//!   path it is put into.
//! - Logs name the method, the path, the attempt and the status or reason, never the
//!   secret key or the `Authorization` header.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::objects::{ErrorBody, NewPayment, NewRefund, PaymentObject, RefundObject};

/// The header YooKassa reads the idempotence key from.
pub const IDEMPOTENCE_KEY_HEADER: &str = "Idempotence-Key";

/// The longest delay between two tries, however many retries came before.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// The largest response body read; YooKassa's objects are a few kilobytes.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The longest id put into a path (YooKassa's ids are 36 characters).
pub const MAX_ID_LEN: usize = 128;

/// How to reach YooKassa. `Debug` never shows the secret key.
#[derive(Clone)]
pub struct YooKassaSettings {
    pub shop_id: String,
    pub secret_key: String,
    /// The API's base, e.g. `https://api.yookassa.ru/v3` (a trailing slash is ignored).
    pub api_url: String,
    /// The limit on one try, from connecting to reading the whole answer.
    pub timeout: Duration,
    /// Tries in all, the first included (at least 1; 0 counts as 1).
    pub attempts: u32,
    /// The delay before the first retry; doubled on each further retry, capped at 30 s.
    pub retry_delay: Duration,
}

impl fmt::Debug for YooKassaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YooKassaSettings")
            .field("shop_id", &self.shop_id)
            .field("secret_key", &"***")
            .field("api_url", &self.api_url)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .field("retry_delay", &self.retry_delay)
            .finish()
    }
}

/// What went wrong talking to YooKassa.
#[derive(Debug, thiserror::Error)]
pub enum YooKassaError {
    /// YooKassa refused the request (a 4xx other than 404) and said why in its error body;
    /// when the body was not YooKassa's error JSON, the code is made up from the status
    /// (`invalid_request`, `invalid_credentials`, `forbidden`, `too_many_requests`,
    /// `unexpected_status`). Also what the client answers, without sending anything, for
    /// an id or an idempotence key it cannot send.
    #[error("{}", rejected_message(*status, code, description, parameter.as_deref()))]
    Rejected {
        status: u16,
        code: String,
        description: String,
        parameter: Option<String>,
    },
    /// 404: YooKassa has no such payment or refund.
    #[error("YooKassa has no such object (HTTP 404)")]
    NotFound,
    /// Timeouts, connection errors or 5xx on every one of `attempts` tries. (Also what
    /// [`YooKassaClient::new`] answers, with `attempts: 0`, for settings it cannot use.)
    #[error("YooKassa is unavailable after {attempts} attempt(s): {reason}")]
    Unavailable { attempts: u32, reason: String },
    /// A 2xx answer whose body is not the object asked for.
    #[error("YooKassa answered with a body that cannot be read: {0}")]
    Malformed(String),
}

fn rejected_message(status: u16, code: &str, description: &str, parameter: Option<&str>) -> String {
    let mut message = format!("YooKassa refused the request (HTTP {status}, {code})");
    if !description.is_empty() {
        message.push_str(": ");
        message.push_str(description);
    }
    if let Some(parameter) = parameter {
        message.push_str(&format!(" [parameter: {parameter}]"));
    }
    message
}

impl YooKassaError {
    /// Whether asking again later (with the same idempotence key) may succeed: only when
    /// YooKassa could not be reached or failed on its side.
    pub fn is_retryable(&self) -> bool {
        matches!(self, YooKassaError::Unavailable { .. })
    }

    /// YooKassa's error code, for [`YooKassaError::Rejected`].
    pub fn code(&self) -> Option<&str> {
        match self {
            YooKassaError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }

    fn invalid_request(description: String, parameter: &str) -> Self {
        YooKassaError::Rejected {
            status: 400,
            code: "invalid_request".to_owned(),
            description,
            parameter: Some(parameter.to_owned()),
        }
    }
}

/// A client for YooKassa's API. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct YooKassaClient {
    http: reqwest::Client,
    settings: Arc<YooKassaSettings>,
}

impl fmt::Debug for YooKassaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YooKassaClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// How one try ended, when it did not end with the object.
enum Failure {
    /// Worth another try: a timeout, a connection error, a 5xx.
    Retry { status: Option<u16>, reason: String },
    /// The answer, whatever further tries would bring.
    Final(YooKassaError),
}

impl YooKassaClient {
    /// A client for `settings`. Refuses (as `Unavailable { attempts: 0, .. }`) an
    /// `api_url` that is not an absolute http(s) URL or that carries credentials.
    pub fn new(settings: YooKassaSettings) -> Result<Self, YooKassaError> {
        let unusable = |reason: String| YooKassaError::Unavailable {
            attempts: 0,
            reason,
        };
        let api_url = settings.api_url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&api_url)
            .map_err(|error| unusable(format!("the YooKassa API URL is not a URL: {error}")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(unusable(
                "the YooKassa API URL must not carry credentials; set the shop id and the \
                 secret key instead"
                    .to_owned(),
            ));
        }
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(unusable(format!(
                "the YooKassa API URL {api_url:?} is not an http(s) URL"
            )));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(unusable(format!(
                "the YooKassa API URL {parsed} must not have a query or a fragment"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            // An API that redirects is misconfigured; following would turn POSTs into GETs.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ledgerbot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| unusable(format!("cannot build the HTTP client: {error}")))?;
        Ok(Self {
            http,
            settings: Arc::new(YooKassaSettings {
                api_url,
                attempts: settings.attempts.max(1),
                ..settings
            }),
        })
    }

    /// The settings in use (`api_url` without a trailing slash, `attempts` at least 1).
    pub fn settings(&self) -> &YooKassaSettings {
        &self.settings
    }

    /// `POST /payments`: creates a payment, or, for a key already used with the same data,
    /// returns the payment that key created.
    pub async fn create_payment(
        &self,
        payment: &NewPayment,
        idempotence_key: &str,
    ) -> Result<PaymentObject, YooKassaError> {
        self.post("/payments", payment, idempotence_key).await
    }

    /// `GET /payments/{id}`.
    pub async fn get_payment(&self, id: &str) -> Result<PaymentObject, YooKassaError> {
        check_id(id)?;
        self.request(Method::GET, &format!("/payments/{id}"), None, None)
            .await
    }

    /// `POST /refunds`: refunds (part of) a succeeded payment, or, for a key already used
    /// with the same data, returns the refund that key created.
    pub async fn create_refund(
        &self,
        refund: &NewRefund,
        idempotence_key: &str,
    ) -> Result<RefundObject, YooKassaError> {
        self.post("/refunds", refund, idempotence_key).await
    }

    /// `GET /refunds/{id}`.
    pub async fn get_refund(&self, id: &str) -> Result<RefundObject, YooKassaError> {
        check_id(id)?;
        self.request(Method::GET, &format!("/refunds/{id}"), None, None)
            .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotence_key: &str,
    ) -> Result<T, YooKassaError> {
        check_idempotence_key(idempotence_key)?;
        let body = serde_json::to_vec(body).map_err(|error| {
            YooKassaError::invalid_request(format!("cannot encode the request: {error}"), "body")
        })?;
        self.request(
            Method::POST,
            path,
            Some(Bytes::from(body)),
            Some(idempotence_key),
        )
        .await
    }

    /// Sends the request, retrying as the module documentation says.
    async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        idempotence_key: Option<&str>,
    ) -> Result<T, YooKassaError> {
        let attempts = self.settings.attempts.max(1);
        let mut attempt = 1;
        loop {
            match self
                .try_once(&method, path, body.clone(), idempotence_key)
                .await
            {
                Ok(object) => return Ok(object),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::Retry { status, reason }) => {
                    if attempt >= attempts {
                        tracing::warn!(
                            method = %method,
                            path,
                            attempt,
                            attempts,
                            status,
                            reason = %reason,
                            "YooKassa request failed; giving up"
                        );
                        return Err(YooKassaError::Unavailable { attempts, reason });
                    }
                    let delay = retry_delay(self.settings.retry_delay, attempt);
                    tracing::warn!(
                        method = %method,
                        path,
                        attempt,
                        attempts,
                        status,
                        reason = %reason,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "YooKassa request failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn try_once<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        body: Option<Bytes>,
        idempotence_key: Option<&str>,
    ) -> Result<T, Failure> {
        let url = format!("{}{path}", self.settings.api_url);
        let mut request = self
            .http
            .request(method.clone(), url)
            .basic_auth(&self.settings.shop_id, Some(&self.settings.secret_key))
            .header(ACCEPT, "application/json");
        if let Some(key) = idempotence_key {
            request = request.header(IDEMPOTENCE_KEY_HEADER, key);
        }
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) if error.is_builder() => {
                return Err(Failure::Final(YooKassaError::Unavailable {
                    attempts: 1,
                    reason: describe(error),
                }));
            }
            Err(error) => {
                return Err(Failure::Retry {
                    status: None,
                    reason: describe(error),
                });
            }
        };
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Err(Failure::Final(YooKassaError::NotFound));
        }
        let body = read_body(response).await;
        if status.is_success() {
            let body = match body {
                Ok(body) => body,
                Err(BodyError::TooLarge) => {
                    return Err(Failure::Final(YooKassaError::Malformed(format!(
                        "the body is larger than {MAX_BODY_BYTES} bytes"
                    ))));
                }
                Err(BodyError::Transport(error)) => {
                    return Err(Failure::Retry {
                        status: Some(status.as_u16()),
                        reason: format!("reading the answer: {}", describe(error)),
                    });
                }
            };
            return serde_json::from_slice(&body).map_err(|error| {
                Failure::Final(YooKassaError::Malformed(format!(
                    "HTTP {}: {error}; the body begins {:?}",
                    status.as_u16(),
                    snippet(&body)
                )))
            });
        }
        let body = body.unwrap_or_default();
        let error = serde_json::from_slice::<ErrorBody>(&body).ok();
        if status.is_server_error() {
            let mut reason = format!("HTTP {}", status.as_u16());
            match error {
                Some(error) => {
                    reason.push_str(&format!(" {}", error.code));
                    if let Some(description) = error.description {
                        reason.push_str(&format!(": {description}"));
                    }
                }
                None if !body.is_empty() => reason.push_str(&format!(": {:?}", snippet(&body))),
                None => {}
            }
            return Err(Failure::Retry {
                status: Some(status.as_u16()),
                reason,
            });
        }
        Err(Failure::Final(rejected(status, error, &body)))
    }
}

/// The `Rejected` for a 4xx (or an unexpected 1xx/3xx) answer.
fn rejected(status: StatusCode, error: Option<ErrorBody>, body: &[u8]) -> YooKassaError {
    match error {
        Some(error) => YooKassaError::Rejected {
            status: status.as_u16(),
            code: error.code,
            description: error.description.unwrap_or_default(),
            parameter: error.parameter,
        },
        None => {
            let code = match status.as_u16() {
                400 => "invalid_request",
                401 => "invalid_credentials",
                403 => "forbidden",
                429 => "too_many_requests",
                _ => "unexpected_status",
            };
            let mut description = format!("HTTP {status} without YooKassa's error body");
            if !body.is_empty() {
                description.push_str(&format!(": {:?}", snippet(body)));
            }
            YooKassaError::Rejected {
                status: status.as_u16(),
                code: code.to_owned(),
                description,
                parameter: None,
            }
        }
    }
}

enum BodyError {
    Transport(reqwest::Error),
    TooLarge,
}

/// The whole body, at most [`MAX_BODY_BYTES`].
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of a body, for messages.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

/// A transport error with its causes, without the URL.
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "transport error"
    };
    let error = error.without_url();
    let mut text = format!("{kind}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The delay before retry number `retry` (1 for the first): `base × 2^(retry−1)`, at
/// most [`MAX_RETRY_DELAY`].
pub fn retry_delay(base: Duration, retry: u32) -> Duration {
    domain::backoff::doubling(i64::from(retry), base, MAX_RETRY_DELAY)
}

/// Refuses an id that could change the path it is put into.
fn check_id(id: &str) -> Result<(), YooKassaError> {
    let safe = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if safe {
        Ok(())
    } else {
        Err(YooKassaError::invalid_request(
            format!(
                "{:?} is not a YooKassa id (letters, digits, '-' and '_', at most {MAX_ID_LEN})",
                id.chars().take(MAX_ID_LEN).collect::<String>()
            ),
            "id",
        ))
    }
}

/// Refuses a key that cannot be sent as a header value.
fn check_idempotence_key(key: &str) -> Result<(), YooKassaError> {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(YooKassaError::invalid_request(
            "the idempotence key must be non-empty printable ASCII without spaces".to_owned(),
            IDEMPOTENCE_KEY_HEADER,
        ))
    }
}

#[cfg(test)]
mod tests {
    //! What needs no server; requests and answers are tested against the tests' one
    //! YooKassa-compatible server (`tests/tests/yookassa_client.rs`).

    use super::*;

    const SECRET: &str = "test_SECRET-do-not-log";

    fn settings(api_url: &str) -> YooKassaSettings {
        YooKassaSettings {
            shop_id: "100500".to_owned(),
            secret_key: SECRET.to_owned(),
            api_url: api_url.to_owned(),
            timeout: Duration::from_secs(5),
            attempts: 3,
            retry_delay: Duration::from_millis(10),
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let settings = settings("https://api.yookassa.ru/v3");
        let text = format!("{settings:?}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains("***") && text.contains("100500"), "{text}");
        let client = YooKassaClient::new(settings).expect("a client");
        let text = format!("{client:?}");
        assert!(!text.contains(SECRET), "{text}");
    }

    #[test]
    fn the_delay_doubles_on_each_retry_up_to_thirty_seconds() {
        let base = Duration::from_millis(500);
        assert_eq!(retry_delay(base, 1), Duration::from_millis(500));
        assert_eq!(retry_delay(base, 2), Duration::from_secs(1));
        assert_eq!(retry_delay(base, 3), Duration::from_secs(2));
        assert_eq!(retry_delay(base, 7), Duration::from_secs(30));
        assert_eq!(retry_delay(base, u32::MAX), Duration::from_secs(30));
        assert_eq!(
            retry_delay(Duration::from_secs(60), 1),
            Duration::from_secs(30)
        );
        assert_eq!(retry_delay(Duration::ZERO, 5), Duration::ZERO);
    }

    #[test]
    fn the_api_url_must_be_a_plain_http_url() {
        let client = YooKassaClient::new(settings("https://api.yookassa.ru/v3/")).expect("ok");
        assert_eq!(client.settings().api_url, "https://api.yookassa.ru/v3");
        let client = YooKassaClient::new(YooKassaSettings {
            attempts: 0,
            ..settings("http://127.0.0.1:8080/sandbox/v3")
        })
        .expect("ok");
        assert_eq!(client.settings().attempts, 1);
        for bad in [
            "",
            "api.yookassa.ru/v3",
            "ftp://api.yookassa.ru/v3",
            "https://shop:secret@api.yookassa.ru/v3",
            "https://api.yookassa.ru/v3?x=1",
        ] {
            let error = YooKassaClient::new(settings(bad)).expect_err(bad);
            assert!(
                matches!(error, YooKassaError::Unavailable { attempts: 0, .. }),
                "{bad}: {error:?}"
            );
            assert!(!error.to_string().contains("shop:secret"), "{error}");
        }
    }

    #[test]
    fn rejections_print_code_description_and_parameter() {
        let error = YooKassaError::Rejected {
            status: 400,
            code: "invalid_request".to_owned(),
            description: "Idempotence key duplicated".to_owned(),
            parameter: Some("Idempotence-Key".to_owned()),
        };
        assert_eq!(
            error.to_string(),
            "YooKassa refused the request (HTTP 400, invalid_request): Idempotence key \
             duplicated [parameter: Idempotence-Key]"
        );
    }
}
