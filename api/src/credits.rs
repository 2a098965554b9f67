//! `/api/v1/credits`: the caller's balance with points that lapse soon, their
//! statement, spending with an operation id, and the catalogue of packs and plans.

use axum::Json;
use axum::extract::State;
use chrono::{Duration, Utc};
use domain::catalogue::Catalogue;
use domain::command::CommandContext;
use domain::credit::CreditCommand;
use domain::permissions::Action;
use projections::read_models::credit_lots::{ExpiringLot, expiring};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::http::openapi::schemas;
use crate::http::paging::page_limit;
use crate::read_your_writes::READ_YOUR_WRITES_LIMIT;

/// How far ahead "expiring soon" looks.
const EXPIRING_WITHIN_DAYS: i64 = 30;

/// A credit account: what is left, and how it came to be.
#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    pub balance: i64,
    pub granted: i64,
    pub spent: i64,
    pub refunded: i64,
    pub expired: i64,
    /// Points with something left that lapse within 30 days, soonest first.
    #[schema(value_type = Vec<schemas::ExpiringLot>)]
    pub expiring_soon: Vec<ExpiringLot>,
}

async fn balance_of(state: &AppState, account: &str) -> Result<Balance, ApiError> {
    let row: Option<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT balance, granted, spent, refunded, expired FROM rm_credit_balances WHERE account_id = $1",
    )
    .bind(account)
    .fetch_optional(&state.pool)
    .await?;
    let (balance, granted, spent, refunded, expired) = row.unwrap_or_default();
    let now = Utc::now();
    let expiring_soon = expiring(
        &state.pool,
        account,
        now,
        now + Duration::days(EXPIRING_WITHIN_DAYS),
    )
    .await?;
    Ok(Balance {
        balance,
        granted,
        spent,
        refunded,
        expired,
        expiring_soon,
    })
}

/// `GET /api/v1/credits`
#[utoipa::path(
    get,
    path = "/api/v1/credits",
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
    Ok(Json(balance_of(&state, &caller.user_id.to_string()).await?))
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

/// One change of the balance.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct StatementLine {
    pub sequence: i64,
    pub recorded_at: chrono::DateTime<Utc>,
    pub change: i64,
    pub kind: String,
    pub reason: String,
    pub reference: String,
    pub expires_at: Option<chrono::DateTime<Utc>>,
}

/// A page of the statement, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementPage {
    pub items: Vec<StatementLine>,
    /// Pass as `before` for the next (older) page; absent on the last one.
    pub next_cursor: Option<i64>,
}

/// `GET /api/v1/credits/statement?limit=&before=`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/credits/statement",
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
    let limit = page_limit(page.limit)?;
    let items: Vec<StatementLine> = sqlx::query_as(
        "SELECT sequence, recorded_at, change, kind, reason, reference, expires_at FROM rm_credit_statement \
         WHERE account_id = $1 AND ($2::bigint IS NULL OR sequence < $2) ORDER BY sequence DESC LIMIT $3",
    )
    .bind(caller.user_id.to_string())
    .bind(page.before)
    .bind(limit)
    .fetch_all(&state.pool)
    .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|line| line.sequence))
        .flatten()
        .filter(|sequence| *sequence > 1);
    Ok(Json(StatementPage { items, next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreditSpend)]
pub struct Spend {
    /// Credits to spend; at least 1.
    #[schema(minimum = 1)]
    pub amount: u64,
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
    path = "/api/v1/credits/spend",
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
    caller.require(Action::SpendOwnCredits)?;
    if request.operation_id.trim().is_empty() || request.operation_id.len() > 100 {
        return Err(ApiError::invalid_field(
            "operation_id",
            "1 to 100 characters",
        ));
    }
    if request.reason.trim().is_empty() || request.reason.len() > 200 {
        return Err(ApiError::invalid_field("reason", "1 to 200 characters"));
    }
    if request.amount == 0 {
        return Err(ApiError::invalid_field("amount", "at least 1"));
    }
    let account = caller.user_id.to_string();
    let committed = state
        .commands
        .credits
        .execute(
            &account,
            CreditCommand::Spend {
                amount: request.amount,
                reason: request.reason,
                operation_id: request.operation_id,
                at: Utc::now(),
            },
            &CommandContext::user(caller.user_id, caller.role),
        )
        .await?;
    for projection in ["credit_balances", "credit_lots"] {
        state
            .checkpoints
            .caught_up(
                projection,
                "CreditAccount",
                &account,
                committed.sequence,
                READ_YOUR_WRITES_LIMIT,
            )
            .await;
    }
    Ok(Json(balance_of(&state, &account).await?))
}

/// `GET /api/v1/credits/catalogue`: packs and plans on sale (no sign-in needed).
#[utoipa::path(
    get,
    path = "/api/v1/credits/catalogue",
    tag = "credits",
    operation_id = "credits_catalogue",
    summary = "Credit packs and plans on sale",
    description = "No sign-in needed.",
    responses(
        (status = 200, description = "The catalogue", body = schemas::Catalogue),
    )
)]
pub async fn catalogue(State(state): State<AppState>) -> Json<Catalogue> {
    Json(state.catalogue.as_ref().clone())
}
