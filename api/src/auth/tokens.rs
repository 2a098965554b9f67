//! Access tokens (short-lived JWTs, HS256) and refresh tokens (random, stored as
//! digests, replaced at each use; a reused one revokes its whole family).

use chrono::{DateTime, Utc};
use domain::permissions::Role;
use domain::use_cases::login_codes::{digest_of, random_hex};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::http::error::ApiError;

const ISSUER: &str = "ledgerbot";

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    pub role: Role,
    /// The Telegram user id.
    pub tg: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    access_ttl: chrono::Duration,
    refresh_ttl: chrono::Duration,
}

impl TokenKeys {
    pub fn new(
        secret: &[u8],
        access_ttl: std::time::Duration,
        refresh_ttl: std::time::Duration,
    ) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl: chrono::Duration::from_std(access_ttl)
                .unwrap_or(chrono::Duration::minutes(15)),
            refresh_ttl: chrono::Duration::from_std(refresh_ttl)
                .unwrap_or(chrono::Duration::days(30)),
        }
    }

    /// A random secret, for a process started without one.
    pub fn random_secret() -> Result<Vec<u8>, ApiError> {
        let mut secret = vec![0u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| ApiError::internal("the system random source failed"))?;
        Ok(secret)
    }

    pub fn access_ttl(&self) -> chrono::Duration {
        self.access_ttl
    }

    pub fn issue_access(
        &self,
        user: Uuid,
        role: Role,
        telegram_id: i64,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let claims = Claims {
            sub: user,
            role,
            tg: telegram_id,
            iat: now.timestamp(),
            exp: (now + self.access_ttl).timestamp(),
            iss: ISSUER.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// The claims of a valid, unexpired token of ours; HS256 only (no `none`, no
    /// algorithm switching).
    pub fn check_access(&self, token: &str) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => ApiError::unauthorized(
                    "token_expired",
                    "the access token has expired; refresh it",
                ),
                _ => ApiError::unauthorized("invalid_token", "the access token is not valid"),
            })
    }

    /// A new refresh token for `user` in `family` (a new family at sign-in).
    pub async fn issue_refresh(
        &self,
        pool: &PgPool,
        user: Uuid,
        family: Uuid,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let mut connection = pool.acquire().await?;
        self.insert_refresh(&mut connection, user, family, None, now)
            .await
    }

    async fn insert_refresh(
        &self,
        connection: &mut sqlx::PgConnection,
        user: Uuid,
        family: Uuid,
        parent: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let token = random_hex::<32>()?;
        sqlx::query(
            "INSERT INTO auth_refresh_tokens (token_hash, family, user_id, issued_at, expires_at, parent_hash) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(digest_of(&token))
        .bind(family)
        .bind(user)
        .bind(now)
        .bind(now + self.refresh_ttl)
        .bind(parent.map(digest_of))
        .execute(connection)
        .await?;
        Ok(token)
    }

    /// Uses up `token` and issues its successor in the same transaction, so a
    /// revocation of the family (sign-out, or reuse detected) can never miss the
    /// successor. Returns the user and the new token.
    ///
    /// A token used a second time revokes its family (someone holds a copy), except
    /// as a retry: within [`REFRESH_RETRY_GRACE`] of its use, while none of its
    /// successors has been used, it gets one more successor (the answer carrying the
    /// first was lost on the way). The successors it already gave stay valid: the
    /// retry may be a copy's, and must not sign out the client that got the first
    /// one. Successors of one token are siblings, and only one of them may be used:
    /// the use of a second one revokes the family too.
    pub async fn rotate_refresh(
        &self,
        pool: &PgPool,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(Uuid, String), ApiError> {
        let invalid = || {
            ApiError::unauthorized(
                "invalid_refresh_token",
                "the refresh token is not valid; sign in again",
            )
        };
        let digest = digest_of(token);
        let mut transaction = pool.begin().await?;
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT user_id, family, expires_at, used_at, parent_hash, \
                    (SELECT max(revoked_at) FROM auth_refresh_tokens f WHERE f.family = t.family) \
             FROM auth_refresh_tokens t WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(&digest)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some((user, family, expires_at, used_at, parent, revoked_at)) = row else {
            return Err(invalid());
        };
        let copied = match used_at {
            // Later, or once a successor was used, a second use is a copy's.
            Some(used) => {
                now - used > REFRESH_RETRY_GRACE
                    || used_child(&mut transaction, &digest, None).await?
            }
            // Siblings take turns on their parent's row: of two used at once, the
            // second sees the first.
            None => match &parent {
                Some(parent) => {
                    sqlx::query(
                        "SELECT 1 FROM auth_refresh_tokens WHERE token_hash = $1 FOR UPDATE",
                    )
                    .bind(parent)
                    .fetch_optional(&mut *transaction)
                    .await?;
                    used_child(&mut transaction, parent, Some(&digest)).await?
                }
                None => false,
            },
        };
        if copied {
            sqlx::query(
                "UPDATE auth_refresh_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE family = $1",
            )
            .bind(family)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
            transaction.commit().await?;
            tracing::warn!(%user, %family, "a refresh token was used twice; its family is revoked");
            return Err(invalid());
        }
        if revoked_at.is_some() || expires_at <= now {
            return Err(invalid());
        }
        sqlx::query(
            "UPDATE auth_refresh_tokens SET used_at = COALESCE(used_at, $2) WHERE token_hash = $1",
        )
        .bind(&digest)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let successor = self
            .insert_refresh(&mut transaction, user, family, Some(token), now)
            .await?;
        transaction.commit().await?;
        Ok((user, successor))
    }
}

/// Whether a successor of `parent` (other than `except`) has been used.
async fn used_child(
    connection: &mut sqlx::PgConnection,
    parent: &[u8],
    except: Option<&[u8]>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM auth_refresh_tokens \
         WHERE parent_hash = $1 AND used_at IS NOT NULL AND token_hash IS DISTINCT FROM $2)",
    )
    .bind(parent)
    .bind(except)
    .fetch_one(connection)
    .await
}

/// How long after its use a refresh token may be used again as a retry.
pub const REFRESH_RETRY_GRACE: chrono::Duration = chrono::Duration::seconds(10);

/// user, family, expires_at, used_at, parent_hash, revoked_at (of the family)
type RefreshRow = (
    Uuid,
    Uuid,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<Vec<u8>>,
    Option<DateTime<Utc>>,
);

/// Revokes the family of `token` (sign-out); unknown tokens are ignored.
pub async fn revoke_family(pool: &PgPool, token: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE auth_refresh_tokens SET revoked_at = COALESCE(revoked_at, $2) \
         WHERE family = (SELECT family FROM auth_refresh_tokens WHERE token_hash = $1)",
    )
    .bind(digest_of(token))
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes refresh tokens that expired over a week ago (kept that long so a late
/// reuse is still recognised as one); returns how many went.
pub async fn prune_expired(pool: &PgPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM auth_refresh_tokens WHERE expires_at < $1")
        .bind(now - chrono::Duration::days(7))
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected())
}
