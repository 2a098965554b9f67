//! What keeps one caller from crowding out the rest: per-user and per-IP request
//! rates (token buckets, 429 with `Retry-After`), and a time limit per request (503
//! with the error shape). Buckets live in this process's memory: with several API
//! machines each enforces its own share.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;

/// Requests per minute, and whether `X-Forwarded-For` names the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    pub per_user_per_minute: u32,
    pub per_ip_per_minute: u32,
    pub request_timeout: Duration,
    /// The time limit of an upload (`POST /files`), which streams a body of up to
    /// the purpose's size from a phone.
    pub upload_timeout: Duration,
    /// Only behind a proxy that sets it: otherwise anyone could pick their address.
    pub trust_forwarded_for: bool,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            per_user_per_minute: 600,
            per_ip_per_minute: 1_200,
            request_timeout: Duration::from_secs(15),
            upload_timeout: Duration::from_secs(600),
            trust_forwarded_for: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Ip(IpAddr),
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// Token buckets by caller.
#[derive(Clone)]
pub struct RateLimiter {
    settings: LimitSettings,
    buckets: Arc<Mutex<HashMap<Key, Bucket>>>,
}

/// Buckets kept before full ones are dropped.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    pub fn new(settings: LimitSettings) -> Self {
        Self {
            settings,
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn settings(&self) -> LimitSettings {
        self.settings
    }

    /// Takes a token for `key`, or says how long until one is there.
    fn take(&self, key: Key, per_minute: u32) -> Result<(), Duration> {
        let capacity = f64::from(per_minute.max(1));
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, bucket| {
                bucket.tokens + now.duration_since(bucket.refilled).as_secs_f64() * per_second
                    < capacity
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            refilled: now,
        });
        bucket.tokens = (bucket.tokens
            + now.duration_since(bucket.refilled).as_secs_f64() * per_second)
            .min(capacity);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

/// The caller's address as the limits saw it (the peer, or the rightmost
/// X-Forwarded-For entry when a trusted proxy passes it on), for handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The rate limits and the time limit, for `/api/v1`.
pub async fn enforce(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let limiter = &state.limiter;
    let settings = limiter.settings();
    let ip = client_ip(&request, peer, settings.trust_forwarded_for);
    request.extensions_mut().insert(ClientIp(ip));
    let verdict = limiter
        .take(Key::Ip(ip), settings.per_ip_per_minute)
        .and_then(|()| match bearer_subject(&state, &request) {
            Some(user) => limiter.take(Key::User(user), settings.per_user_per_minute),
            None => Ok(()),
        });
    if let Err(wait) = verdict {
        return too_many(wait);
    }
    let limit = if is_upload(&request) {
        settings.upload_timeout
    } else {
        settings.request_timeout
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; try again",
        )
        .into_response(),
    }
}

/// `POST /api/v1/files` (this layer wraps the `/api/v1` nest, so it sees the
/// whole path).
fn is_upload(request: &Request) -> bool {
    request.method() == axum::http::Method::POST
        && request.uri().path().trim_end_matches('/') == "/api/v1/files"
}

fn client_ip(request: &Request, peer: SocketAddr, trust_forwarded_for: bool) -> IpAddr {
    // The trusted proxy appends the address it saw on the right; anything to the left
    // came from the client and may be made up.
    // Only the last entry counts: if it is not an address (a port, "unknown"), the
    // peer does, never an entry further left.
    if trust_forwarded_for
        && let Some(nearest) = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .next_back()
        && let Ok(address) = nearest.trim().parse()
    {
        return address;
    }
    peer.ip()
}

/// The user of a valid bearer token, if there is one (invalid ones are refused by
/// the handler; here they only count against the IP).
fn bearer_subject(state: &AppState, request: &Request) -> Option<String> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    state
        .auth
        .keys
        .check_access(token.trim())
        .ok()
        .map(|claims| claims.sub.to_string())
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests; try again in {seconds} s"),
    )
    .with_details(json!({ "retry_after_seconds": seconds }))
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
