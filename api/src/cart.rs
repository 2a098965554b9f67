//! `/api/v1/cart`: the caller's shop cart, kept on the server
//! ([`domain::use_cases::cart`]), and the checkout that places a shop order from it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use domain::order::Delivery;
use domain::use_cases::cart::Cart;
use projections::read_models::orders::OrderWithTimeline;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::orders::read_back;
use crate::placing::ShopDelivery;

/// `GET /api/v1/cart`
#[utoipa::path(
    get,
    path = "/cart",
    tag = "shop",
    operation_id = "cart_get",
    summary = "The caller's cart, at the shop's prices now",
    security(("bearer" = [])),
    responses((status = 200, description = "The cart", body = Cart))
)]
pub async fn get(State(state): State<AppState>, caller: AuthUser) -> Result<Json<Cart>, ApiError> {
    Ok(Json(state.core.cart(caller.caller()).await?))
}

/// How many of a product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    /// 0 (remove the line) to 99.
    #[schema(minimum = 0, maximum = 99)]
    pub quantity: u32,
}

/// `PUT /api/v1/cart/items/{product_id}`
#[utoipa::path(
    put,
    path = "/cart/items/{product_id}",
    tag = "shop",
    operation_id = "cart_set_quantity",
    summary = "Set how many of a product the cart holds (0 removes it)",
    security(("bearer" = [])),
    params(("product_id" = String, Path, description = "One of `GET /api/v1/shop/products`")),
    request_body = Quantity,
    responses(
        (status = 200, description = "The cart after the change", body = Cart),
        (status = 422, description = "An unknown product or a quantity over 99 (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn set_quantity(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(product_id): ApiPath<String>,
    ApiJson(body): ApiJson<Quantity>,
) -> Result<Json<Cart>, ApiError> {
    Ok(Json(
        state
            .core
            .set_cart_quantity(caller.caller(), &product_id, body.quantity, Utc::now())
            .await?,
    ))
}

/// `POST /api/v1/cart/checkout`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkout {
    /// The cart's `revision` as the customer saw it.
    pub revision: i64,
    pub delivery: ShopDelivery,
}

/// `POST /api/v1/cart/checkout`
#[utoipa::path(
    post,
    path = "/cart/checkout",
    tag = "shop",
    operation_id = "cart_checkout",
    summary = "Place a shop order of the cart and empty it",
    description = "Names the cart's `revision` the customer saw: a cart changed since is 409 \
        (`cart_changed`). Repeating a checkout of the same revision answers the order it placed.",
    security(("bearer" = [])),
    request_body = Checkout,
    responses(
        (status = 201, description = "The order as placed", body = OrderWithTimeline),
        (status = 409, description = "The cart changed since it was shown (`cart_changed`)", body = ErrorBody),
        (status = 422, description = "The cart is empty, or a delivery field is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn checkout(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<Checkout>,
) -> Result<(StatusCode, Json<OrderWithTimeline>), ApiError> {
    let delivery = Delivery {
        recipient: body.delivery.recipient,
        phone: body.delivery.phone,
        address: body.delivery.address,
    };
    let written = state
        .core
        .check_out_cart(caller.caller(), body.revision, delivery, Utc::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(read_back(&state, &caller, &written.aggregate_id, Some(&written)).await?),
    ))
}
