//! Every query-string parser of the API under random and mutated input: for each
//! `GET` operation of the published document that takes query parameters, proptest
//! sends query strings made of its own parameter names (and others) with random
//! values, raw bytes and broken escapes, as the owner (who may call them all). Every
//! answer must be a success or a 4xx whose JSON body has a `code`: never a 5xx, never
//! a body that is not the API's error.

use api::startup::Parts;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use tests::TestContext;
use tests::api_client::{settings, signed_in};
use tests::app::spawn_app;

const CASES_PER_OPERATION: u32 = 150;
const OWNER_TELEGRAM_ID: i64 = 5151;

/// `(path, query parameter names)` of every GET without path parameters (their
/// parsers are the same `ApiQuery`; a path parameter would only make most cases 404).
fn query_operations(document: &Value) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let Some(get) = item.get("get") else { continue };
        if path.contains('{') {
            continue;
        }
        let names: Vec<String> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|parameter| parameter["in"] == "query")
            .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
            .collect();
        if !names.is_empty() {
            found.push((path.clone(), names));
        }
    }
    found
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9-]{0,24}",
        "-?[0-9]{1,30}(\\.[0-9]{0,5})?",
        "20[0-9]{2}-[0-9]{2}-[0-9]{2}(T[0-9:]{0,8}Z?)?",
        "[0-9a-f-]{36}",
        "\\PC{0,20}",
        "%[0-9A-Fa-f]{0,2}",
        "%00",
        Just("true".to_owned()),
        Just(String::new()),
    ]
}

fn query(names: Vec<String>) -> impl Strategy<Value = String> {
    let name = prop_oneof![
        3 => prop::sample::select(names),
        1 => "[a-z_%\\[\\]]{0,10}",
    ];
    prop_oneof![
        4 => prop::collection::vec((name, value()), 0..5).prop_map(|pairs| {
            pairs.into_iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&")
        }),
        1 => "[ -~]{0,60}",
    ]
}

fn encode_raw(query: &str) -> String {
    // Keep what a URL may carry; escape the rest so the request is sent as written.
    query
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'%'
            | b'&'
            | b'='
            | b'+'
            | b':'
            | b',' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_string_parser_answers_random_input_with_a_4xx_or_success() {
    let context = TestContext::new().await;
    let mut configured = settings(&context);
    configured.owner_telegram_ids = vec![OWNER_TELEGRAM_ID];
    configured.limits.per_user_per_minute = 1_000_000;
    configured.limits.per_ip_per_minute = 1_000_000;
    let app = spawn_app(configured, Parts::ALL).await;
    let (token, _) = signed_in(&app, OWNER_TELEGRAM_ID, "Владелец").await;
    let document = tests::openapi::document(&app).await;
    let operations = query_operations(&document);
    assert!(
        operations.len() >= 8,
        "the document lists the query endpoints: {operations:?}"
    );
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("a client");
    let runtime = tokio::runtime::Handle::current();
    let mut sent = 0;
    for (path, names) in operations {
        let mut runner = TestRunner::new(Config {
            cases: CASES_PER_OPERATION,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = tokio::task::block_in_place(|| {
            runner.run(&query(names), |raw| {
                let url = app.url(&format!("{path}?{}", encode_raw(&raw)));
                let (status, body) = runtime.block_on(async {
                    let response = client
                        .get(&url)
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("the API answers");
                    let status = response.status();
                    (status, response.bytes().await.expect("a body"))
                });
                prop_assert!(
                    status.is_success() || status.is_client_error(),
                    "GET {url} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
                if status.is_client_error() {
                    let error: Value = serde_json::from_slice(&body).map_err(|_| {
                        TestCaseError::fail(format!("GET {url}: {status} without a JSON body"))
                    })?;
                    prop_assert!(
                        error["error"]["code"].is_string(),
                        "GET {url}: {status} {error}"
                    );
                }
                Ok(())
            })
        });
        if let Err(failure) = outcome {
            panic!("{path}: {failure}");
        }
        sent += CASES_PER_OPERATION;
    }
    println!("{sent} query strings sent");
    app.stop().await;
    context.cleanup().await;
}
