//! `/api/v1/tickets/categories`: the categories a customer picks from when opening a
//! ticket. Everyone signed in lists the active ones; admins also see inactive ones
//! (`?all=true`) and create, change and delete them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::command::CommandContext;
use domain::permissions::Action;
use domain::ticket_category::{CategoryChange, CategoryCommand, CategoryLook, valid_code};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, present_or_null};
use crate::read_your_writes::READ_YOUR_WRITES_LIMIT;

/// The projection that shows categories.
const PROJECTION: &str = "ticket_categories";

/// One category as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct CategoryView {
    pub code: String,
    pub name: String,
    pub icon: Option<String>,
    pub colour: String,
    pub position: i32,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<CategoryView>,
}

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

const COLUMNS: &str = "code, name, icon, colour, position, active, updated_at";

/// `GET /api/v1/tickets/categories`: by position, then code.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/categories",
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
    if query.all {
        caller.require(Action::ManageTicketCategories)?;
    }
    let items = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rm_ticket_categories WHERE active OR $1 ORDER BY position, code"
    ))
    .bind(query.all)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(CategoryList { items }))
}

/// `POST /api/v1/tickets/categories` (admins): 201 with the category.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/categories",
    tag = "tickets",
    operation_id = "ticket_categories_create",
    summary = "Create a ticket category (admins)",
    security(("bearer" = [])),
    request_body = NewCategory,
    responses(
        (status = 201, description = "The new category", body = CategoryView),
        (status = 403, description = "The caller does not manage categories", body = ErrorBody),
        (status = 409, description = "A category with this code exists", body = ErrorBody),
        (status = 422, description = "The code, name, icon or colour is invalid", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<NewCategory>,
) -> Result<(StatusCode, Json<CategoryView>), ApiError> {
    caller.require(Action::ManageTicketCategories)?;
    if !valid_code(&request.code) {
        return Err(ApiError::invalid_field(
            "code",
            "1 to 32 lowercase letters, digits, _ or -",
        ));
    }
    let look = CategoryLook {
        name: request.name,
        icon: request.icon,
        colour: request.colour,
        position: request.position,
        active: request.active.unwrap_or(true),
    };
    let command = CategoryCommand::Create {
        look,
        by: caller.role,
    };
    let view = execute(&state, &caller, &request.code, command).await?;
    Ok((StatusCode::CREATED, Json(view)))
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
    path = "/api/v1/tickets/categories/{code}",
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
    caller.require(Action::ManageTicketCategories)?;
    let change = CategoryChange {
        name: patch.name,
        icon: patch.icon,
        colour: patch.colour,
        position: patch.position,
        active: patch.active,
    };
    let command = CategoryCommand::Update {
        change,
        by: caller.role,
    };
    Ok(Json(execute(&state, &caller, &code, command).await?))
}

/// `DELETE /api/v1/tickets/categories/{code}` (admins): 204. Tickets that name it
/// keep the code.
#[utoipa::path(
    delete,
    path = "/api/v1/tickets/categories/{code}",
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
    caller.require(Action::ManageTicketCategories)?;
    let committed = state
        .commands
        .ticket_categories
        .execute(
            &code,
            CategoryCommand::Delete { by: caller.role },
            &CommandContext::user(caller.user_id, caller.role),
        )
        .await
        .map_err(field_error)?;
    caught_up(&state, &code, committed.sequence).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn execute(
    state: &AppState,
    caller: &AuthUser,
    code: &str,
    command: CategoryCommand,
) -> Result<CategoryView, ApiError> {
    let committed = state
        .commands
        .ticket_categories
        .execute(
            code,
            command,
            &CommandContext::user(caller.user_id, caller.role),
        )
        .await
        .map_err(field_error)?;
    caught_up(state, code, committed.sequence).await;
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rm_ticket_categories WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_yet_visible",
            "saved; the category list shows it in a moment",
        )
    })
}

async fn caught_up(state: &AppState, code: &str, sequence: usize) {
    state
        .checkpoints
        .caught_up(
            PROJECTION,
            "TicketCategory",
            code,
            sequence,
            READ_YOUR_WRITES_LIMIT,
        )
        .await;
}

fn field_error(error: domain::command::CommandError) -> ApiError {
    if error.kind == domain::command::ErrorKind::InvalidInput {
        let field = ["name", "icon", "colour"]
            .into_iter()
            .find(|field| error.message.contains(field))
            .unwrap_or("body");
        return ApiError::invalid_field(field, error.message);
    }
    ApiError::from(error)
}

/// Refuses a ticket's category unless it is an active one, once admins have set up
/// any categories (before that, any code is taken).
pub async fn check_offered(pool: &PgPool, code: &str) -> Result<(), ApiError> {
    let (any, offered): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM rm_ticket_categories), \
                EXISTS (SELECT 1 FROM rm_ticket_categories WHERE code = $1 AND active)",
    )
    .bind(code)
    .fetch_one(pool)
    .await?;
    if any && !offered {
        return Err(ApiError::invalid_field(
            "category",
            "not one of the categories offered; GET /api/v1/tickets/categories lists them",
        ));
    }
    Ok(())
}
