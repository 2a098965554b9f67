//! One WebSocket connection: `GET /api/v1/ws?after=<position>`.
//!
//! The access token comes as `Authorization: Bearer` or, from browsers (which cannot
//! set headers on a WebSocket), as `access_token` in the query. The server sends
//! JSON text messages:
//! - `{"type":"hello","position":N,"resumed_from":M|null}` first: N is the newest
//!   position now; a client without a position of its own starts from there;
//! - `{"type":"update","position":P,"topic":"order|ticket|balance|payment|profile|generation",
//!   "id":"…","event":"OrderPaid","data":{…},"at":"…"}` for each change, in position
//!   order, once the read model the client would re-read shows it;
//! - `{"type":"resync","reason":"…"}` when updates after the client's position were
//!   pruned (or the position is unknown here): re-read lists, then carry on.
//!
//! A client reconnects with the last position it saw and misses nothing. The
//! connection closes with code 4001 when the access token expires.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{debug, warn};

use super::LiveHub;
use super::routes::{Delivery, Subscription};
use crate::auth::authenticate;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use projections::read_models::live_updates::feed::{self, Listener, LiveUpdate};
use projections::read_models::users::Access;

/// Rows read per round when catching a connection up.
const REPLAY_BATCH: i64 = 500;
/// Pings keep idle connections through proxies that drop silent ones.
const PING_EVERY: Duration = Duration::from_secs(30);
/// The close code for an expired access token (application range 4000–4999).
pub const TOKEN_EXPIRED: u16 = 4001;
/// The close code for an account blocked while connected.
pub const BLOCKED: u16 = 4003;
/// The close code for a user over [`MAX_SOCKETS_PER_USER`].
pub const TOO_MANY: u16 = 4008;
/// Open sockets one user may have (phones, tabs, the desktop).
pub const MAX_SOCKETS_PER_USER: usize = 8;
/// A client that does not take a message within this long is gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Clients only ever send pings and closes: small frames.
const MAX_INCOMING: usize = 4 * 1024;
/// What a connection reads into at a time. Clients send small frames only, and
/// tungstenite's default (128 KiB, allocated up front) was most of the 133 KiB a
/// connection cost with 10,000 open.
const READ_BUFFER: usize = 8 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connect {
    /// The last position the client saw; absent for "from now on".
    pub after: Option<i64>,
    /// The access token, for clients that cannot send headers.
    pub access_token: Option<String>,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    update: &'a LiveUpdate,
}

/// `GET /api/v1/ws`: upgrades to a WebSocket of the caller's live updates.
#[utoipa::path(
    get,
    path = "/ws",
    tag = "live",
    operation_id = "live_updates",
    summary = "Upgrade to a WebSocket of the caller's live updates",
    description = "Text messages in JSON: first `{\"type\":\"hello\",\"position\",\"resumed_from\"}`, \
        then `{\"type\":\"update\",\"position\",\"topic\",\"id\",\"event\",\"data\",\"at\"}` \
        for each change once the read models show it, or `{\"type\":\"resync\",\"reason\"}` \
        when the updates after `after` are gone (re-read, then carry on). Reconnect with the \
        last position seen to miss nothing. Browsers, which cannot set headers on a \
        WebSocket, send the access token as `access_token` instead. The connection closes \
        with code 4001 when the access token expires.",
    security(("bearer" = [])),
    params(
        ("after" = Option<i64>, Query, minimum = 0,
            description = "The last position the client saw; left out for \"from now on\""),
        ("access_token" = Option<String>, Query,
            description = "The access token, for clients that cannot send headers"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 422, description = "`after` is invalid", body = crate::http::error::ErrorBody),
        (status = 426, description = "Not a WebSocket upgrade request (`upgrade_required`)", body = crate::http::error::ErrorBody),
    )
)]
pub async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<Connect>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let token = bearer(&headers)
        .or(query.access_token.as_deref())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "unauthorized",
                "sign in first: send Authorization: Bearer <access token> or ?access_token=",
            )
        })?;
    let (caller, expires_at) = authenticate(&state, token.trim()).await?;
    if query.after.is_some_and(|after| after < 0) {
        return Err(ApiError::invalid_field(
            "after",
            "after must be a position seen on this feed (0 or more)",
        ));
    }
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            format!("this is a WebSocket endpoint: {rejection}"),
        )
    })?;
    let listener = Listener::new(caller.user_id, caller.role);
    let hub = state.live.clone();
    Ok(upgrade
        .max_message_size(MAX_INCOMING)
        .max_frame_size(MAX_INCOMING)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |mut socket| async move {
            // Subscribed before the backlog is read (in `serve`), so nothing falls in
            // between.
            let Some(updates) = hub.subscribe(listener.clone(), MAX_SOCKETS_PER_USER) else {
                let _ = socket
                    .send(close(TOO_MANY, "too many open connections for this user"))
                    .await;
                return;
            };
            let session = Session {
                socket,
                hub,
                listener,
                last: 0,
            };
            session.run(updates, query.after, expires_at).await;
        }))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Why a session ended early: the client went away or the database failed.
#[derive(Debug, thiserror::Error)]
enum Ended {
    #[error("the client went away")]
    Gone,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

struct Session {
    socket: WebSocket,
    hub: LiveHub,
    listener: Listener,
    /// The newest position this connection has dealt with.
    last: i64,
}

impl Session {
    async fn run(mut self, updates: Subscription, after: Option<i64>, expires_at: i64) {
        match self.serve(updates, after, expires_at).await {
            Ok(()) | Err(Ended::Gone) => debug!("live updates connection closed"),
            Err(error @ Ended::Database(_)) => {
                warn!(%error, "live updates connection ended on a database error");
                let _ = self
                    .socket
                    .send(close(1011, "the server could not read updates; reconnect"))
                    .await;
            }
        }
    }

    async fn serve(
        &mut self,
        mut updates: Subscription,
        after: Option<i64>,
        expires_at: i64,
    ) -> Result<(), Ended> {
        let head = feed::head(self.hub.pool()).await?;
        self.send_json(&json!({"type": "hello", "position": head.position, "resumed_from": after}))
            .await?;
        self.last = match after {
            None => head.position,
            Some(after) if after < head.pruned_through || after > head.position => {
                let reason = if after > head.position {
                    format!(
                        "position {after} is not on this feed (newest is {})",
                        head.position
                    )
                } else {
                    format!(
                        "updates up to {} were pruned; re-read your lists",
                        head.pruned_through
                    )
                };
                self.send_json(&json!({"type": "resync", "reason": reason}))
                    .await?;
                if after > head.position {
                    head.position
                } else {
                    head.pruned_through
                }
            }
            Some(after) => after,
        };
        self.replay().await?;
        // A prune between reading the head and replaying took rows this client had
        // not seen: say so rather than skip them.
        if let Some(after) = after
            && feed::head(self.hub.pool()).await?.pruned_through > after.max(head.pruned_through)
        {
            self.send_json(&json!({"type": "resync", "reason": "updates were pruned while catching up; re-read your lists"}))
                .await?;
        }

        let seconds_left = (expires_at - chrono::Utc::now().timestamp()).max(0);
        let expiry = tokio::time::sleep(Duration::from_secs(seconds_left.unsigned_abs()));
        tokio::pin!(expiry);
        // Sockets opened together ping at scattered times, not in waves.
        let mut ping = tokio::time::interval_at(
            tokio::time::Instant::now() + PING_EVERY.mul_f64(scatter()),
            PING_EVERY,
        );
        loop {
            tokio::select! {
                received = updates.recv() => match received {
                    Delivery::Update(update) => self.forward(&update).await?,
                    // Too slow to keep up with the hub: read what was missed from the table.
                    Delivery::Lagged => self.replay().await?,
                    // The hub read a block or a new role: it counts at once.
                    Delivery::Access(access) => {
                        if self.take_access(Some(access), &updates).await {
                            return Ok(());
                        }
                    }
                },
                incoming = self.socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Err(Ended::Gone),
                    // Pings are answered by the socket itself; clients have nothing to say.
                    Some(Ok(_)) => {}
                },
                _ = ping.tick() => {
                    self.send(Message::Ping(Default::default())).await?;
                    // Should the hub's word of a change have been lost with a full queue.
                    if self.take_access(self.hub.access(self.listener.user_id), &updates).await {
                        return Ok(());
                    }
                }
                () = &mut expiry => {
                    let _ = self
                        .socket
                        .send(close(TOKEN_EXPIRED, "the access token expired; reconnect with a fresh one and your last position"))
                        .await;
                    return Ok(());
                }
            }
        }
    }

    /// Acts on the user's access as the hub read it: closes the socket of a blocked
    /// account (answers true) and listens in a changed role. Not read or not projected
    /// yet: the token speaks.
    async fn take_access(&mut self, access: Option<Access>, updates: &Subscription) -> bool {
        match access {
            Some(Access::Blocked) => {
                let _ = tokio::time::timeout(
                    SEND_TIMEOUT,
                    self.socket.send(close(BLOCKED, "this account is blocked")),
                )
                .await;
                true
            }
            Some(Access::Allowed(role)) if role != self.listener.role => {
                self.listener = Listener::new(self.listener.user_id, role);
                updates.listen_as(self.listener.clone());
                false
            }
            Some(Access::Allowed(_) | Access::Unknown) | None => false,
        }
    }

    /// Sends everything after `last` this listener hears, straight from the table.
    async fn replay(&mut self) -> Result<(), Ended> {
        loop {
            let batch =
                feed::after(self.hub.pool(), &self.listener, self.last, REPLAY_BATCH).await?;
            self.hub.wait_readable(&batch).await;
            for update in &batch {
                self.send_update(update).await?;
            }
            if i64::try_from(batch.len()).unwrap_or(i64::MAX) < REPLAY_BATCH {
                return Ok(());
            }
        }
    }

    async fn forward(&mut self, update: &Arc<LiveUpdate>) -> Result<(), Ended> {
        if update.position <= self.last {
            return Ok(());
        }
        if self.listener.hears(update) {
            self.send_update(update).await
        } else {
            self.last = update.position;
            Ok(())
        }
    }

    async fn send_update(&mut self, update: &LiveUpdate) -> Result<(), Ended> {
        self.send_json(&Outgoing {
            kind: "update",
            update,
        })
        .await?;
        self.last = update.position;
        Ok(())
    }

    async fn send_json<T: Serialize>(&mut self, message: &T) -> Result<(), Ended> {
        let text = serde_json::to_string(message).map_err(|_| Ended::Gone)?;
        self.send(Message::Text(Utf8Bytes::from(text))).await
    }

    async fn send(&mut self, message: Message) -> Result<(), Ended> {
        match tokio::time::timeout(SEND_TIMEOUT, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(Ended::Gone),
        }
    }
}

/// A fraction in [0, 1), different for each call.
fn scatter() -> f64 {
    use std::hash::BuildHasher;
    let random =
        std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    (random % 1_000_000) as f64 / 1_000_000.0
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}
