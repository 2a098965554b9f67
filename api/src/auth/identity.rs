//! One Telegram account, one user: the first sign-in registers the user (and links
//! their referrer when they came by a referral link); every later one finds them.

use chrono::{DateTime, Utc};
use domain::command::{CommandContext, Commands};
use domain::permissions::Role;
use domain::user::{Profile, UserCommand};
use sqlx::PgPool;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::telegram::init_data::TelegramUser;

/// The user signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub role: Role,
    /// The events the sign-in stored for this user (0 when nothing was new): what a
    /// read of the user must wait for.
    pub user_version: usize,
    pub registered_now: bool,
}

/// Finds or registers the user of `telegram`. `start_param` may carry a referral
/// code (`ref_<code>` or the bare code), used only at registration.
pub async fn sign_in(
    pool: &PgPool,
    commands: &Commands,
    telegram: &TelegramUser,
    start_param: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SignedIn, ApiError> {
    let candidate = Uuid::now_v7();
    // Two statements: a concurrent first sign-in's row becomes visible only to a
    // statement started after it committed (which the insert waited for).
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO telegram_identities (telegram_id, user_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (telegram_id) DO NOTHING RETURNING user_id",
    )
    .bind(telegram.id)
    .bind(candidate)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let user_id: Uuid = match inserted {
        Some(user_id) => user_id,
        None => {
            sqlx::query_scalar("SELECT user_id FROM telegram_identities WHERE telegram_id = $1")
                .bind(telegram.id)
                .fetch_one(pool)
                .await?
        }
    };
    let id = user_id.to_string();
    let (user, version) = commands.users.load(&id).await?;
    let who = CommandContext::system("telegram-sign-in");
    if user.profile().is_some() {
        if user.is_blocked() {
            return Err(ApiError::forbidden(
                "this account is blocked; write to support",
            ));
        }
        return Ok(SignedIn {
            user_id,
            role: user.role(),
            user_version: version,
            registered_now: false,
        });
    }
    let invited_with = start_param
        .map(|param| param.strip_prefix("ref_").unwrap_or(param).to_owned())
        .filter(|code| !code.is_empty());
    let registered = commands
        .users
        .execute(
            &id,
            UserCommand::Register {
                user_id,
                telegram_id: telegram.id,
                profile: Profile {
                    first_name: telegram.first_name.clone(),
                    last_name: telegram.last_name.clone(),
                    username: telegram.username.clone(),
                    language: telegram.language_code.clone(),
                    photo_url: telegram.photo_url.clone(),
                },
                invited_with: invited_with.clone(),
            },
            &who,
        )
        .await?;
    let mut user_version = registered.sequence.max(version);
    if let Some(code) = invited_with {
        let referrer: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM rm_users WHERE referral_code = $1")
                .bind(&code)
                .fetch_optional(pool)
                .await?;
        match referrer.as_deref().map(Uuid::parse_str) {
            Some(Ok(referrer_id)) if referrer_id != user_id => {
                let linked = commands
                    .users
                    .execute(&id, UserCommand::LinkReferrer { referrer_id }, &who)
                    .await?;
                user_version = linked.sequence;
            }
            _ => tracing::info!(
                code,
                "a referral code matched nobody; registered without a referrer"
            ),
        }
    }
    Ok(SignedIn {
        user_id,
        role: Role::Client,
        user_version,
        registered_now: true,
    })
}
