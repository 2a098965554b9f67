//! `POST /api/v1/orders`: placing an order of any of the three kinds (the use case
//! prices bookings and shop orders from the configured shopfront, never from the
//! client).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::order::{Coursework, Delivery};
use domain::use_cases::placing::{NewOrder, ShopItem as ItemOfOrder};
use projections::read_models::orders::OrderWithTimeline;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, from_json};
use crate::orders::read_back;

/// A coursework order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceCoursework {
    /// 1 to 200 characters.
    pub subject: String,
    /// The type of work ("курсовая", "реферат", ...).
    pub work_type: String,
    /// Pages, slides or another unit the business uses; 1 to 10000.
    #[schema(minimum = 1, maximum = 10000)]
    pub volume: u32,
    /// In the future.
    pub deadline: DateTime<Utc>,
    /// Telegram file ids of the materials (the bot's older briefs).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub files: Vec<String>,
    /// The materials: files uploaded with `POST /api/v1/files?purpose=coursework`
    /// (at most 20 with `files`). They become the order's: whoever may see the order
    /// reads them (`GET /api/v1/orders/{id}/files`).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachments: Vec<Uuid>,
    /// Revisions the customer may ask for (at most 10; 2 by default).
    #[serde(default = "default_revisions")]
    #[schema(default = 2, maximum = 10)]
    pub max_revisions: u8,
}

fn default_revisions() -> u8 {
    Coursework::DEFAULT_REVISIONS
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

/// The body of `POST /api/v1/orders`, for the document: one of the kinds' fields
/// (which refuse any other) with `kind` naming it (coursework when left out). Each
/// branch lists `kind` with its one value, so exactly one branch takes a real order.
/// The request is read by kind in `place`; this type only describes it.
pub struct PlaceOrder;

impl PartialSchema for PlaceOrder {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(of_kind("coursework", false, PlaceCoursework::schema()))
            .item(of_kind("booking", true, PlaceBooking::schema()))
            .item(of_kind("shop", true, PlaceShopOrder::schema()))
            .description(Some(
                "`kind` says which (coursework when left out), with the fields of that kind",
            ))
            .into()
    }
}

impl ToSchema for PlaceOrder {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        // The kinds are inlined; what they refer to is not.
        PlaceCoursework::schemas(schemas);
        PlaceBooking::schemas(schemas);
        PlaceShopOrder::schemas(schemas);
    }
}

/// `fields` (an object schema) with `kind`: `value`, required unless it is the default.
fn of_kind(value: &str, required: bool, fields: RefOr<Schema>) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut object)) = fields else {
        return fields;
    };
    object.properties.insert(
        "kind".to_owned(),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([value]))
            .into(),
    );
    if required {
        object.required.insert(0, "kind".to_owned());
    }
    object.title = Some(value.to_owned());
    RefOr::T(Schema::Object(object))
}

/// `POST /api/v1/orders`: an order by the caller; 201 with the order.
#[utoipa::path(
    post,
    path = "/orders",
    tag = "orders",
    operation_id = "orders_place",
    summary = "Place an order: coursework, a salon booking or a shop order",
    description = "`\"kind\": \"coursework\"` (the default), `\"booking\"` or `\"shop\"` with \
        the fields of that kind. Bookings and shop orders are priced from the configured \
        services and products. A booking whose slot was taken meanwhile is 409.",
    security(("bearer" = [])),
    request_body = PlaceOrder,
    responses(
        (status = 201, description = "The order as placed", body = OrderWithTimeline),
        (status = 403, description = "The caller may not place orders", body = ErrorBody),
        (status = 409, description = "The booking's slot is taken, or the customer holds as many unpaid \
            bookings as the salon allows (`too_many_unpaid_bookings`: pay for or cancel one first)", body = ErrorBody),
        (status = 422, description = "A field is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn place(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(mut fields): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<OrderWithTimeline>), ApiError> {
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
    let order = match kind.as_str() {
        "coursework" => {
            let brief: PlaceCoursework = from_json(body)?;
            NewOrder::Coursework(Coursework {
                subject: brief.subject,
                work_type: brief.work_type,
                volume: brief.volume,
                deadline: brief.deadline,
                files: brief.files,
                attachments: brief.attachments,
                max_revisions: brief.max_revisions,
            })
        }
        "booking" => {
            let booking: PlaceBooking = from_json(body)?;
            NewOrder::Booking {
                service_id: booking.service_id,
                master_id: booking.master_id,
                start: booking.start,
            }
        }
        "shop" => {
            let shop: PlaceShopOrder = from_json(body)?;
            NewOrder::Shop {
                items: shop
                    .items
                    .into_iter()
                    .map(|item| ItemOfOrder {
                        product_id: item.product_id,
                        quantity: item.quantity,
                    })
                    .collect(),
                delivery: Delivery {
                    recipient: shop.delivery.recipient,
                    phone: shop.delivery.phone,
                    address: shop.delivery.address,
                },
            }
        }
        _ => {
            return Err(ApiError::invalid_field(
                "kind",
                "coursework, booking or shop",
            ));
        }
    };
    let written = state
        .core
        .place_order(caller.caller(), order, Utc::now())
        .await?;
    let order = read_back(&state, &caller, &written.aggregate_id, Some(&written)).await?;
    Ok((StatusCode::CREATED, Json(order)))
}
