//! Desktop sign-in for staff (the salon CRM on a computer without the Mini App): the
//! desktop asks for a code ([`Core::issue_login_code`]) and shows it as a
//! `t.me/<bot>?start=login_<code>` link and a QR code; the staff member opens it and
//! confirms in the bot ([`Core::confirm_login_code`]); the desktop collects the
//! session once with a secret only it got ([`Core::collect_login_code`]). Someone who
//! saw the QR code over a shoulder cannot collect: they lack the secret.
//!
//! Codes live five minutes and work once; codes and secrets are stored as SHA-256
//! digests. Who may sign in is decided from the User aggregate on both halves.

use chrono::{DateTime, Duration, Utc};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;

use super::Core;
use super::identity::Standing;
use crate::command::{CommandError, ErrorKind};
use crate::permissions::{Caller, Role};

/// How long a code may be confirmed and collected.
pub const LOGIN_CODE_LIFETIME: Duration = Duration::minutes(5);
/// The `start` parameter prefix of a login link.
pub const START_PREFIX: &str = "login_";

/// A new code, for the desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedLoginCode {
    pub code: String,
    /// Sent back when collecting; shown nowhere.
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

/// Why a login code cannot be used; each is a sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginCodeError {
    #[error("this login link is unknown; open the newest one from your computer")]
    Unknown,
    #[error("this login link expired; ask your computer for a new one")]
    Expired,
    #[error("this login code was used; ask for a new one")]
    Used,
    #[error("this login link was already confirmed")]
    AlreadyConfirmed,
    #[error("open the Mini App once first, so we know you")]
    NotRegistered,
    #[error("desktop sign-in is for staff; use the Mini App")]
    NotStaff,
    #[error("this account is blocked; write to support")]
    Blocked,
    #[error("something went wrong on our side; try again")]
    Unavailable(String),
}

impl From<CommandError> for LoginCodeError {
    fn from(error: CommandError) -> Self {
        LoginCodeError::Unavailable(error.message)
    }
}

impl Core {
    /// The staff member `user_id` acting now, or why they may not sign in.
    async fn staff(&self, user_id: Uuid) -> Result<(Caller, usize), LoginCodeError> {
        match self.standing_of(user_id).await? {
            Standing::Active { caller, version } if caller.role.is_staff() => Ok((caller, version)),
            Standing::Active { .. } => Err(LoginCodeError::NotStaff),
            Standing::Blocked => Err(LoginCodeError::Blocked),
            Standing::Unknown => Err(LoginCodeError::NotRegistered),
        }
    }
}

impl From<sqlx::Error> for LoginCodeError {
    fn from(error: sqlx::Error) -> Self {
        LoginCodeError::Unavailable(error.to_string())
    }
}

/// What the bot shows once a code is confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedLoginCode {
    pub user_id: Uuid,
    /// The desktop's address and browser, as it asked for the code.
    pub requested_from: String,
}

/// The staff member a confirmed code signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffSignIn {
    pub user_id: Uuid,
    pub role: Role,
    pub telegram_id: i64,
    /// The user's sequence: what a read of the user must wait for.
    pub user_version: usize,
}

/// Where a code stands for the desktop collecting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected<T> {
    /// Not confirmed yet: ask again in a moment.
    Pending { expires_at: DateTime<Utc> },
    /// Confirmed by this staff member, with what the entry point prepared for them;
    /// the code is spent now.
    SignedIn { staff: StaffSignIn, prepared: T },
}

/// Why a code was not collected: refused, or the entry point could not prepare its
/// answer (the code is then left collectable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectError<E> {
    Refused(LoginCodeError),
    Preparing(E),
}

impl<E> From<LoginCodeError> for CollectError<E> {
    fn from(error: LoginCodeError) -> Self {
        CollectError::Refused(error)
    }
}

impl<E> From<CommandError> for CollectError<E> {
    fn from(error: CommandError) -> Self {
        CollectError::Refused(error.into())
    }
}

impl<E> From<sqlx::Error> for CollectError<E> {
    fn from(error: sqlx::Error) -> Self {
        CollectError::Refused(error.into())
    }
}

/// (secret_hash, expires_at, confirmed_by, consumed_at)
type CodeRow = (Vec<u8>, DateTime<Utc>, Option<Uuid>, Option<DateTime<Utc>>);

impl Core {
    /// A new code for a desktop at `requested_from` (its address and browser, shown
    /// to the staff member who confirms).
    pub async fn issue_login_code(
        &self,
        requested_from: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedLoginCode, CommandError> {
        let code = random_hex::<16>()?;
        let secret = random_hex::<32>()?;
        let expires_at = now + LOGIN_CODE_LIFETIME;
        sqlx::query(
            "INSERT INTO auth_login_codes (code_hash, secret_hash, requested_from, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(digest_of(&code))
        .bind(digest_of(&secret))
        .bind(requested_from.chars().take(200).collect::<String>())
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(IssuedLoginCode {
            code,
            secret,
            expires_at,
        })
    }

    /// The bot's half: Telegram user `telegram_id` confirms `code` (the `start`
    /// parameter without its `login_` prefix). Only registered, unblocked staff may.
    pub async fn confirm_login_code(
        &self,
        code: &str,
        telegram_id: i64,
        now: DateTime<Utc>,
    ) -> Result<ConfirmedLoginCode, LoginCodeError> {
        let user_id = self
            .user_of_telegram(telegram_id)
            .await?
            .ok_or(LoginCodeError::NotRegistered)?;
        self.staff(user_id).await?;
        let confirmed: Option<String> = sqlx::query_scalar(
            "UPDATE auth_login_codes SET confirmed_by = $2, confirmed_at = $3 \
             WHERE code_hash = $1 AND confirmed_by IS NULL AND expires_at > $3 \
             RETURNING requested_from",
        )
        .bind(digest_of(code))
        .bind(user_id)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        if let Some(requested_from) = confirmed {
            return Ok(ConfirmedLoginCode {
                user_id,
                requested_from,
            });
        }
        let state: Option<(DateTime<Utc>, Option<Uuid>)> = sqlx::query_as(
            "SELECT expires_at, confirmed_by FROM auth_login_codes WHERE code_hash = $1",
        )
        .bind(digest_of(code))
        .fetch_optional(self.pool())
        .await?;
        Err(match state {
            None => LoginCodeError::Unknown,
            Some((_, Some(_))) => LoginCodeError::AlreadyConfirmed,
            Some(_) => LoginCodeError::Expired,
        })
    }

    /// Who asked for `code` (the desktop's address and browser), so the staff member
    /// sees it before confirming; refused like a confirmation would be.
    pub async fn login_code_request(
        &self,
        code: &str,
        telegram_id: i64,
        now: DateTime<Utc>,
    ) -> Result<String, LoginCodeError> {
        let user_id = self
            .user_of_telegram(telegram_id)
            .await?
            .ok_or(LoginCodeError::NotRegistered)?;
        self.staff(user_id).await?;
        let state: Option<(String, DateTime<Utc>, Option<Uuid>)> = sqlx::query_as(
            "SELECT requested_from, expires_at, confirmed_by FROM auth_login_codes WHERE code_hash = $1",
        )
        .bind(digest_of(code))
        .fetch_optional(self.pool())
        .await?;
        match state {
            None => Err(LoginCodeError::Unknown),
            Some((_, _, Some(_))) => Err(LoginCodeError::AlreadyConfirmed),
            Some((_, expires_at, None)) if expires_at <= now => Err(LoginCodeError::Expired),
            Some((requested_from, _, None)) => Ok(requested_from),
        }
    }

    /// The staff member says the request was not theirs: `code` can no longer be
    /// confirmed (it expires now). `true` when it was still open.
    pub async fn decline_login_code(
        &self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, LoginCodeError> {
        let declined = sqlx::query(
            "UPDATE auth_login_codes SET expires_at = $2 \
             WHERE code_hash = $1 AND confirmed_by IS NULL AND expires_at > $2",
        )
        .bind(digest_of(code))
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(declined.rows_affected() == 1)
    }

    /// The desktop's half: `code` with the `secret` it came with. A wrong secret is
    /// an unknown code. Everything that can refuse comes before the code is spent,
    /// including `prepare` (the entry point's answer for the staff member, such as
    /// their profile), so a refusal or an outage leaves it collectable; exactly one
    /// collector wins.
    pub async fn collect_login_code<T, E, F, Fut>(
        &self,
        code: &str,
        secret: &str,
        now: DateTime<Utc>,
        prepare: F,
    ) -> Result<Collected<T>, CollectError<E>>
    where
        F: FnOnce(StaffSignIn) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let row: Option<CodeRow> = sqlx::query_as(
            "SELECT secret_hash, expires_at, confirmed_by, consumed_at FROM auth_login_codes WHERE code_hash = $1",
        )
        .bind(digest_of(code))
        .fetch_optional(self.pool())
        .await?;
        let (secret_hash, expires_at, confirmed_by, consumed_at) =
            row.ok_or(CollectError::Refused(LoginCodeError::Unknown))?;
        if digest_of(secret) != secret_hash {
            return Err(LoginCodeError::Unknown.into());
        }
        if consumed_at.is_some() {
            return Err(LoginCodeError::Used.into());
        }
        if expires_at <= now {
            return Err(LoginCodeError::Expired.into());
        }
        let Some(user_id) = confirmed_by else {
            return Ok(Collected::Pending { expires_at });
        };
        let (caller, user_version) = self.staff(user_id).await?;
        let telegram_id = self
            .telegram_of_user(user_id)
            .await?
            .ok_or(LoginCodeError::Unknown)?;
        let staff = StaffSignIn {
            user_id,
            role: caller.role,
            telegram_id,
            user_version,
        };
        let prepared = prepare(staff).await.map_err(CollectError::Preparing)?;
        let taken: Option<Uuid> = sqlx::query_scalar(
            "UPDATE auth_login_codes SET consumed_at = $2 \
             WHERE code_hash = $1 AND consumed_at IS NULL AND confirmed_by = $3 AND expires_at > $2 \
             RETURNING confirmed_by",
        )
        .bind(digest_of(code))
        .bind(now)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        if taken.is_none() {
            return Err(LoginCodeError::Used.into());
        }
        Ok(Collected::SignedIn { staff, prepared })
    }

    /// Deletes codes that expired over a day ago; returns how many went.
    pub async fn prune_login_codes(&self, now: DateTime<Utc>) -> Result<u64, CommandError> {
        Ok(
            sqlx::query("DELETE FROM auth_login_codes WHERE expires_at < $1")
                .bind(now - Duration::days(1))
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}

/// `N` random bytes from the system's source, as hex.
pub fn random_hex<const N: usize>() -> Result<String, CommandError> {
    let mut raw = [0u8; N];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| CommandError::new(ErrorKind::Internal, "the system random source failed"))?;
    Ok(raw.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The SHA-256 digest a code, secret or token is stored as.
pub fn digest_of(text: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, text.as_bytes())
        .as_ref()
        .to_vec()
}
