//! Who someone is: one Telegram account, one user. The first sign-in (the Mini App's
//! initData, the bot's `/start`, a desktop login code) registers the user, with the
//! referrer of the link they came by, and gives them an owner grant waiting for their
//! Telegram account; every later one finds them.
//!
//! `telegram_identities` maps a Telegram id to its user. It is written before the user
//! is registered, so two first sign-ins at once agree on one user id.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::Core;
use crate::command::{CommandContext, CommandError};
use crate::permissions::{Caller, Role};
use crate::user::{Profile, UserCommand};

/// What Telegram says about a person (from initData, a Login Widget or an update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramProfile {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub photo_url: Option<String>,
}

/// The user signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub role: Role,
    pub telegram_id: i64,
    /// The user's sequence after the sign-in: what a read of the user must wait for.
    pub user_version: usize,
    pub registered_now: bool,
}

impl SignedIn {
    pub fn caller(&self) -> Caller {
        Caller::new(self.user_id, self.role)
    }
}

/// Where a user stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Registered, not blocked: acting in this role; `version` is the user's sequence.
    Active {
        caller: Caller,
        version: usize,
    },
    Blocked,
    /// Never registered.
    Unknown,
}

/// The refusal of a blocked account, the same wherever it signs in.
pub fn blocked() -> CommandError {
    CommandError::forbidden("this account is blocked; write to support")
}

/// Codes drawn before a registration gives up (a second collision of 64 random bits
/// is not expected in the life of the universe).
const REFERRAL_CODE_DRAWS: usize = 4;

impl Core {
    /// Registers a user with the referral code derived from their id, or, when the
    /// store says another user drew it, with a longer random one.
    async fn register(
        &self,
        user_id: Uuid,
        telegram_id: i64,
        profile: Profile,
        invited_with: Option<String>,
        who: &CommandContext,
    ) -> Result<crate::command::Committed<crate::user::UserEvent>, CommandError> {
        let id = user_id.to_string();
        let mut referral_code = None;
        for _ in 0..REFERRAL_CODE_DRAWS {
            let outcome = self
                .commands
                .users
                .execute(
                    &id,
                    UserCommand::Register {
                        user_id,
                        telegram_id,
                        profile: profile.clone(),
                        invited_with: invited_with.clone(),
                        referral_code: referral_code.clone(),
                    },
                    who,
                )
                .await;
            match outcome {
                Err(error) if error.code == Some("referral_code_taken") => {
                    tracing::warn!(%user_id, "a referral code was taken; drawing a longer one");
                    referral_code = Some(super::login_codes::random_hex::<8>()?);
                }
                other => return other,
            }
        }
        Err(CommandError::unavailable(
            "no free referral code was found; try again",
        ))
    }

    /// Finds or registers the user of `telegram`. `start_param` may carry a referral
    /// code (`ref_<code>` or the bare code), used only at registration. A blocked
    /// account is refused.
    pub async fn sign_in(
        &self,
        telegram: &TelegramProfile,
        start_param: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, CommandError> {
        let user_id = identity_for(self.pool(), telegram.id, now).await?;
        let id = user_id.to_string();
        let (user, version) = self.commands.users.load(&id).await?;
        let who = CommandContext::system("telegram-sign-in");
        let (mut version, registered_now) = if user.profile().is_some() {
            if user.is_blocked() {
                return Err(blocked());
            }
            (version, false)
        } else {
            let invited_with = start_param
                .map(|param| param.strip_prefix("ref_").unwrap_or(param).to_owned())
                .filter(|code| !code.is_empty());
            let profile = Profile {
                first_name: telegram.first_name.clone(),
                last_name: telegram.last_name.clone(),
                username: telegram.username.clone(),
                language: telegram.language_code.clone(),
                photo_url: telegram.photo_url.clone(),
            };
            let registered = self
                .register(user_id, telegram.id, profile, invited_with.clone(), &who)
                .await?;
            let mut version = registered.sequence.max(version);
            if let Some(code) = invited_with {
                version = self.link_referrer(user_id, &code, &who).await?.max(version);
            }
            (version, true)
        };
        let mut role = if registered_now {
            Role::Client
        } else {
            user.role()
        };
        if role != Role::Owner
            && let Some(after) = self.apply_owner_grant(telegram.id, user_id).await?
        {
            role = Role::Owner;
            version = version.max(after);
        }
        Ok(SignedIn {
            user_id,
            role,
            telegram_id: telegram.id,
            user_version: version,
            registered_now,
        })
    }

    /// The referrer whose code `code` is, linked to `user_id`; a code that matches
    /// nobody (or the user themself) registers without one. Returns the user's
    /// sequence after.
    async fn link_referrer(
        &self,
        user_id: Uuid,
        code: &str,
        who: &CommandContext,
    ) -> Result<usize, CommandError> {
        let referrer: Option<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM user_directory WHERE referral_code = $1 ORDER BY user_id LIMIT 1",
        )
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        match referrer {
            Some(referrer_id) if referrer_id != user_id => Ok(self
                .commands
                .users
                .execute(
                    &user_id.to_string(),
                    UserCommand::LinkReferrer { referrer_id },
                    who,
                )
                .await?
                .sequence),
            _ => {
                tracing::info!(
                    code,
                    "a referral code matched nobody; registered without a referrer"
                );
                Ok(0)
            }
        }
    }

    /// The Telegram account wrote to the bot at `now` (for "active in the last N
    /// days"); written at most every ten minutes per account.
    pub async fn seen_on_telegram(
        &self,
        telegram_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), CommandError> {
        sqlx::query(
            "UPDATE telegram_identities SET last_seen_at = $2 \
             WHERE telegram_id = $1 AND last_seen_at < $2 - interval '10 minutes'",
        )
        .bind(telegram_id)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The user of a Telegram account, if it ever signed in.
    pub async fn user_of_telegram(&self, telegram_id: i64) -> Result<Option<Uuid>, CommandError> {
        Ok(
            sqlx::query_scalar("SELECT user_id FROM telegram_identities WHERE telegram_id = $1")
                .bind(telegram_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// The Telegram account of a user.
    pub async fn telegram_of_user(&self, user_id: Uuid) -> Result<Option<i64>, CommandError> {
        Ok(
            sqlx::query_scalar("SELECT telegram_id FROM telegram_identities WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Where a user stands now, from the store: what the bot asks before acting for a
    /// Telegram user, and what refreshing a session or collecting a login code asks.
    pub async fn standing_of(&self, user_id: Uuid) -> Result<Standing, CommandError> {
        let (user, version) = self.commands.users.load(&user_id.to_string()).await?;
        Ok(if user.profile().is_none() {
            Standing::Unknown
        } else if user.is_blocked() {
            Standing::Blocked
        } else {
            Standing::Active {
                caller: Caller::new(user_id, user.role()),
                version,
            }
        })
    }
}

/// The user id of Telegram account `telegram_id`, made up on its first sight.
pub(crate) async fn identity_for(
    pool: &PgPool,
    telegram_id: i64,
    now: DateTime<Utc>,
) -> Result<Uuid, CommandError> {
    let candidate = Uuid::now_v7();
    // On a conflict the row that won (a concurrent first sign-in's too: the insert
    // waits for it) is updated and returned, so its user id is the one answered.
    Ok(sqlx::query_scalar(
        "INSERT INTO telegram_identities (telegram_id, user_id, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $3) \
         ON CONFLICT (telegram_id) DO UPDATE \
         SET last_seen_at = GREATEST(telegram_identities.last_seen_at, EXCLUDED.last_seen_at) \
         RETURNING user_id",
    )
    .bind(telegram_id)
    .bind(candidate)
    .bind(now)
    .fetch_one(pool)
    .await?)
}
