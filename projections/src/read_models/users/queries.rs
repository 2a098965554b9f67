//! Reading users: one's own profile, what staff see (search, one user, their history),
//! the referral link and what it brought, and the role and block every request is
//! checked with.

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use domain::permissions::{Action, Caller, Role};
use domain::use_cases::Written;
use serde::Serialize;
use uuid::Uuid;

use super::super::payments::PaymentView;
use crate::ProjectionName;
use crate::read_models::ReadModels;
use crate::read_models::paging::{Page, contains_pattern};

/// A signed-in user as they see themselves.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user_id: String,
    pub telegram_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language: Option<String>,
    /// client, executor, support, admin or owner.
    pub role: String,
    pub blocked: bool,
    pub referral_code: String,
    pub referrer_id: Option<String>,
    pub referrals: i64,
    /// Roubles, two decimals, as a string.
    #[cfg_attr(feature = "openapi", schema(examples("1290.00")))]
    pub total_paid: String,
    pub loyalty_tier: Option<String>,
    /// What the role lets this user attempt (the permission table's actions; none
    /// while blocked), so an app shows only what it may use; each command still decides.
    #[sqlx(skip)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub permissions: Vec<Action>,
}

/// A user as staff see them.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub user_id: String,
    pub telegram_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language: Option<String>,
    /// client, executor, support, admin or owner.
    pub role: String,
    pub blocked: bool,
    pub referrer_id: Option<String>,
    pub referrals: i64,
    /// Roubles paid, net of refunds, as a string (`"1290.00"`).
    pub total_paid: String,
    pub payments: i32,
    pub loyalty_tier: Option<String>,
    pub registered_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "user_id, telegram_id, first_name, last_name, username, language, role, blocked, \
     referrer_id, referrals, total_paid::numeric(14, 2)::text AS total_paid, payments::int4 AS payments, \
     loyalty_tier, registered_at";

/// A page of users, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

/// What staff search users by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserFilter {
    /// Part of a name or username, or a whole Telegram id.
    pub text: Option<String>,
    pub role: Option<String>,
    pub blocked: Option<bool>,
    pub loyalty_tier: Option<String>,
}

/// A user's latest 100 orders, tickets and payments, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct History {
    /// `{order_id, kind, status, title, price, placed_at}` each.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub orders: Vec<serde_json::Value>,
    /// `{ticket_id, title, status, priority, opened_at}` each.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub tickets: Vec<serde_json::Value>,
    pub payments: Vec<PaymentView>,
}

/// Someone who came by the caller's link.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referral {
    pub user_id: String,
    pub first_name: String,
    pub registered_at: DateTime<Utc>,
    /// Whether they have paid (which is what earns the bonus).
    pub paid: bool,
}

/// The caller's referral link and what it brought.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referrals {
    pub code: String,
    /// `https://t.me/<bot>?startapp=ref_<code>` when the bot's username is configured.
    pub link: Option<String>,
    pub referrals: Vec<Referral>,
    /// Credits earned by referral bonuses.
    pub earned_credits: i64,
}

/// What a request may do as of now, by the users read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Acting in this role.
    Allowed(Role),
    Blocked,
    /// Not projected yet (a first sign-in a moment ago): the credentials speak.
    Unknown,
}

impl Access {
    /// What an `rm_users` row's role and block allow.
    fn of_row(role: &str, blocked: bool) -> Self {
        if blocked {
            Self::Blocked
        } else {
            Self::Allowed(Role::named(role).unwrap_or_default())
        }
    }
}

/// How many of a user's orders, tickets and payments the history shows.
const HISTORY_LENGTH: i64 = 100;

impl ReadModels {
    /// The role and block of `user_id` now: a demotion or a block counts at once,
    /// whatever an older token says.
    pub async fn access(&self, user_id: Uuid) -> Result<Access, CommandError> {
        let current: Option<(String, bool)> =
            sqlx::query_as("SELECT role, blocked FROM rm_users WHERE user_id = $1")
                .bind(user_id.to_string())
                .fetch_optional(self.pool())
                .await?;
        Ok(current.map_or(Access::Unknown, |(role, blocked)| {
            Access::of_row(&role, blocked)
        }))
    }

    /// What each of `users` may do as of now, in one query: those the read model does
    /// not have yet are left out (the credentials speak for them).
    pub async fn access_of(
        &self,
        users: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Access>, CommandError> {
        let ids: Vec<String> = users.iter().map(Uuid::to_string).collect();
        let rows: Vec<(String, String, bool)> =
            sqlx::query_as("SELECT user_id, role, blocked FROM rm_users WHERE user_id = ANY($1)")
                .bind(&ids)
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(user_id, role, blocked)| {
                Some((user_id.parse().ok()?, Access::of_row(&role, blocked)))
            })
            .collect())
    }

    /// One's own profile once the users read model shows `after`; `None` while it
    /// does not have the user yet.
    pub async fn me(
        &self,
        user_id: Uuid,
        after: Option<&Written>,
    ) -> Result<Option<Me>, CommandError> {
        self.shows(ProjectionName::Users, "User", after).await;
        let me: Option<Me> = sqlx::query_as(
            "SELECT user_id, telegram_id, first_name, last_name, username, language, role, blocked, \
                    referral_code, referrer_id, referrals, total_paid::numeric(14, 2)::text AS total_paid, loyalty_tier \
             FROM rm_user_overview WHERE user_id = $1",
        )
        .bind(user_id.to_string())
        .fetch_optional(self.pool())
        .await?;
        Ok(me.map(|mut me| {
            // A blocked account may attempt nothing.
            let role = Role::named(&me.role).unwrap_or_default();
            me.permissions = Action::ALL
                .into_iter()
                .filter(|action| !me.blocked && domain::permissions::is_allowed(role, *action))
                .collect();
            me
        }))
    }

    /// Staff search, newest first.
    pub async fn users(
        &self,
        viewer: Caller,
        filter: &UserFilter,
        page: &Page,
    ) -> Result<UserPage, CommandError> {
        viewer.require(Action::ViewUsers)?;
        let text = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty());
        let telegram_id = text.and_then(|q| q.parse::<i64>().ok());
        let items: Vec<UserView> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM rm_user_overview \
             WHERE ($1::text IS NULL OR lower(first_name || ' ' || COALESCE(last_name, '')) LIKE $1 \
                    OR lower(COALESCE(username, '')) LIKE $1 OR telegram_id = $2) \
               AND ($3::text IS NULL OR role = $3) AND ($4::bool IS NULL OR blocked = $4) \
               AND ($5::timestamptz IS NULL OR (registered_at, user_id) < ($5, $6)) \
               AND ($8::text IS NULL OR loyalty_tier = $8) \
             ORDER BY registered_at DESC, user_id DESC LIMIT $7"
        ))
        .bind(text.map(contains_pattern))
        .bind(telegram_id)
        .bind(&filter.role)
        .bind(filter.blocked)
        .bind(page.before_at())
        .bind(page.before_id())
        .bind(page.limit)
        .bind(&filter.loyalty_tier)
        .fetch_all(self.pool())
        .await?;
        let next_cursor =
            page.next_cursor(&items, |last| (last.registered_at, last.user_id.as_str()));
        Ok(UserPage { items, next_cursor })
    }

    /// The user with exactly this @username (any case, `@` optional) or Telegram id,
    /// for staff; `None` when nobody or more than one has it (usernames change hands:
    /// a name two accounts have is no answer).
    pub async fn user_by_handle(
        &self,
        viewer: Caller,
        handle: &str,
    ) -> Result<Option<UserView>, CommandError> {
        viewer.require(Action::ViewUsers)?;
        let handle = handle.trim().trim_start_matches('@');
        let mut found: Vec<UserView> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM rm_user_overview \
             WHERE lower(username) = lower($1) OR telegram_id = $2 LIMIT 2"
        ))
        .bind(handle)
        .bind(handle.parse::<i64>().ok())
        .fetch_all(self.pool())
        .await?;
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    /// One user, for staff, once the users read model shows `after`.
    pub async fn user(
        &self,
        viewer: Caller,
        user_id: &str,
        after: Option<&Written>,
    ) -> Result<Option<UserView>, CommandError> {
        viewer.require(Action::ViewUsers)?;
        self.shows(ProjectionName::Users, "User", after).await;
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM rm_user_overview WHERE user_id = $1"
        ))
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// A user's latest orders, tickets and payments, for staff.
    pub async fn user_history(
        &self,
        viewer: Caller,
        user_id: Uuid,
    ) -> Result<History, CommandError> {
        viewer.require(Action::ViewUsers)?;
        Ok(History {
            orders: self.orders_of_customer(user_id, HISTORY_LENGTH).await?,
            tickets: self.tickets_of_customer(user_id, HISTORY_LENGTH).await?,
            payments: self.payments_of_payer(user_id, HISTORY_LENGTH).await?,
        })
    }

    /// The caller's referral code, its link (`bot` is the bot's username), the latest
    /// 500 people who came by it and the credits it earned.
    pub async fn referrals(
        &self,
        viewer: Caller,
        bot: Option<&str>,
    ) -> Result<Referrals, CommandError> {
        let me = viewer.user_id.to_string();
        let code: Option<String> =
            sqlx::query_scalar("SELECT referral_code FROM rm_users WHERE user_id = $1")
                .bind(&me)
                .fetch_optional(self.pool())
                .await?;
        let code = code.unwrap_or_else(|| domain::user::referral_code_for(viewer.user_id));
        let referrals: Vec<Referral> = sqlx::query_as(
            "SELECT u.user_id, u.first_name, u.registered_at, COALESCE(s.payments, 0) > 0 AS paid \
             FROM rm_users u LEFT JOIN rm_user_spending s ON s.user_id::text = u.user_id \
             WHERE u.referrer_id = $1 ORDER BY u.registered_at DESC LIMIT 500",
        )
        .bind(&me)
        .fetch_all(self.pool())
        .await?;
        Ok(Referrals {
            link: bot.map(|bot| format!("https://t.me/{bot}?startapp=ref_{code}")),
            code,
            referrals,
            earned_credits: self.referral_earnings(&me).await?,
        })
    }
}
