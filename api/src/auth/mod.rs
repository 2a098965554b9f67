//! Who is calling: Telegram sign-in (Mini App initData), access and refresh tokens,
//! and the extractor handlers use to require a signed-in user.

pub mod login_codes;
pub mod routes;
pub mod tokens;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use domain::permissions::{Caller, Role};
use domain::use_cases::identity::{Standing, blocked};
use projections::read_models::users::Access;
use uuid::Uuid;

use crate::config::AuthSettings;
use crate::http::AppState;
use crate::http::error::ApiError;
use tokens::TokenKeys;

/// What sign-in needs, made once at start.
#[derive(Clone)]
pub struct AuthState {
    pub keys: TokenKeys,
    pub bot_token: Option<Arc<str>>,
    pub init_data_max_age: chrono::Duration,
}

impl AuthState {
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, ApiError> {
        let secret = match &settings.jwt_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                tracing::warn!(
                    "LEDGERBOT_JWT_SECRET is not set: access tokens are signed with a random key and die with this process"
                );
                TokenKeys::random_secret()?
            }
        };
        Ok(Self {
            keys: TokenKeys::new(
                &secret,
                settings.access_token_ttl,
                settings.refresh_token_ttl,
            ),
            bot_token: settings.bot_token.as_deref().map(Arc::from),
            init_data_max_age: chrono::Duration::from_std(settings.init_data_max_age)
                .unwrap_or(chrono::Duration::hours(1)),
        })
    }
}

/// A signed-in caller, from `Authorization: Bearer <access token>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub user_id: Uuid,
    pub role: Role,
    pub telegram_id: i64,
}

impl AuthUser {
    /// The caller as use cases and queries know them.
    pub fn caller(&self) -> Caller {
        Caller::new(self.user_id, self.role)
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "unauthorized",
                    "sign in first: send Authorization: Bearer <access token>",
                )
            })?;
        let token = header.strip_prefix("Bearer ").ok_or_else(|| {
            ApiError::unauthorized(
                "unauthorized",
                "the Authorization header must be Bearer <access token>",
            )
        })?;
        Ok(authenticate(state, token.trim()).await?.0)
    }
}

/// The caller behind an access token, and when the token expires. The role and
/// the block come from the users read model: the token's role may be minutes old,
/// and a demotion or a block counts at once. The token's role is never trusted:
/// for a user the read model does not have (being rebuilt, say) they come from the
/// store, and a user unknown there too is refused.
pub async fn authenticate(state: &AppState, token: &str) -> Result<(AuthUser, i64), ApiError> {
    let claims = state.auth.keys.check_access(token)?;
    let role = match state.reads.access(claims.sub).await? {
        Access::Blocked => return Err(blocked().into()),
        Access::Allowed(role) => role,
        Access::Unknown => match state.core.standing_of(claims.sub).await? {
            Standing::Active { caller, .. } => caller.role,
            Standing::Blocked => return Err(blocked().into()),
            Standing::Unknown => {
                return Err(ApiError::unauthorized(
                    "invalid_token",
                    "the access token is not valid",
                ));
            }
        },
    };
    Ok((
        AuthUser {
            user_id: claims.sub,
            role,
            telegram_id: claims.tg,
        },
        claims.exp,
    ))
}
