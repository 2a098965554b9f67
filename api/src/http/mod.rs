//! The HTTP surface: routes, shared state, and the layers every request goes through
//! (request id, tracing span, metrics).

pub mod error;
pub mod extract;
mod health;
pub mod limits;
mod metrics;
pub mod mini_app;
pub mod openapi;
mod request_id;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::use_cases::Core;
use projections::ReadModels;
use sqlx::PgPool;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, AuthState};
use crate::metrics::Metrics;
use crate::{
    bookings, credits, faq, orders, placing, reports, shopfront, ticket_categories,
    ticket_messages, tickets, users,
};
use error::ApiError;
pub use request_id::RequestId;

/// What every handler can reach: the use cases and the read models (how handlers
/// change and read anything), and what HTTP itself needs.
#[derive(Clone)]
pub struct AppState {
    /// For health checks, sign-in tokens and the sandbox; handlers read through
    /// `reads` and write through `core`.
    pub pool: PgPool,
    pub nats: async_nats::Client,
    pub metrics: Metrics,
    /// The use cases.
    pub core: Arc<Core>,
    /// The read models' queries, which wait for a request's own writes.
    pub reads: ReadModels,
    pub auth: AuthState,
    pub bot_username: Option<Arc<str>>,
    pub limiter: limits::RateLimiter,
    /// Origins of the Mini App allowed to call the API from a browser.
    pub cors_origins: Arc<[String]>,
    /// Live updates for WebSocket clients.
    pub live: crate::live::LiveHub,
    /// YooKassa, or the built-in sandbox: the webhook's allowlist and the sandbox.
    pub payments: crate::payments::PaymentGateway,
    /// The bot's webhook, in webhook mode (`POST /telegram/webhook`).
    pub telegram_webhook: Option<bot::Webhook>,
    /// What the Mini App shows on this deployment.
    pub app_settings: Arc<crate::app_settings::AppSettings>,
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
    let (api, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", api_v1())
        .split_for_parts();
    if state.telegram_webhook.is_some() {
        router = router.route(
            bot::webhook::WEBHOOK_PATH,
            axum::routing::post(crate::telegram::webhook::receive)
                .layer(DefaultBodyLimit::max(1024 * 1024)),
        );
    }
    router
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics::scrape))
        .merge(
            // `/api/v1`: bodies up to 64 KiB, rate and time limits, CORS.
            api.merge(openapi::document_route(openapi::finished(document)))
                .layer(DefaultBodyLimit::max(64 * 1024))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    limits::enforce,
                ))
                .layer(cors(&state)),
        )
        .merge(openapi::swagger_ui())
        .merge(mini_app::routes(&state.app_settings))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(trace)
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// The versioned API, one registry for the routes and their documentation: every
/// route is a handler with its `#[utoipa::path]`, so none can be served undocumented
/// or documented unserved.
fn api_v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(crate::app_settings::get))
        .routes(routes!(crate::files::upload))
        .routes(routes!(crate::files::download))
        .routes(routes!(crate::files::preview))
        .routes(routes!(crate::files::linked))
        .routes(routes!(crate::files::order_files))
        .routes(routes!(
            crate::generations::create,
            crate::generations::list
        ))
        .routes(routes!(crate::generations::get_one))
        .routes(routes!(crate::generations::start_session))
        .routes(routes!(crate::generations::ask))
        .routes(routes!(crate::generations::reset))
        .routes(routes!(crate::generations::handover))
        .routes(routes!(crate::generations::ai_usage))
        .routes(routes!(auth::routes::telegram))
        .routes(routes!(auth::login_codes::create))
        .routes(routes!(auth::login_codes::collect))
        .routes(routes!(auth::routes::refresh))
        .routes(routes!(auth::routes::logout))
        .routes(routes!(auth::routes::get_me, auth::routes::patch_me))
        .routes(routes!(placing::place, orders::list))
        .routes(routes!(orders::get_one))
        .routes(routes!(orders::act))
        .routes(routes!(bookings::free))
        .routes(routes!(bookings::masters))
        .routes(routes!(shopfront::services))
        .routes(routes!(shopfront::products))
        .routes(routes!(crate::cart::get))
        .routes(routes!(crate::cart::set_quantity))
        .routes(routes!(crate::cart::checkout))
        .routes(routes!(reports::tax_ledger))
        .routes(routes!(reports::receipts))
        .routes(routes!(reports::analytics))
        .routes(routes!(reports::system_status))
        .routes(routes!(tickets::open, tickets::list))
        .routes(routes!(tickets::counts))
        .routes(routes!(ticket_categories::list, ticket_categories::create))
        .routes(routes!(
            ticket_categories::update,
            ticket_categories::delete
        ))
        .routes(routes!(faq::list, faq::create))
        .routes(routes!(faq::update, faq::delete))
        .routes(routes!(tickets::get_one))
        .routes(routes!(ticket_messages::post_message))
        .routes(routes!(
            ticket_messages::edit_message,
            ticket_messages::delete_message
        ))
        .routes(routes!(tickets::assign))
        .routes(routes!(tickets::set_status))
        .routes(routes!(tickets::set_priority))
        .routes(routes!(tickets::rate))
        .routes(routes!(users::list))
        .routes(routes!(users::get_one))
        .routes(routes!(users::history))
        .routes(routes!(users::change_role))
        .routes(routes!(users::block))
        .routes(routes!(users::unblock))
        .routes(routes!(users::referrals))
        .routes(routes!(credits::balance))
        .routes(routes!(credits::statement))
        .routes(routes!(credits::spend))
        .routes(routes!(credits::catalogue))
        .routes(routes!(crate::live::socket::connect))
        .routes(routes!(crate::payments::create::create))
        .routes(routes!(crate::payments::create::get_one))
        .routes(routes!(crate::payments::refunds::refund))
        .routes(routes!(crate::payments::webhook::receive))
}

/// CORS for the configured Mini App origins.
fn cors(state: &AppState) -> CorsLayer {
    let origins: Vec<HeaderValue> = state
        .cors_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(crate::auth::login_codes::SECRET_HEADER),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(3_600))
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
