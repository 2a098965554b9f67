//! The OpenAPI document (`GET /api/v1/openapi.json`) and Swagger UI (`/docs`),
//! black-box over HTTP: the document is OpenAPI 3 and well formed (every `$ref`
//! resolves, every path parameter is declared, errors have the error shape); it
//! describes exactly the routes the `/api/v1` router registers (one registry: the
//! router's source gives every route as a documented handler, one operation each); each documented operation is answered by its
//! handler, with 401 without a token exactly when the document says a token is needed;
//! every order action it lists is one the API knows; and Swagger UI is served with all
//! its files from the binary, so it works without the internet.

use std::collections::{BTreeMap, BTreeSet};

use api::startup::Parts;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tests::TestContext;
use tests::api_client::{error_code, settings, signed_in};
use tests::app::spawn_app;
use tests::openapi::{document, resolved};
use uuid::Uuid;

/// The router's source: `fn api_v1` lists the routes of `/api/v1`.
const ROUTER_SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../api/src/http/mod.rs");
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Only HTTP: none of these tests needs the relay or the projection workers.
const HTTP_ONLY: Parts = Parts {
    relay: false,
    workers: false,
    bot: false,
};

/// (METHOD, path) of every operation the document describes.
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

fn operation<'a>(document: &'a Value, method: &str, path: &str) -> &'a Value {
    &document["paths"][path][method.to_lowercase()]
}

/// The operation's path parameters: name → schema.
fn path_parameters<'a>(
    document: &'a Value,
    method: &str,
    path: &str,
) -> BTreeMap<String, &'a Value> {
    let item = &document["paths"][path];
    let operation = operation(document, method, path);
    [&item["parameters"], &operation["parameters"]]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .map(|parameter| resolved(document, parameter))
        .filter(|parameter| parameter["in"] == "path")
        .map(|parameter| {
            assert_eq!(
                parameter["required"], true,
                "{method} {path}: path parameter {parameter} must be required"
            );
            (
                parameter["name"].as_str().unwrap_or_default().to_owned(),
                resolved(document, &parameter["schema"]),
            )
        })
        .collect()
}

/// The `{names}` of a path template.
fn template_names(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}

fn is_secured(document: &Value, method: &str, path: &str) -> bool {
    operation(document, method, path)["security"]
        .as_array()
        .or_else(|| document["security"].as_array())
        .is_some_and(|requirements| {
            !requirements.is_empty()
                && requirements
                    .iter()
                    .all(|requirement| requirement.as_object().is_some_and(|r| !r.is_empty()))
        })
}

/// The handlers of the router's `fn api_v1`, by reading its source. The router is one
/// registry: every route is a handler given to `routes!`, whose `#[utoipa::path]` is
/// its documentation; anything else there (`.route(`, `.merge(`, `.nest(` …) could
/// serve an undocumented route, so there must be nothing else.
fn handlers_in_source() -> Vec<String> {
    let source = std::fs::read_to_string(ROUTER_SOURCE).expect("the router's source is readable");
    assert!(
        source.contains(".nest(\"/api/v1\", api_v1())"),
        "the router nests api_v1 at /api/v1"
    );
    let start = source.find("fn api_v1(").expect("the router has fn api_v1");
    let body = &source[start..];
    let body = &body[..body.find("\n}\n").expect("fn api_v1 ends")];
    // Comments could mention routes; they are not code.
    let code: String = body
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let calls: Vec<&str> = code
        .split('.')
        .skip(1)
        .map(|call| call.split('(').next().unwrap_or_default().trim())
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    let mut handlers = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("routes!(") {
        let call = arguments(&rest[at + "routes!".len()..]);
        handlers.extend(
            call.split(',')
                .map(|handler| handler.split_whitespace().collect::<String>())
                .filter(|handler| !handler.is_empty()),
        );
        rest = &rest[at + "routes!(".len()..];
    }
    for call in calls {
        assert!(
            matches!(call, "new" | "routes"),
            "fn api_v1 calls .{call}(: routes go through routes!(handler) only"
        );
    }
    handlers
}

/// The text between the parenthesis `text` starts with and its match.
fn arguments(text: &str) -> &str {
    let mut depth = 0;
    for (index, character) in text.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[1..index];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {text}")
}

/// Every `$ref` anywhere in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                found.push(reference.clone());
            }
            map.values().for_each(|value| references(value, found));
        }
        Value::Array(items) => items.iter().for_each(|value| references(value, found)),
        _ => {}
    }
}

/// A value for each path parameter: the first allowed one, or a fresh id.
fn concrete(path: &str, parameters: &BTreeMap<String, &Value>) -> String {
    let mut concrete = path.to_owned();
    for (name, schema) in parameters {
        let value = schema["enum"]
            .get(0)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| Uuid::now_v7().to_string());
        concrete = concrete.replace(&format!("{{{name}}}"), &value);
    }
    concrete
}

#[tokio::test]
async fn the_document_is_openapi_3_and_well_formed() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), HTTP_ONLY).await;
    let document = document(&app).await;

    let version = document["openapi"].as_str().expect("openapi is a string");
    assert!(version.starts_with("3."), "{version}");
    assert_eq!(document["info"]["title"], "Ledgerbot API");
    assert!(document["info"]["version"].is_string());

    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(found.len() > 50, "the document uses references: {found:?}");
    for reference in &found {
        assert!(reference.starts_with("#/"), "{reference} is local");
        assert!(
            document
                .pointer(reference.trim_start_matches('#'))
                .is_some(),
            "{reference} resolves to a component"
        );
    }

    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let tags: BTreeSet<&str> = document["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|tag| tag["name"].as_str())
        .collect();

    let operations = documented(&document);
    let mut operation_ids = BTreeSet::new();
    for (method, path) in &operations {
        let what = format!("{method} {path}");
        let operation = operation(&document, method, path);
        assert!(path.starts_with("/api/v1/"), "{what}");
        assert_eq!(
            path_parameters(&document, method, path)
                .into_keys()
                .collect::<BTreeSet<_>>(),
            template_names(path),
            "{what}: every path parameter is declared, and only those"
        );
        let id = operation["operationId"].as_str().expect("an operation id");
        assert!(
            operation_ids.insert(id.to_owned()),
            "{what}: {id} is unique"
        );
        assert!(operation["summary"].is_string(), "{what} has a summary");
        for tag in operation["tags"].as_array().expect("tags") {
            let tag = tag.as_str().unwrap_or_default();
            assert!(tags.contains(tag), "{what}: tag {tag} is declared");
        }
        for requirement in operation["security"].as_array().into_iter().flatten() {
            for scheme in requirement.as_object().expect("a requirement").keys() {
                assert!(schemes.contains_key(scheme), "{what}: {scheme} is defined");
            }
        }
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses
                .keys()
                .any(|status| status.starts_with('2') || status == "101"),
            "{what} has a success answer"
        );
        for (status, response) in responses {
            let response = resolved(&document, response);
            assert!(response["description"].is_string(), "{what} {status}");
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{what}: {status} has the error shape"
                );
            }
        }
        if is_secured(&document, method, path) {
            assert!(responses.contains_key("401"), "{what} documents its 401");
        }
    }
    let error = &document["components"]["schemas"]["ErrorDetail"];
    for field in ["code", "message", "details"] {
        assert!(error["properties"].get(field).is_some(), "error.{field}");
    }

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_document_describes_exactly_the_routes_of_the_router() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), HTTP_ONLY).await;
    let document = document(&app).await;

    let handlers = handlers_in_source();
    assert!(handlers.len() >= 30, "the source was read: {handlers:?}");
    let documented = documented(&document);
    // One operation per handler: none lost, none twice.
    assert_eq!(
        documented.len(),
        handlers.len(),
        "documented operations {documented:?} for handlers {handlers:?}"
    );
    // Each documented operation reaches a handler: not the router's 404 nor a 405;
    // without a token it is refused with 401 exactly when the document says a token
    // is needed.
    let client = reqwest::Client::new();
    for (method, path) in &documented {
        let url = concrete(path, &path_parameters(&document, method, path));
        let response = client
            .request(
                Method::from_bytes(method.as_bytes()).expect("a method"),
                app.url(&url),
            )
            .send()
            .await
            .expect("the API answers");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let what = format!("{method} {url}: {status} {body}");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}");
        let no_route = status == StatusCode::NOT_FOUND
            && error_code(&body) == "not_found"
            && body["error"]["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("no route for"));
        assert!(!no_route, "{what}");
        assert_eq!(
            status == StatusCode::UNAUTHORIZED,
            is_secured(&document, method, path),
            "{what}: 401 without a token exactly when the document asks for one"
        );
    }

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn every_documented_order_action_is_one_the_api_knows() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let document = document(&app).await;
    let (token, _) = signed_in(&app, 424_242_001, "Аня").await;

    let path = "/api/v1/orders/{id}/{action}";
    let parameters = path_parameters(&document, "POST", path);
    let documented: BTreeSet<String> = parameters["action"]["enum"]
        .as_array()
        .expect("the actions are an enum")
        .iter()
        .filter_map(|action| action.as_str().map(str::to_owned))
        .collect();
    assert!(documented.len() >= 10, "{documented:?}");

    let client = reqwest::Client::new();
    let act = |action: &str| {
        client
            .post(app.url(&format!("/api/v1/orders/{}/{action}", Uuid::now_v7())))
            .bearer_auth(&token)
            .send()
    };
    let unknown = |body: &Value| {
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("no order action"))
    };
    // An action the API does not know names the ones it does: the documented ones.
    let response = act("fly").await.expect("the API answers");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.expect("json");
    assert!(unknown(&body), "{body}");
    let named: BTreeSet<String> = body["error"]["message"]
        .as_str()
        .and_then(|message| message.split("the actions are ").nth(1))
        .expect("the message names the actions")
        .split(", ")
        .map(str::to_owned)
        .collect();
    assert_eq!(named, documented);
    // And each documented one gets past the dispatch (to the missing order or body).
    for action in &documented {
        let response = act(action).await.expect("the API answers");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(!unknown(&body), "{action}: {status} {body}");
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{action}: {status} {body}"
        );
    }

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn swagger_ui_is_served_with_its_files_from_the_binary() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), HTTP_ONLY).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");

    let response = client.get(app.url("/docs")).send().await.expect("answers");
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(location, "/docs/");
    // Followed, as a browser would.
    let response = reqwest::get(app.url("/docs")).await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK);

    let response = client.get(app.url("/docs/")).send().await.expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("html");
    assert!(page.contains("swagger-ui"), "{page}");

    // Everything the page loads comes from here, not from the internet.
    let mut files = BTreeSet::new();
    for attribute in ["href=\"", "src=\""] {
        for (at, _) in page.match_indices(attribute) {
            let target = &page[at + attribute.len()..];
            let target = &target[..target.find('"').unwrap_or(0)];
            assert!(
                !target.starts_with("http:") && !target.starts_with("https:"),
                "the page loads {target} from elsewhere"
            );
            files.insert(target.trim_start_matches("./").to_owned());
        }
    }
    for needed in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(files.contains(needed), "the page loads {needed}: {files:?}");
    }
    for file in &files {
        let response = client
            .get(app.url(&format!("/docs/{file}")))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::OK, "/docs/{file}");
        let bytes = response.bytes().await.expect("a body");
        assert!(!bytes.is_empty(), "/docs/{file} has content");
        if file == "swagger-initializer.js" {
            let script = String::from_utf8_lossy(&bytes);
            assert!(
                script.contains("/api/v1/openapi.json"),
                "Swagger UI reads the API's document: {script}"
            );
        }
    }

    app.stop().await;
    context.cleanup().await;
}
