//! The OpenAPI document of `/api/v1`, generated from the code: each handler's
//! `#[utoipa::path]`, the `ToSchema`/`IntoParams` derives of the types it reads and
//! answers, and (in [`schemas`]) the shapes of what `domain` and `projections`
//! serialize. Served at `GET /api/v1/openapi.json` (no sign-in); Swagger UI at
//! `/docs`, its files compiled into the binary, so it works without the internet.
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
    paths(
        crate::auth::routes::telegram,
        crate::auth::routes::refresh,
        crate::auth::routes::logout,
        crate::auth::routes::get_me,
        crate::auth::routes::patch_me,
        crate::placing::place,
        crate::shopfront::services,
        crate::shopfront::products,
        crate::orders::list,
        crate::orders::get_one,
        crate::orders::act,
        crate::bookings::free,
        crate::reports::tax_ledger,
        crate::reports::receipts,
        crate::reports::analytics,
        crate::reports::system_status,
        crate::tickets::open,
        crate::tickets::list,
        crate::tickets::counts,
        crate::tickets::get_one,
        crate::tickets::post_message,
        crate::tickets::edit_message,
        crate::tickets::delete_message,
        crate::tickets::assign,
        crate::tickets::set_status,
        crate::tickets::set_priority,
        crate::tickets::rate,
        crate::users::list,
        crate::users::get_one,
        crate::users::history,
        crate::users::change_role,
        crate::users::block,
        crate::users::unblock,
        crate::users::referrals,
        crate::credits::balance,
        crate::credits::statement,
        crate::credits::spend,
        crate::credits::catalogue,
        crate::payments::create::create,
        crate::payments::create::get_one,
        crate::payments::refunds::refund,
        crate::payments::webhook::receive,
        crate::live::socket::connect,
        crate::auth::login_codes::create,
        crate::auth::login_codes::collect,
        crate::ticket_categories::list,
        crate::ticket_categories::create,
        crate::ticket_categories::update,
        crate::ticket_categories::delete,
    ),
    components(schemas(ErrorBody, crate::orders::OrderActionBody, schemas::OrderAction)),
    modifiers(&BearerScheme, &SharedResponses),
    tags(
        (name = "auth", description = "Sign-in with Telegram, tokens, one's own profile"),
        (name = "orders", description = "Orders: placing coursework, every step of an order's life, lists"),
        (name = "bookings", description = "The salon's free slots"),
        (name = "credits", description = "Credits and points: balance, statement, spending, the catalogue"),
        (name = "tickets", description = "The support desk"),
        (name = "users", description = "Users, for staff: search, roles, blocking, history"),
        (name = "referrals", description = "The caller's referral link and what it brought"),
        (name = "reports", description = "The NPD tax ledger, the receipts register, analytics"),
        (name = "admin", description = "The system's own state"),
        (name = "live", description = "Live updates over a WebSocket"),
        (name = "payments", description = "Paying through YooKassa, refunds, YooKassa's notifications"),
    )
)]
pub struct ApiDoc;

/// `GET /openapi.json` for the `/api/v1` router: the document, built once.
pub fn document_route<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let document = Arc::new(ApiDoc::openapi());
    Router::new().route(
        "/openapi.json",
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
        "The body does not have the expected shape (`invalid_input`; `details.field` names \
         the field)",
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
    let in_path = operation.parameters.iter().flatten().any(|parameter| {
        matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == ParameterIn::Path)
    });
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
        // Optional bodies are read as bytes: the order actions.
        Some(false) => statuses.extend(["400", "413"]),
        None => {}
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

/// Schemas of what `domain` and `projections` serialize: those crates do not depend on
/// utoipa. Only the documentation uses these types; a test serializes the real ones and
/// compares their fields with these.
pub mod schemas {
    use chrono::{DateTime, NaiveDate, Utc};
    use rust_decimal::Decimal;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::{PartialSchema, ToSchema};

    /// Roubles, never negative, with exactly two decimal places, as a string (never a
    /// float): `"100.00"`, `"0.10"`.
    #[derive(ToSchema)]
    #[schema(examples("499.00"))]
    pub struct Money(pub String);

    /// A user's role. Everyone starts as a client.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Role {
        Client,
        Executor,
        Support,
        Admin,
        Owner,
    }

    #[derive(ToSchema)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum Priority {
        Low,
        Normal,
        High,
        Critical,
    }

    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum TicketStatus {
        Open,
        InProgress,
        WaitingForCustomer,
        Resolved,
        Closed,
    }

    /// A file attached to a ticket message.
    #[derive(ToSchema)]
    pub struct Attachment {
        pub file_id: String,
        pub name: Option<String>,
    }

    /// A span of time (a booking's).
    #[derive(ToSchema)]
    pub struct Slot {
        pub start: DateTime<Utc>,
        pub end: DateTime<Utc>,
    }

    /// Points of one grant with something left that lapse soon.
    #[derive(ToSchema)]
    pub struct ExpiringLot {
        pub reason: String,
        pub reference: String,
        pub remaining: i64,
        pub expires_at: DateTime<Utc>,
    }

    /// A number of credits, once.
    #[derive(ToSchema)]
    pub struct CreditPack {
        /// Stable id, used in payments and receipts.
        pub id: String,
        pub credits: u64,
        pub price: Money,
    }

    /// Credits every period.
    #[derive(ToSchema)]
    pub struct Plan {
        pub id: String,
        pub credits_per_period: u64,
        pub period_days: u32,
        pub price: Money,
    }

    /// What is on sale for credits.
    #[derive(ToSchema)]
    pub struct Catalogue {
        pub packs: Vec<CreditPack>,
        pub plans: Vec<Plan>,
    }

    /// One NPD tax month.
    #[derive(ToSchema)]
    pub struct MonthTotals {
        /// The month's first day.
        pub month: NaiveDate,
        pub income_individual: Money,
        pub income_legal_entity: Money,
        pub income: Money,
        pub tax_before_deduction: Money,
        pub deduction_used: Money,
        pub tax_due: Money,
        /// The 28th of the following month.
        pub due_date: NaiveDate,
        pub deduction_left: Money,
        /// Income of the calendar year up to and including this month.
        pub year_income: Money,
        /// The year's income is at 90 % of the limit or more.
        pub near_yearly_limit: bool,
        pub over_yearly_limit: bool,
    }

    /// What to do with a receipt in «Мой налог».
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ReceiptAction {
        /// The receipt stands as issued.
        Keep,
        /// Annul it («Возврат средств»).
        Annul,
        /// Annul it and issue a new one for `receipt_amount` on the same date.
        AnnulAndReissue,
    }

    /// One payment received in the month and its receipt.
    #[derive(ToSchema)]
    pub struct ReceiptLine {
        /// When the money came, in the tax time zone's calendar.
        pub received_on: NaiveDate,
        pub received_at: DateTime<Utc>,
        pub payment_id: String,
        pub provider_payment_id: Option<String>,
        pub payer_kind: String,
        pub description: String,
        pub received: Decimal,
        pub refunded: Decimal,
        /// What the receipt (or its reissue) must show now.
        pub receipt_amount: Decimal,
        pub action: ReceiptAction,
    }

    /// Figures over the days `from..=to` (UTC).
    #[derive(ToSchema)]
    pub struct Summary {
        pub from: NaiveDate,
        pub to: NaiveDate,
        pub orders_placed: i64,
        pub orders_paid: i64,
        pub orders_completed: i64,
        pub orders_cancelled: i64,
        pub revenue: Decimal,
        pub refunds: Decimal,
        pub credits_granted: i64,
        pub credits_spent: i64,
        pub tickets_opened: i64,
        pub tickets_resolved: i64,
        pub new_users: i64,
        /// Orders placed in the range that have been paid, over orders placed in it
        /// (`null` when none were placed).
        pub conversion_placed_to_paid: Option<Decimal>,
        /// People who paid in the range.
        pub paying_customers: i64,
        /// Of those, people with at least two successful payments by the range's end.
        pub repeat_customers: i64,
    }

    /// How far behind the outbox relay is.
    #[derive(ToSchema)]
    pub struct OutboxStatus {
        /// Events committed but not yet acknowledged by JetStream.
        pub depth: i64,
        /// Age of the oldest such event in seconds; 0 when the outbox is empty.
        pub lag_seconds: f64,
        /// Events set aside because they cannot be published.
        pub parked: i64,
    }

    /// Where a projection stands.
    #[derive(ToSchema)]
    pub struct ProjectionStatus {
        pub projection: String,
        /// Aggregates it has applied events of.
        pub aggregates: i64,
        /// `recorded_at` of the newest event it applied.
        pub last_recorded_at: Option<DateTime<Utc>>,
        /// Seconds since then (`null` before the first event).
        pub lag_seconds: Option<f64>,
        pub parked: i64,
    }

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

    use super::schemas;

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

    fn variants<T: Serialize>(values: &[T]) -> Vec<Value> {
        values
            .iter()
            .map(|value| serde_json::to_value(value).expect("serializes"))
            .collect()
    }

    fn enum_values<T: PartialSchema>() -> Vec<Value> {
        serde_json::to_value(T::schema()).expect("serializes")["enum"]
            .as_array()
            .expect("an enum")
            .clone()
    }

    #[test]
    fn the_schemas_of_other_crates_types_have_their_fields() {
        let now = Utc::now();
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date");
        let money = Money::default();
        assert_eq!(
            fields(&domain::order::Slot {
                start: now,
                end: now
            }),
            properties::<schemas::Slot>()
        );
        assert_eq!(
            fields(&domain::ticket::Attachment {
                file_id: "f".into(),
                name: None
            }),
            properties::<schemas::Attachment>()
        );
        assert_eq!(
            fields(&projections::read_models::credit_lots::ExpiringLot {
                reason: "r".into(),
                reference: "x".into(),
                remaining: 1,
                expires_at: now,
            }),
            properties::<schemas::ExpiringLot>()
        );
        let catalogue = domain::catalogue::Catalogue::default();
        assert_eq!(fields(&catalogue), properties::<schemas::Catalogue>());
        assert_eq!(
            fields(catalogue.packs.first().expect("a pack")),
            properties::<schemas::CreditPack>()
        );
        assert_eq!(
            fields(catalogue.plans.first().expect("a plan")),
            properties::<schemas::Plan>()
        );
        assert_eq!(
            fields(&projections::read_models::tax_ledger::MonthTotals {
                month: day,
                income_individual: money,
                income_legal_entity: money,
                income: money,
                tax_before_deduction: money,
                deduction_used: money,
                tax_due: money,
                due_date: day,
                deduction_left: money,
                year_income: money,
                near_yearly_limit: false,
                over_yearly_limit: false,
            }),
            properties::<schemas::MonthTotals>()
        );
        assert_eq!(
            fields(&ReceiptLine {
                received_on: day,
                received_at: now,
                payment_id: "p".into(),
                provider_payment_id: None,
                payer_kind: "individual".into(),
                description: "d".into(),
                received: Decimal::ONE,
                refunded: Decimal::ZERO,
                receipt_amount: Decimal::ONE,
                action: ReceiptAction::Keep,
            }),
            properties::<schemas::ReceiptLine>()
        );
        assert_eq!(
            fields(&projections::read_models::analytics::Summary {
                from: day,
                to: day,
                orders_placed: 0,
                orders_paid: 0,
                orders_completed: 0,
                orders_cancelled: 0,
                revenue: Decimal::ZERO,
                refunds: Decimal::ZERO,
                credits_granted: 0,
                credits_spent: 0,
                tickets_opened: 0,
                tickets_resolved: 0,
                new_users: 0,
                conversion_placed_to_paid: None,
                paying_customers: 0,
                repeat_customers: 0,
            }),
            properties::<schemas::Summary>()
        );
        assert_eq!(
            fields(&projections::relay::OutboxStatus {
                depth: 0,
                lag_seconds: 0.0,
                parked: 0,
            }),
            properties::<schemas::OutboxStatus>()
        );
        assert_eq!(
            fields(&projections::worker::ProjectionStatus {
                projection: "p".into(),
                aggregates: 0,
                last_recorded_at: None,
                lag_seconds: None,
                parked: 0,
            }),
            properties::<schemas::ProjectionStatus>()
        );
    }

    #[test]
    fn the_schemas_of_other_crates_enums_have_their_values() {
        assert_eq!(variants(&Role::ALL), enum_values::<schemas::Role>());
        // Matches without a wildcard: a new variant fails to compile here.
        let priorities = [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Critical,
        ];
        for priority in priorities {
            match priority {
                Priority::Low | Priority::Normal | Priority::High | Priority::Critical => {}
            }
        }
        assert_eq!(variants(&priorities), enum_values::<schemas::Priority>());
        let statuses = [
            TicketStatus::Open,
            TicketStatus::InProgress,
            TicketStatus::WaitingForCustomer,
            TicketStatus::Resolved,
            TicketStatus::Closed,
        ];
        for status in statuses {
            match status {
                TicketStatus::Open
                | TicketStatus::InProgress
                | TicketStatus::WaitingForCustomer
                | TicketStatus::Resolved
                | TicketStatus::Closed => {}
            }
        }
        assert_eq!(variants(&statuses), enum_values::<schemas::TicketStatus>());
        let actions = [
            ReceiptAction::Keep,
            ReceiptAction::Annul,
            ReceiptAction::AnnulAndReissue,
        ];
        for action in &actions {
            match action {
                ReceiptAction::Keep | ReceiptAction::Annul | ReceiptAction::AnnulAndReissue => {}
            }
        }
        assert_eq!(variants(&actions), enum_values::<schemas::ReceiptAction>());
    }

    #[test]
    fn money_is_a_string_with_two_places() {
        let price = Money::from_kopecks(49_900);
        assert_eq!(serde_json::to_value(price).expect("json"), "499.00");
        let schema = serde_json::to_value(schemas::Money::schema()).expect("json");
        assert_eq!(schema["type"], "string", "{schema}");
    }
}
