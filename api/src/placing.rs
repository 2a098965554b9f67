//! `POST /api/v1/orders`: placing an order of any of the three kinds. Prices of
//! bookings and shop orders come from the configured shopfront (the salon's services,
//! the shop's products), never from the client.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use domain::order::{Coursework, Delivery, LineItem, OrderCommand, OrderDetails, Slot};
use domain::permissions::Action;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ErrorBody, from_json};
use crate::orders::{OrderWithTimeline, context, field_error, read_back};

/// A coursework order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceCoursework {
    /// 1 to 200 characters.
    pub subject: String,
    /// The type of work ("курсовая", "реферат", ...).
    pub work_type: String,
    /// Pages, slides or another unit the business uses; at least 1.
    #[schema(minimum = 1)]
    pub volume: u32,
    /// In the future.
    pub deadline: DateTime<Utc>,
    /// Telegram file ids of the materials (at most 20).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub files: Vec<String>,
    /// Revisions the customer may ask for (at most 10; 2 by default).
    #[serde(default = "default_revisions")]
    #[schema(default = 2, maximum = 10)]
    pub max_revisions: u8,
}

fn default_revisions() -> u8 {
    2
}

/// A salon booking: the service (its duration and price come from the salon's
/// services) with a master, from `start`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceBooking {
    /// One of `GET /api/v1/bookings/services`.
    pub service_id: String,
    /// A master (a user with the executor role).
    pub master_id: Uuid,
    /// In the future, within the salon's working hours with the service's duration.
    pub start: DateTime<Utc>,
}

/// One line of a shop order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopItem {
    /// One of `GET /api/v1/shop/products`.
    pub product_id: String,
    /// 1 to 99.
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: u32,
}

/// Where a shop order goes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopDelivery {
    pub recipient: String,
    pub phone: String,
    pub address: String,
}

/// A shop order: products at the shop's prices, and where to deliver them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceShopOrder {
    /// 1 to 100 lines.
    pub items: Vec<ShopItem>,
    pub delivery: ShopDelivery,
}

/// The body of `POST /api/v1/orders`: `kind` says which (coursework when left out).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // The request is read by kind (absent = coursework); this type describes it.
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = PlaceOrder)]
pub enum PlaceOrderBody {
    #[schema(title = "coursework")]
    Coursework(PlaceCoursework),
    #[schema(title = "booking")]
    Booking(PlaceBooking),
    #[schema(title = "shop")]
    Shop(PlaceShopOrder),
}

/// `POST /api/v1/orders`: an order by the caller; 201 with the order.
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    tag = "orders",
    operation_id = "orders_place",
    summary = "Place an order: coursework, a salon booking or a shop order",
    description = "`\"kind\": \"coursework\"` (the default), `\"booking\"` or `\"shop\"` with \
        the fields of that kind. Bookings and shop orders are priced from the configured \
        services and products. A booking whose slot was taken meanwhile is 409.",
    security(("bearer" = [])),
    request_body = PlaceOrderBody,
    responses(
        (status = 201, description = "The order as placed", body = OrderWithTimeline),
        (status = 403, description = "The caller may not place orders", body = ErrorBody),
        (status = 409, description = "The booking's slot is taken", body = ErrorBody),
        (status = 422, description = "A field is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn place(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<OrderWithTimeline>), ApiError> {
    caller.require(Action::PlaceOrder)?;
    let Value::Object(mut fields) = body else {
        return Err(ApiError::invalid_field("body", "a JSON object"));
    };
    let kind = match fields.remove("kind") {
        None => "coursework".to_owned(),
        Some(Value::String(kind)) => kind,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "kind",
                "coursework, booking or shop",
            ));
        }
    };
    let body = Value::Object(fields);
    let details = match kind.as_str() {
        "coursework" => coursework(from_json(body)?)?,
        "booking" => booking(&state, from_json(body)?).await?,
        "shop" => shop(&state, from_json(body)?)?,
        _ => {
            return Err(ApiError::invalid_field(
                "kind",
                "coursework, booking or shop",
            ));
        }
    };
    let order_id = Uuid::now_v7();
    let id = order_id.to_string();
    let committed = state
        .commands
        .orders
        .execute(
            &id,
            OrderCommand::Place {
                order_id,
                customer_id: caller.user_id,
                details,
            },
            &context(caller),
        )
        .await
        .map_err(field_error)?;
    let order = read_back(&state, &caller, &id, committed.sequence).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

fn coursework(request: PlaceCoursework) -> Result<OrderDetails, ApiError> {
    if request.deadline <= Utc::now() {
        return Err(ApiError::invalid_field(
            "deadline",
            "the deadline must be in the future",
        ));
    }
    Ok(OrderDetails::Coursework(Coursework {
        subject: request.subject,
        work_type: request.work_type,
        volume: request.volume,
        deadline: request.deadline,
        files: request.files,
        max_revisions: request.max_revisions,
    }))
}

async fn booking(state: &AppState, request: PlaceBooking) -> Result<OrderDetails, ApiError> {
    let service = state
        .shopfront
        .service(&request.service_id)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "service_id",
                "not one of the salon's services; GET /api/v1/bookings/services lists them",
            )
        })?;
    if request.start <= Utc::now() {
        return Err(ApiError::invalid_field("start", "a time in the future"));
    }
    let end = request.start + Duration::minutes(i64::from(service.duration_minutes));
    if !state.salon.contains(request.start, end) {
        return Err(ApiError::invalid_field(
            "start",
            "the service must fit within the salon's working hours",
        ));
    }
    let master: Option<(String, bool)> =
        sqlx::query_as("SELECT role, blocked FROM rm_users WHERE user_id = $1")
            .bind(request.master_id.to_string())
            .fetch_optional(&state.pool)
            .await?;
    if !matches!(master, Some((role, false)) if role == "executor") {
        return Err(ApiError::invalid_field(
            "master_id",
            "not one of the salon's masters",
        ));
    }
    Ok(OrderDetails::Booking {
        service_id: service.id.clone(),
        service_name: service.name.clone(),
        master_id: request.master_id,
        slot: Slot {
            start: request.start,
            end,
        },
        price: service.price,
    })
}

fn shop(state: &AppState, request: PlaceShopOrder) -> Result<OrderDetails, ApiError> {
    if request.items.is_empty() || request.items.len() > 100 {
        return Err(ApiError::invalid_field("items", "1 to 100 lines"));
    }
    let mut lines = Vec::with_capacity(request.items.len());
    for (index, item) in request.items.into_iter().enumerate() {
        let product = state.shopfront.product(&item.product_id).ok_or_else(|| {
            ApiError::invalid_field(
                &format!("items[{index}].product_id"),
                "not one of the shop's products; GET /api/v1/shop/products lists them",
            )
        })?;
        if !(1..=99).contains(&item.quantity) {
            return Err(ApiError::invalid_field(
                &format!("items[{index}].quantity"),
                "1 to 99",
            ));
        }
        lines.push(LineItem {
            product_id: product.id.clone(),
            name: product.name.clone(),
            quantity: item.quantity,
            unit_price: product.price,
        });
    }
    let total = lines
        .iter()
        .try_fold(domain::money::Money::ZERO, |total, line| {
            total.checked_add(line.unit_price.times(line.quantity)?)
        })
        .map_err(|_| ApiError::invalid_field("items", "a total within range"))?;
    Ok(OrderDetails::Shop {
        lines,
        total,
        delivery: Delivery {
            recipient: request.delivery.recipient,
            phone: request.delivery.phone,
            address: request.delivery.address,
        },
    })
}
