//! `/api/v1/tickets/categories`: the categories a customer picks from when opening a
//! ticket. Everyone signed in lists the active ones; admins also see inactive ones
//! (`?all=true`) and create, change and delete them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use domain::ticket_category::{CategoryChange, CategoryLook};
use domain::use_cases::Written;
use projections::read_models::ticket_categories::{CategoryList, CategoryView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody, not_found, visible};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, present_or_null};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Inactive ones too (admins only).
    #[serde(default)]
    pub all: bool,
}

/// `POST` body: a new category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// 1–32 lowercase letters, digits, `_` or `-`; tickets store it.
    pub code: String,
    pub name: String,
    pub icon: Option<String>,
    /// `#RRGGBB`.
    pub colour: String,
    #[serde(default)]
    pub position: i32,
    /// True when left out.
    pub active: Option<bool>,
}

/// `GET /api/v1/tickets/categories`: by position, then code.
#[utoipa::path(
    get,
    path = "/tickets/categories",
    tag = "tickets",
    operation_id = "ticket_categories_list",
    summary = "The ticket categories on offer",
    description = "Active ones by position; admins may ask for inactive ones too.",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The categories, by position then code", body = CategoryList),
        (status = 403, description = "`all=true` from someone who does not manage categories", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<CategoryList>, ApiError> {
    Ok(Json(
        state
            .reads
            .ticket_categories(caller.caller(), query.all)
            .await?,
    ))
}

#[utoipa::path(
    post,
    path = "/tickets/categories",
    tag = "tickets",
    operation_id = "ticket_categories_create",
    summary = "Create a ticket category (admins)",
    security(("bearer" = [])),
    request_body = NewCategory,
    responses(
        (status = 201, description = "The new category", body = CategoryView),
        (status = 403, description = "The caller does not manage categories", body = ErrorBody),
        (status = 404, description = "Deleted again before it could be shown", body = ErrorBody),
        (status = 409, description = "A category with this code exists", body = ErrorBody),
        (status = 422, description = "The code, name, icon or colour is invalid", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<NewCategory>,
) -> Result<(StatusCode, Json<CategoryView>), ApiError> {
    let look = CategoryLook {
        name: request.name,
        icon: request.icon,
        colour: request.colour,
        position: request.position,
        active: request.active.unwrap_or(true),
    };
    let written = state
        .core
        .create_ticket_category(caller.caller(), &request.code, look, Utc::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(read_back(&state, &written).await?),
    ))
}

/// `PATCH` body: fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<String>,
    /// `null` clears it; leaving it out keeps it.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>)]
    pub icon: Option<Option<String>>,
    pub colour: Option<String>,
    pub position: Option<i32>,
    pub active: Option<bool>,
}

/// `PATCH /api/v1/tickets/categories/{code}` (admins): the fields given change.
#[utoipa::path(
    patch,
    path = "/tickets/categories/{code}",
    tag = "tickets",
    operation_id = "ticket_categories_update",
    summary = "Change a ticket category (admins)",
    description = "Fields left out stay as they are; `\"icon\": null` clears the icon.",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The category's code")),
    request_body = CategoryPatch,
    responses(
        (status = 200, description = "The category as it is now", body = CategoryView),
        (status = 403, description = "The caller does not manage categories", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(patch): ApiJson<CategoryPatch>,
) -> Result<Json<CategoryView>, ApiError> {
    let change = CategoryChange {
        name: patch.name,
        icon: patch.icon,
        colour: patch.colour,
        position: patch.position,
        active: patch.active,
    };
    let written = state
        .core
        .update_ticket_category(caller.caller(), &code, change, Utc::now())
        .await?;
    Ok(Json(read_back(&state, &written).await?))
}

#[utoipa::path(
    delete,
    path = "/tickets/categories/{code}",
    tag = "tickets",
    operation_id = "ticket_categories_delete",
    summary = "Delete a ticket category (admins)",
    description = "Tickets that name it keep the code; it can be created again.",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The category's code")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller does not manage categories", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let written = state
        .core
        .delete_ticket_category(caller.caller(), &code, Utc::now())
        .await?;
    state
        .reads
        .shows(
            projections::ProjectionName::TicketCategories,
            "TicketCategory",
            Some(&written),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The category once the read model shows `written`: 404 when it shows it and the
/// category is gone (deleted right after this write), 503 while it does not yet.
async fn read_back(state: &AppState, written: &Written) -> Result<CategoryView, ApiError> {
    let shown = state
        .reads
        .shows(
            projections::ProjectionName::TicketCategories,
            "TicketCategory",
            Some(written),
        )
        .await;
    let category = state
        .reads
        .ticket_category(&written.aggregate_id, None)
        .await?;
    match (category, shown) {
        (Some(category), _) => Ok(category),
        (None, true) => Err(not_found("category")),
        (None, false) => visible(None, "saved; the category list shows it in a moment"),
    }
}
