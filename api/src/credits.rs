//! `/api/v1/credits`: the caller's balance with points that lapse soon, their
//! statement, spending with an operation id, and the catalogue of packs and plans.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use domain::catalogue::Catalogue;
use domain::use_cases::credits::Spend as SpendOfCredits;
use projections::read_models::credits::{Balance, StatementPage};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery};

/// `GET /api/v1/credits`
#[utoipa::path(
    get,
    path = "/credits",
    tag = "credits",
    operation_id = "credits_balance",
    summary = "The caller's credit balance and points that lapse soon",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The balance", body = Balance),
    )
)]
pub async fn balance(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<Balance>, ApiError> {
    Ok(Json(state.reads.balance(caller.caller(), None).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most this many lines (1..200, 50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Lines before this one (the `next_cursor` of the previous page).
    pub before: Option<i64>,
}

/// `GET /api/v1/credits/statement?limit=&before=`: newest first.
#[utoipa::path(
    get,
    path = "/credits/statement",
    tag = "credits",
    operation_id = "credits_statement",
    summary = "The caller's credit statement, newest first",
    security(("bearer" = [])),
    params(Page),
    responses(
        (status = 200, description = "A page of the statement", body = StatementPage),
        (status = 422, description = "A parameter is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn statement(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<StatementPage>, ApiError> {
    Ok(Json(
        state
            .reads
            .statement(caller.caller(), page.limit, page.before)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreditSpend)]
pub struct Spend {
    /// Credits to spend; at least 1. (Read as a signed 64-bit integer, as the
    /// document's `int64` says, so a larger number is refused, not taken.)
    #[schema(minimum = 1)]
    pub amount: i64,
    /// What the credits pay for ("image generation"); 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
    /// The caller's id for this spend: repeating it spends once. 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub operation_id: String,
}

/// `POST /api/v1/credits/spend`: the balance after the spend (read back at once).
#[utoipa::path(
    post,
    path = "/credits/spend",
    tag = "credits",
    operation_id = "credits_spend",
    summary = "Spend credits",
    description = "Idempotent by `operation_id`: repeating a spend spends once. Points that \
        lapse soonest go first.",
    security(("bearer" = [])),
    request_body = Spend,
    responses(
        (status = 200, description = "The balance after the spend", body = Balance),
        (status = 403, description = "The caller may not spend credits", body = ErrorBody),
        (status = 409, description = "Not enough credits", body = ErrorBody),
        (status = 422, description = "A field is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn spend(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<Spend>,
) -> Result<Json<Balance>, ApiError> {
    let spend = SpendOfCredits {
        amount: u64::try_from(request.amount)
            .map_err(|_| ApiError::invalid_field("amount", "at least 1"))?,
        reason: request.reason,
        operation_id: request.operation_id,
    };
    let written = state
        .core
        .spend_credits(caller.caller(), spend, Utc::now())
        .await?;
    Ok(Json(
        state.reads.balance(caller.caller(), Some(&written)).await?,
    ))
}

/// `GET /api/v1/credits/catalogue`: packs and plans on sale (no sign-in needed).
#[utoipa::path(
    get,
    path = "/credits/catalogue",
    tag = "credits",
    operation_id = "credits_catalogue",
    summary = "Credit packs and plans on sale",
    description = "No sign-in needed.",
    responses(
        (status = 200, description = "The catalogue", body = Catalogue),
    )
)]
pub async fn catalogue(State(state): State<AppState>) -> Json<Catalogue> {
    Json(state.core.offer.catalogue.clone())
}
