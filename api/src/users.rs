//! `/api/v1/users` (staff): find users by name, username or Telegram id; change a
//! role; block and unblock; a user's orders, tickets and payments. And
//! `/api/v1/referrals`: the caller's referral link, who came by it and what it earned.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::command::CommandContext;
use domain::permissions::{Action, Role};
use domain::user::UserCommand;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::http::openapi::schemas;
use crate::http::paging::{contains_pattern, next_cursor, page_limit, parse_cursor};
use crate::payments::create::{PAYMENT_COLUMNS, PaymentView};
use crate::read_your_writes::READ_YOUR_WRITES_LIMIT;

/// A user as staff see them.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// Part of a name or username, or a whole Telegram id.
    pub q: Option<String>,
    /// Only users with this role.
    pub role: Option<String>,
    /// Only blocked (true) or unblocked (false) users.
    pub blocked: Option<bool>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

/// A page of users, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/users?q=&role=&blocked=&limit=&before=`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    operation_id = "users_list",
    summary = "Find users (staff), newest first",
    description = "By part of a name or username, or a whole Telegram id. Paged with \
        `before` = the previous page's `next_cursor`.",
    security(("bearer" = [])),
    params(Search),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 403, description = "The caller may not see users", body = ErrorBody),
        (status = 422, description = "A parameter is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<Search>,
) -> Result<Json<UserPage>, ApiError> {
    caller.require(Action::ViewUsers)?;
    let limit = page_limit(query.limit)?;
    let cursor = parse_cursor(query.before.as_deref())?;
    let text = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let telegram_id = text.and_then(|q| q.parse::<i64>().ok());
    let pattern = text.map(contains_pattern);
    let items: Vec<UserView> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM rm_user_overview \
         WHERE ($1::text IS NULL OR lower(first_name || ' ' || COALESCE(last_name, '')) LIKE $1 \
                OR lower(COALESCE(username, '')) LIKE $1 OR telegram_id = $2) \
           AND ($3::text IS NULL OR role = $3) AND ($4::bool IS NULL OR blocked = $4) \
           AND ($5::timestamptz IS NULL OR (registered_at, user_id) < ($5, $6)) \
         ORDER BY registered_at DESC, user_id DESC LIMIT $7"
    ))
    .bind(pattern)
    .bind(telegram_id)
    .bind(&query.role)
    .bind(query.blocked)
    .bind(cursor.as_ref().map(|(at, _)| *at))
    .bind(cursor.as_ref().map(|(_, id)| id.clone()))
    .bind(limit)
    .fetch_all(&state.pool)
    .await?;
    let next_cursor = next_cursor(&items, limit, |last| {
        (last.registered_at, last.user_id.as_str())
    });
    Ok(Json(UserPage { items, next_cursor }))
}

async fn user_row(state: &AppState, user_id: &str) -> Result<UserView, ApiError> {
    let row: Option<UserView> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM rm_user_overview WHERE user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(&state.pool)
    .await?;
    row.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user"))
}

/// `GET /api/v1/users/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    operation_id = "users_get",
    summary = "One user (staff)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 403, description = "The caller may not see users", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Action::ViewUsers)?;
    Ok(Json(user_row(&state, &id.to_string()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RoleChange)]
pub struct ChangeRole {
    #[schema(value_type = schemas::Role)]
    pub role: Role,
}

/// `POST /api/v1/users/{id}/role`: admins make executors and support; only an owner
/// appoints or demotes admins and owners; the last owner stays an owner.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/role",
    tag = "users",
    operation_id = "users_change_role",
    summary = "Change a user's role",
    description = "Admins make executors and support; only an owner appoints or demotes \
        admins and owners; the last owner stays an owner.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = ChangeRole,
    responses(
        (status = 200, description = "The user with the new role", body = UserView),
        (status = 403, description = "The caller may not give or take this role", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The business's last owner (`last_owner`)", body = ErrorBody),
    )
)]
pub async fn change_role(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<ChangeRole>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Action::ChangeRole)?;
    let user_id = id.to_string();
    let (user, _) = state.commands.users.load(&user_id).await?;
    if user.role() == Role::Owner && request.role != Role::Owner {
        let other_owners: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rm_users WHERE role = 'owner' AND user_id <> $1 AND NOT blocked",
        )
        .bind(&user_id)
        .fetch_one(&state.pool)
        .await?;
        if other_owners == 0 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "last_owner",
                "this is the business's last owner; appoint another owner first",
            ));
        }
    }
    command(
        &state,
        &caller,
        &user_id,
        UserCommand::ChangeRole {
            role: request.role,
            by: caller.role,
        },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BlockUser)]
pub struct Block {
    /// Why (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// `POST /api/v1/users/{id}/block`
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/block",
    tag = "users",
    operation_id = "users_block",
    summary = "Block a user",
    description = "A blocked user's requests are refused at once (403) and their refresh \
        tokens stop working. Only an owner blocks an admin or an owner.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = Block,
    responses(
        (status = 200, description = "The user, blocked", body = UserView),
        (status = 403, description = "The caller may not block this user", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Blocking oneself (`invalid_state`)", body = ErrorBody),
        (status = 422, description = "No reason given", body = ErrorBody),
    )
)]
pub async fn block(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<Block>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Action::BlockUser)?;
    if id == caller.user_id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            "you cannot block yourself",
        ));
    }
    if request.reason.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "reason",
            "say why (1 to 500 characters)",
        ));
    }
    command(
        &state,
        &caller,
        &id.to_string(),
        UserCommand::Block {
            reason: request.reason,
            by: caller.role,
        },
    )
    .await
}

/// `POST /api/v1/users/{id}/unblock`
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/unblock",
    tag = "users",
    operation_id = "users_unblock",
    summary = "Unblock a user",
    description = "Only an owner unblocks an admin or an owner; nobody unblocks themselves.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user, unblocked", body = UserView),
        (status = 403, description = "The caller may not unblock this user", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn unblock(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    caller.require(Action::BlockUser)?;
    command(
        &state,
        &caller,
        &id.to_string(),
        UserCommand::Unblock { by: caller.role },
    )
    .await
}

async fn command(
    state: &AppState,
    caller: &AuthUser,
    user_id: &str,
    command: UserCommand,
) -> Result<Json<UserView>, ApiError> {
    let (user, _) = state.commands.users.load(user_id).await?;
    if user.profile().is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such user",
        ));
    }
    let committed = state
        .commands
        .users
        .execute(
            user_id,
            command,
            &CommandContext::user(caller.user_id, caller.role),
        )
        .await?;
    state
        .checkpoints
        .caught_up(
            "users",
            "User",
            user_id,
            committed.sequence,
            READ_YOUR_WRITES_LIMIT,
        )
        .await;
    Ok(Json(user_row(state, user_id).await?))
}

/// A user's latest 100 orders, tickets and payments, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// `{order_id, kind, status, title, price, placed_at}` each.
    #[schema(value_type = Vec<Object>)]
    pub orders: Vec<serde_json::Value>,
    /// `{ticket_id, title, status, priority, opened_at}` each.
    #[schema(value_type = Vec<Object>)]
    pub tickets: Vec<serde_json::Value>,
    pub payments: Vec<PaymentView>,
}

/// `GET /api/v1/users/{id}/history`: the latest 100 orders, tickets and payments.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/history",
    tag = "users",
    operation_id = "users_history",
    summary = "A user's latest 100 orders, tickets and payments (staff)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The history", body = History),
        (status = 403, description = "The caller may not see users", body = ErrorBody),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<History>, ApiError> {
    caller.require(Action::ViewUsers)?;
    let orders: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('order_id', order_id, 'kind', kind, 'status', status, 'title', title, \
                'price', price::text, 'placed_at', placed_at) \
         FROM rm_orders WHERE customer_id = $1 ORDER BY placed_at DESC LIMIT 100",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let tickets: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT jsonb_build_object('ticket_id', ticket_id, 'title', title, 'status', status, \
                'priority', priority, 'opened_at', opened_at) \
         FROM rm_tickets WHERE customer_id = $1 ORDER BY opened_at DESC LIMIT 100",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let payments: Vec<PaymentView> = sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM rm_payments WHERE payer_id = $1 ORDER BY created_at DESC LIMIT 100"
    ))
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(History {
        orders,
        tickets,
        payments,
    }))
}

/// Someone who came by the caller's link.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Referral {
    pub user_id: String,
    pub first_name: String,
    pub registered_at: DateTime<Utc>,
    /// Whether they have paid (which is what earns the bonus).
    pub paid: bool,
}

/// The caller's referral link and what it brought.
#[derive(Debug, Serialize, ToSchema)]
pub struct Referrals {
    pub code: String,
    /// `https://t.me/<bot>?startapp=ref_<code>` when the bot's username is configured.
    pub link: Option<String>,
    pub referrals: Vec<Referral>,
    /// Credits earned by referral bonuses.
    pub earned_credits: i64,
}

/// `GET /api/v1/referrals`
#[utoipa::path(
    get,
    path = "/api/v1/referrals",
    tag = "referrals",
    operation_id = "referrals",
    summary = "The caller's referral link, who came by it and what it earned",
    description = "The latest 500 referrals.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's referrals", body = Referrals),
    )
)]
pub async fn referrals(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<Referrals>, ApiError> {
    let me = caller.user_id.to_string();
    let code: Option<String> =
        sqlx::query_scalar("SELECT referral_code FROM rm_users WHERE user_id = $1")
            .bind(&me)
            .fetch_optional(&state.pool)
            .await?;
    let code = code.unwrap_or_else(|| domain::user::referral_code_for(caller.user_id));
    let referrals: Vec<Referral> = sqlx::query_as(
        "SELECT u.user_id, u.first_name, u.registered_at, COALESCE(s.payments, 0) > 0 AS paid \
         FROM rm_users u LEFT JOIN rm_user_spending s ON s.user_id::text = u.user_id \
         WHERE u.referrer_id = $1 ORDER BY u.registered_at DESC LIMIT 500",
    )
    .bind(&me)
    .fetch_all(&state.pool)
    .await?;
    let earned_credits: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(change), 0)::bigint FROM rm_credit_statement \
         WHERE account_id = $1 AND kind = 'granted' AND reason = 'referral'",
    )
    .bind(&me)
    .fetch_one(&state.pool)
    .await?;
    let link = state
        .bot_username
        .as_deref()
        .map(|bot| format!("https://t.me/{bot}?startapp=ref_{code}"));
    Ok(Json(Referrals {
        code,
        link,
        referrals,
        earned_credits,
    }))
}
