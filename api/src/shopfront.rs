//! What the salon and the shop sell: `GET /api/v1/bookings/services` and
//! `GET /api/v1/shop/products` (configuration, for every signed-in user).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::ApiError;

/// A salon service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub duration_minutes: u32,
    /// Roubles, two decimals, as a string.
    #[schema(examples("1500.00"))]
    pub price: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Services {
    pub items: Vec<ServiceView>,
}

/// A product of the shop.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: String,
    pub name: String,
    /// Roubles, two decimals, as a string.
    #[schema(examples("490.00"))]
    pub price: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Products {
    pub items: Vec<ProductView>,
}

/// `GET /api/v1/bookings/services`
#[utoipa::path(
    get,
    path = "/bookings/services",
    tag = "bookings",
    operation_id = "bookings_services",
    summary = "The salon's services, with durations and prices",
    security(("bearer" = [])),
    responses((status = 200, description = "The services", body = Services))
)]
pub async fn services(
    State(state): State<AppState>,
    _caller: AuthUser,
) -> Result<Json<Services>, ApiError> {
    let items = state
        .core
        .offer
        .shopfront
        .services
        .iter()
        .map(|service| ServiceView {
            id: service.id.clone(),
            name: service.name.clone(),
            duration_minutes: service.duration_minutes,
            price: service.price.to_string(),
        })
        .collect();
    Ok(Json(Services { items }))
}

/// `GET /api/v1/shop/products`
#[utoipa::path(
    get,
    path = "/shop/products",
    tag = "orders",
    operation_id = "shop_products",
    summary = "The shop's products and prices",
    security(("bearer" = [])),
    responses((status = 200, description = "The products", body = Products))
)]
pub async fn products(
    State(state): State<AppState>,
    _caller: AuthUser,
) -> Result<Json<Products>, ApiError> {
    let items = state
        .core
        .offer
        .shopfront
        .products
        .iter()
        .map(|product| ProductView {
            id: product.id.clone(),
            name: product.name.clone(),
            price: product.price.to_string(),
        })
        .collect();
    Ok(Json(Products { items }))
}
