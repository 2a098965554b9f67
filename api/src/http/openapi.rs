//! The OpenAPI document of `/api/v1`, generated from the code: the router registers
//! each handler with its `#[utoipa::path]` (`http::api_v1`, one registry for routes
//! and documentation), and the types it reads and answers derive `ToSchema` /
//! `IntoParams` (those of `domain` and `projections` under their `openapi` feature).
//! Served at `GET /api/v1/openapi.json` (no sign-in); Swagger UI at `/docs`, its
//! files compiled into the binary, so it works without the internet.
//!
//! Every operation also gets the answers every request can get (429, 500, 503; 401
//! and 403 with a bearer token; 400, 413, 415, 422 with a JSON body) from
//! [`SharedResponses`], so the handlers' annotations list only their own.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::error::ErrorBody;

/// Where the document is served.
pub const DOCUMENT_URL: &str = "/api/v1/openapi.json";
/// Where Swagger UI is served.
pub const DOCS_PATH: &str = "/docs";
/// The name of the bearer JWT security scheme the operations refer to.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ledgerbot API",
        version = env!("CARGO_PKG_VERSION"),
        description = "The HTTP API of Ledgerbot's Mini App and staff tools. Everything speaks \
            JSON; every error is `{\"error\": {\"code\", \"message\", \"details\"}}`. Sign in \
            with `POST /api/v1/auth/telegram`, then send the access token as \
            `Authorization: Bearer <token>`. After a command, the answer (and the caller's \
            next read) already shows its effect."
    ),
    components(schemas(ErrorBody, crate::orders::OrderActionBody, schemas::OrderAction)),
    tags(
        (name = "app", description = "What the Mini App (served at `/app/`) shows on this deployment"),
        (name = "auth", description = "Sign-in with Telegram, tokens, one's own profile"),
        (name = "orders", description = "Orders: placing coursework, every step of an order's life, lists"),
        (name = "bookings", description = "The salon's masters and free slots"),
        (name = "shop", description = "The shop's cart, kept on the server, and its checkout"),
        (name = "credits", description = "Credits and points: balance, statement, spending, the catalogue"),
        (name = "tickets", description = "The support desk"),
        (name = "faq", description = "Questions and answers, by category"),
        (name = "users", description = "Users, for staff: search, roles, blocking, history"),
        (name = "referrals", description = "The caller's referral link and what it brought"),
        (name = "reports", description = "The NPD tax ledger, the receipts register, analytics"),
        (name = "admin", description = "The system's own state"),
        (name = "live", description = "Live updates over a WebSocket"),
        (name = "payments", description = "Paying through YooKassa, refunds, YooKassa's notifications"),
        (name = "files", description = "Uploads typed by their bytes, previews, signed links"),
        (name = "generations", description = "Image generations (fitting, editing) paid in credits"),
        (name = "assistant", description = "The AI assistants' chats"),
    )
)]
pub struct ApiDoc;

/// The document once the router has added every operation: the bearer scheme, and
/// the answers every request can get.
pub fn finished(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    BearerScheme.modify(&mut document);
    SharedResponses.modify(&mut document);
    document
}

/// `GET /api/v1/openapi.json`: `document`, as the router built it.
pub fn document_route<S>(document: utoipa::openapi::OpenApi) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let document = Arc::new(document);
    Router::new().route(
        DOCUMENT_URL,
        get(move || {
            let document = Arc::clone(&document);
            async move { Json(document.as_ref()).into_response() }
        }),
    )
}

/// Swagger UI at `/docs` (`/docs` redirects to `/docs/`), reading [`DOCUMENT_URL`].
pub fn swagger_ui<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    SwaggerUi::new(DOCS_PATH)
        .config(Config::from(DOCUMENT_URL))
        .into()
}

/// The bearer JWT scheme the operations' `security(("bearer" = []))` names.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The access token of `POST /api/v1/auth/telegram` or \
                         `POST /api/v1/auth/refresh` (HS256, minutes long)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Answers any request of a kind can get, as reusable responses: (status, name,
/// description).
const SHARED: &[(&str, &str, &str)] = &[
    (
        "400",
        "MalformedJson",
        "The body is not valid JSON (`malformed_json`)",
    ),
    (
        "401",
        "Unauthorized",
        "No valid access token (`unauthorized`, `invalid_token`, `token_expired`): \
         sign in or refresh",
    ),
    (
        "403",
        "Forbidden",
        "The caller's role may not do this, or the account is blocked (`forbidden`)",
    ),
    (
        "404",
        "NotFound",
        "Nothing is at this address: a malformed id, or no such thing (`not_found`)",
    ),
    (
        "413",
        "BodyTooLarge",
        "The body is larger than 64 KiB (`body_too_large`)",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not sent as `application/json` (`unsupported_media_type`)",
    ),
    (
        "422",
        "InvalidInput",
        "The input is not of the expected shape (`invalid_input`), or a text holds a NUL \
         character (`nul_character`); `details.field` names the field or parameter",
    ),
    (
        "429",
        "RateLimited",
        "Too many requests from this user or address (`rate_limited`); \
         `details.retry_after_seconds` and `Retry-After` say when to try again",
    ),
    (
        "500",
        "Internal",
        "Something failed inside (`internal`); the log has the cause",
    ),
    (
        "503",
        "Unavailable",
        "The request took too long (`timeout`) or a dependency is unavailable; try again",
    ),
];

/// Adds the answers of [`SHARED`] to every operation that can get them and does not
/// describe them itself.
struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (status, name, description) in SHARED {
            let mut response = ResponseBuilder::new().description(*description).content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            );
            if *status == "429" {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new().schema_type(Type::Integer).build(),
                        ))
                        .description(Some("Seconds to wait"))
                        .build(),
                );
            }
            components
                .responses
                .insert((*name).to_owned(), RefOr::T(response.build()));
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_shared(operation);
            }
        }
    }
}

fn add_shared(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let body = operation.request_body.as_ref().map(|body| match body {
        RefOr::T(body) => matches!(body.required, Some(Required::True)),
        RefOr::Ref(_) => true,
    });
    let parameters_in = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(
            |parameter| matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == place),
        )
    };
    let in_path = parameters_in(ParameterIn::Path);
    let in_query = parameters_in(ParameterIn::Query);
    let mut statuses = Vec::new();
    if secured {
        statuses.extend(["401", "403"]);
    }
    if in_path {
        // `ApiPath` answers a malformed id with 404.
        statuses.push("404");
    }
    match body {
        // Bodies read by `ApiJson`: JSON declared, of the type's shape.
        Some(true) => statuses.extend(["400", "413", "415", "422"]),
        // Optional bodies, read whatever their declared type: the order actions.
        Some(false) => statuses.extend(["400", "413", "422"]),
        None => {}
    }
    if in_path || in_query {
        // `ApiPath` and `ApiQuery` refuse a NUL character, `ApiQuery` a malformed value.
        statuses.push("422");
    }
    statuses.extend(["429", "500", "503"]);
    for status in statuses {
        let Some((_, name, _)) = SHARED.iter().find(|(code, _, _)| *code == status) else {
            continue;
        };
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
}

/// Schemas the types do not give by themselves.
pub mod schemas {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::{PartialSchema, ToSchema};

    /// A step of an order's life: the `action` of `POST /api/v1/orders/{id}/{action}`.
    /// Its values are the actions `act` knows (`crate::orders::ACTIONS`).
    pub struct OrderAction;

    impl PartialSchema for OrderAction {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "A step of an order's life; who may take it and when is \
                     the domain's to decide",
                ))
                .enum_values(Some(crate::orders::ACTIONS.split(", ")))
                .into()
        }
    }

    impl ToSchema for OrderAction {}
}

#[cfg(test)]
mod tests {
    //! The schemas come from the types' own derives (serde's attributes included);
    //! these check that what the document promises is what the types serialize.

    use std::collections::BTreeSet;

    use chrono::{NaiveDate, Utc};
    use domain::money::Money;
    use domain::permissions::Role;
    use domain::ticket::{Priority, TicketStatus};
    use projections::read_models::receipts::{ReceiptAction, ReceiptLine};
    use rust_decimal::Decimal;
    use serde::Serialize;
    use serde_json::Value;
    use utoipa::PartialSchema;

    fn fields<T: Serialize>(value: &T) -> BTreeSet<String> {
        serde_json::to_value(value)
            .expect("serializes")
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect()
    }

    fn properties<T: PartialSchema>() -> BTreeSet<String> {
        serde_json::to_value(T::schema()).expect("serializes")["properties"]
            .as_object()
            .expect("an object schema")
            .keys()
            .cloned()
            .collect()
    }

    fn enum_values<T: PartialSchema>() -> Vec<Value> {
        serde_json::to_value(T::schema()).expect("serializes")["enum"]
            .as_array()
            .expect("an enum")
            .clone()
    }

    fn variants<T: Serialize>(values: &[T]) -> Vec<Value> {
        values
            .iter()
            .map(|value| serde_json::to_value(value).expect("serializes"))
            .collect()
    }

    #[test]
    fn schemas_have_the_fields_the_types_serialize() {
        let receipt = ReceiptLine {
            received_on: NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date"),
            received_at: Utc::now(),
            payment_id: "p".to_owned(),
            provider_payment_id: None,
            payer_kind: "individual".to_owned(),
            description: "d".to_owned(),
            received: Decimal::ONE,
            refunded: Decimal::ZERO,
            receipt_amount: Decimal::ONE,
            action: ReceiptAction::Keep,
        };
        assert_eq!(fields(&receipt), properties::<ReceiptLine>());
        let catalogue = domain::catalogue::Catalogue::default();
        assert_eq!(
            fields(&catalogue),
            properties::<domain::catalogue::Catalogue>()
        );
        assert_eq!(
            fields(&catalogue.packs[0]),
            properties::<domain::catalogue::CreditPack>()
        );
    }

    #[test]
    fn enum_schemas_have_the_values_the_types_serialize() {
        assert_eq!(variants(&Role::ALL), enum_values::<Role>());
        let priorities = [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Critical,
        ];
        assert_eq!(variants(&priorities), enum_values::<Priority>());
        let statuses = [
            TicketStatus::Open,
            TicketStatus::InProgress,
            TicketStatus::WaitingForCustomer,
            TicketStatus::Resolved,
            TicketStatus::Closed,
        ];
        assert_eq!(variants(&statuses), enum_values::<TicketStatus>());
        let actions = [
            ReceiptAction::Keep,
            ReceiptAction::Annul,
            ReceiptAction::AnnulAndReissue,
        ];
        assert_eq!(variants(&actions), enum_values::<ReceiptAction>());
    }

    #[test]
    fn money_is_a_string_with_two_places() {
        let price = Money::from_kopecks(49_900);
        assert_eq!(serde_json::to_value(price).expect("json"), "499.00");
        let schema = serde_json::to_value(Money::schema()).expect("json");
        assert_eq!(schema["type"], "string", "{schema}");
        assert_eq!(schema["pattern"], r"^[0-9]+\.[0-9]{2}$", "{schema}");
    }
}
