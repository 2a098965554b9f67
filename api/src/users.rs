//! `/api/v1/users` (staff): find users by name, username or Telegram id; change a
//! role; block and unblock; a user's orders, tickets and payments. And
//! `/api/v1/referrals`: the caller's referral link, who came by it and what it earned.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use domain::permissions::Role;
use domain::use_cases::users::UserChange;
use projections::read_models::paging::Page;
use projections::read_models::users::{History, Referrals, UserFilter, UserPage, UserView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody, found};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};

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
    /// Only users of this loyalty tier.
    pub loyalty_tier: Option<String>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

/// `GET /api/v1/users?q=&role=&blocked=&loyalty_tier=&limit=&before=`: newest first.
#[utoipa::path(
    get,
    path = "/users",
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
    let page = Page::new(query.limit, query.before.as_deref())?;
    let filter = UserFilter {
        text: query.q,
        role: query.role,
        blocked: query.blocked,
        loyalty_tier: query.loyalty_tier,
    };
    Ok(Json(
        state.reads.users(caller.caller(), &filter, &page).await?,
    ))
}

/// `GET /api/v1/users/{id}`
#[utoipa::path(
    get,
    path = "/users/{id}",
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
    let user = state
        .reads
        .user(caller.caller(), &id.to_string(), None)
        .await?;
    Ok(Json(found(user, "user")?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RoleChange)]
pub struct ChangeRole {
    pub role: Role,
}

/// `POST /api/v1/users/{id}/role`: admins make executors and support; only an owner
/// appoints or demotes admins and owners; the last owner stays an owner.
#[utoipa::path(
    post,
    path = "/users/{id}/role",
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
    change(&state, &caller, id, UserChange::Role(request.role)).await
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
    path = "/users/{id}/block",
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
        (status = 409, description = "Blocking oneself, someone already blocked or the business's \
            last owner (`invalid_state`, `last_owner`)", body = ErrorBody),
        (status = 422, description = "No reason given", body = ErrorBody),
    )
)]
pub async fn block(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<Block>,
) -> Result<Json<UserView>, ApiError> {
    let change_of_user = UserChange::Block {
        reason: request.reason,
    };
    change(&state, &caller, id, change_of_user).await
}

/// `POST /api/v1/users/{id}/unblock`
#[utoipa::path(
    post,
    path = "/users/{id}/unblock",
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
        (status = 409, description = "The user is not blocked (`invalid_state`)", body = ErrorBody),
    )
)]
pub async fn unblock(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    change(&state, &caller, id, UserChange::Unblock).await
}

async fn change(
    state: &AppState,
    caller: &AuthUser,
    user_id: Uuid,
    change: UserChange,
) -> Result<Json<UserView>, ApiError> {
    let written = state
        .core
        .change_user(caller.caller(), user_id, change, Utc::now())
        .await?;
    let user = state
        .reads
        .user(caller.caller(), &written.aggregate_id, Some(&written))
        .await?;
    Ok(Json(found(user, "user")?))
}

/// `GET /api/v1/users/{id}/history`: the latest 100 orders, tickets and payments.
#[utoipa::path(
    get,
    path = "/users/{id}/history",
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
    Ok(Json(state.reads.user_history(caller.caller(), id).await?))
}

/// `GET /api/v1/referrals`
#[utoipa::path(
    get,
    path = "/referrals",
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
    let bot = state.bot_username.as_deref();
    Ok(Json(state.reads.referrals(caller.caller(), bot).await?))
}
