//! `/app/` over HTTP: the page with everything for the first screen in it (the
//! stylesheet, this deployment's settings, the joined modules) under a policy that
//! names exactly their hashes; gzip, ETags and 304; the files one by one; and
//! `/api/v1/app/settings`, which leaves out sections with nothing to offer.

use api::startup::Parts;
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION,
};
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::settings;
use tests::app::spawn_app;

#[tokio::test]
async fn the_page_carries_its_code_settings_and_policy() {
    let context = TestContext::new().await;
    let mut configured = settings(&context);
    configured.app_sections = vec!["shop".into(), "support".into(), "salon".into()];
    configured.shopfront.services.clear();
    configured.bot_username = Some("ledgerbot_test_bot".into());
    let app = spawn_app(configured, Parts::ALL).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");

    let moved = client.get(app.url("/app")).send().await.expect("an answer");
    assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.headers()[LOCATION], "/app/");

    let page = client
        .get(app.url("/app/"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("the page");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    let policy = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ASCII")
        .to_owned();
    let etag = page.headers()[ETAG].clone();
    let compressed = page.bytes().await.expect("a body").len();

    let plain = client.get(app.url("/app/")).send().await.expect("the page");
    assert!(
        plain.headers().get(CONTENT_ENCODING).is_none(),
        "plain for clients without gzip"
    );
    let html = plain.text().await.expect("text");
    assert!(
        compressed * 2 < html.len(),
        "gzip pays: {compressed} of {}",
        html.len()
    );
    // The settings: salon left out (no services), in the configured order.
    let settings_json = html
        .split("<script type=\"application/json\" id=\"ledgerbot-settings\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the settings are in the page");
    let embedded: Value = serde_json::from_str(settings_json).expect("JSON");
    assert_eq!(
        embedded["sections"],
        json!(["shop", "support"]),
        "{embedded}"
    );
    assert_eq!(embedded["bot_username"], "ledgerbot_test_bot");
    // The policy lets exactly the page's own script and style run.
    let script = html
        .split("<script type=\"module\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the joined modules are in the page");
    let digest = |text: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
    };
    assert!(
        policy.contains(&format!("'sha256-{}'", digest(script))),
        "{policy}"
    );
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|rest| rest.split("</style>").next())
        .expect("the stylesheet is inline");
    assert!(
        policy.contains(&format!("'sha256-{}'", digest(style))),
        "{policy}"
    );
    assert!(
        policy.contains("connect-src 'self'") && policy.contains("default-src 'self'"),
        "{policy}"
    );
    assert!(
        !script.contains("\nimport ") && !script.contains("\nexport "),
        "no module syntax is left"
    );

    let again = client
        .get(app.url("/app/"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .expect("an answer");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let module = client
        .get(app.url("/app/js/ui.js"))
        .send()
        .await
        .expect("a module");
    assert_eq!(module.status(), StatusCode::OK);
    assert_eq!(
        module.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(
        module
            .text()
            .await
            .expect("text")
            .contains("export function h(")
    );
    let missing = client
        .get(app.url("/app/js/nothing.js"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.expect("the API's error shape");
    assert_eq!(body["error"]["code"], "not_found", "{body}");

    let answered: Value = client
        .get(app.url("/api/v1/app/settings"))
        .send()
        .await
        .expect("the settings")
        .json()
        .await
        .expect("JSON");
    assert_eq!(answered, embedded, "the API and the page say the same");
    app.stop().await;
    context.cleanup().await;
}
