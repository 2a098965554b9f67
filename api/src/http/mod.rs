//! The HTTP surface: routes, shared state, and the layers every request goes through
//! (request id, tracing span, metrics).

pub mod error;
mod health;
pub mod limits;
mod metrics;
pub mod openapi;
pub mod paging;
mod request_id;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sqlx::PgPool;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use std::sync::Arc;

use domain::catalogue::Catalogue;
use domain::command::Commands;

use crate::auth::{self, AuthState};
use crate::config::SalonHours;
use crate::metrics::Metrics;
use crate::read_your_writes::Checkpoints;
use crate::{bookings, credits, orders, reports, ticket_categories, tickets, users};
use error::ApiError;
pub use request_id::RequestId;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub nats: async_nats::Client,
    pub metrics: Metrics,
    /// Command services over `pool`: how handlers change anything.
    pub commands: Arc<Commands>,
    pub auth: AuthState,
    /// Credit packs and plans on sale.
    pub catalogue: Arc<Catalogue>,
    pub salon: SalonHours,
    /// The salon's services and the shop's products, with their prices.
    pub shopfront: Arc<domain::catalogue::Shopfront>,
    pub bot_username: Option<Arc<str>>,
    pub limiter: limits::RateLimiter,
    /// Origins of the Mini App allowed to call the API from a browser.
    pub cors_origins: Arc<[String]>,
    /// Waits for the read models to show a request's own writes.
    pub checkpoints: Checkpoints,
    /// Live updates for WebSocket clients.
    pub live: crate::live::LiveHub,
    /// YooKassa, or the built-in sandbox.
    pub payments: crate::payments::PaymentGateway,
}

/// The whole router: operational endpoints (`/health/*`, `/metrics`) that every
/// process serves, whichever parts it runs.
pub fn router(state: AppState) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &axum::http::Request<_>| {
            let request_id = request
                .extensions()
                .get::<RequestId>()
                .map(|id| id.as_str().to_owned())
                .unwrap_or_default();
            // The path only: query strings may carry tokens.
            tracing::info_span!(
                "http",
                request_id = %request_id,
                method = %request.method(),
                path = %request.uri().path(),
            )
        })
        .on_request(())
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(tower_http::LatencyUnit::Millis),
        )
        .on_failure(DefaultOnFailure::new().level(Level::WARN));

    let mut router = Router::new();
    if let Some(sandbox) = state.payments.sandbox_server.clone() {
        let (api, checkout) = sandbox.routes();
        router = router
            .nest_service(crate::yookassa::sandbox::API_PATH, api)
            .nest_service(crate::yookassa::sandbox::CHECKOUT_PATH, checkout);
    }
    router
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics::scrape))
        .nest("/api/v1", api_v1(&state))
        .merge(openapi::swagger_ui())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(trace)
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// The versioned API: bodies up to 64 KiB, rate and time limits, CORS for the
/// configured Mini App origins.
fn api_v1(state: &AppState) -> Router<AppState> {
    let origins: Vec<HeaderValue> = state
        .cors_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(crate::auth::login_codes::SECRET_HEADER),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(3_600));
    Router::new()
        .route("/auth/telegram", post(auth::routes::telegram))
        .route(
            "/auth/telegram/login-codes",
            post(auth::login_codes::create),
        )
        .route(
            "/auth/telegram/login-codes/{code}",
            get(auth::login_codes::collect),
        )
        .route("/auth/refresh", post(auth::routes::refresh))
        .route("/auth/logout", post(auth::routes::logout))
        .route(
            "/auth/me",
            get(auth::routes::get_me).patch(auth::routes::patch_me),
        )
        .route("/orders", post(crate::placing::place).get(orders::list))
        .route("/orders/{id}", get(orders::get_one))
        .route("/orders/{id}/{action}", post(orders::act))
        .route("/bookings/free-slots", get(bookings::free))
        .route("/bookings/services", get(crate::shopfront::services))
        .route("/shop/products", get(crate::shopfront::products))
        .route("/reports/tax-ledger", get(reports::tax_ledger))
        .route("/reports/receipts", get(reports::receipts))
        .route("/reports/analytics", get(reports::analytics))
        .route("/admin/status", get(reports::system_status))
        .route("/tickets", post(tickets::open).get(tickets::list))
        .route("/tickets/counts", get(tickets::counts))
        .route(
            "/tickets/categories",
            get(ticket_categories::list).post(ticket_categories::create),
        )
        .route(
            "/tickets/categories/{code}",
            axum::routing::patch(ticket_categories::update).delete(ticket_categories::delete),
        )
        .route("/tickets/{id}", get(tickets::get_one))
        .route("/tickets/{id}/messages", post(tickets::post_message))
        .route(
            "/tickets/{id}/messages/{message_id}",
            axum::routing::patch(tickets::edit_message).delete(tickets::delete_message),
        )
        .route("/tickets/{id}/assign", post(tickets::assign))
        .route("/tickets/{id}/status", post(tickets::set_status))
        .route("/tickets/{id}/priority", post(tickets::set_priority))
        .route("/tickets/{id}/rating", post(tickets::rate))
        .route("/users", get(users::list))
        .route("/users/{id}", get(users::get_one))
        .route("/users/{id}/history", get(users::history))
        .route("/users/{id}/role", post(users::change_role))
        .route("/users/{id}/block", post(users::block))
        .route("/users/{id}/unblock", post(users::unblock))
        .route("/referrals", get(users::referrals))
        .route("/credits", get(credits::balance))
        .route("/credits/statement", get(credits::statement))
        .route("/credits/spend", post(credits::spend))
        .route("/credits/catalogue", get(credits::catalogue))
        .route("/ws", get(crate::live::socket::connect))
        .route("/payments", post(crate::payments::create::create))
        .route("/payments/{id}", get(crate::payments::create::get_one))
        .route(
            "/payments/{id}/refunds",
            post(crate::payments::refunds::refund),
        )
        .route(
            "/payments/yookassa/webhook",
            post(crate::payments::webhook::receive),
        )
        .merge(openapi::document_route())
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::enforce,
        ))
        .layer(cors)
}

/// Health checks give each dependency this long to answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {method} {}", uri.path()),
    )
    .into_response()
}
