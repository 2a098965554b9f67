//! The page at `/app/`: `index.html` with the stylesheet, the first script (which
//! sends the sign-in at once), the deployment's settings and the joined modules
//! written into it, and a Content-Security-Policy naming the
//! hashes of exactly that script and style. If the modules cannot be joined (a
//! module outside the form the bundler reads: the tests catch it), the page is
//! served as written, loading its files one by one.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::http::HeaderValue;
use base64::Engine;

use super::bundle::bundle;
use super::{Asset, CONTENT_SECURITY_POLICY};
use crate::app_settings::AppSettings;

const STYLESHEET: &str = r#"<link rel="stylesheet" href="app.css">"#;
const EARLY: &str = r#"<script src="js/early.js"></script>"#;
const PRELOAD: &str = r#"<link rel="modulepreload" href="js/main.js">"#;
const SCRIPT: &str = r#"<script type="module" src="js/main.js"></script>"#;

/// The page for `settings`.
pub(super) fn assemble(files: &BTreeMap<String, String>, settings: &AppSettings) -> Asset {
    let plain_policy = HeaderValue::from_static(CONTENT_SECURITY_POLICY);
    let Some(html) = files.get("index.html") else {
        return Asset::new("index.html", Cow::Borrowed(b""), plain_policy);
    };
    match inline(files, html, settings) {
        Ok((page, policy)) => Asset::new("index.html", Cow::Owned(page.into_bytes()), policy),
        Err(reason) => {
            tracing::error!(%reason, "the Mini App's page is served unbundled");
            Asset::new(
                "index.html",
                Cow::Owned(html.clone().into_bytes()),
                plain_policy,
            )
        }
    }
}

fn inline(
    files: &BTreeMap<String, String>,
    html: &str,
    settings: &AppSettings,
) -> Result<(String, HeaderValue), String> {
    let css = files
        .get("app.css")
        .ok_or("no app.css")?
        .replace("</style", "<\\/style");
    let script = bundle(files, "js/main.js").map_err(|error| error.to_string())?;
    let early = files
        .get("js/early.js")
        .ok_or("no js/early.js")?
        .replace("</script", "<\\/script");
    let json = serde_json::to_string(settings)
        .map_err(|error| error.to_string())?
        .replace("</", "<\\/");
    for tag in [STYLESHEET, EARLY, PRELOAD, SCRIPT] {
        if !html.contains(tag) {
            return Err(format!("index.html lacks {tag}"));
        }
    }
    let page = html
        .replace(STYLESHEET, &format!("<style>{css}</style>"))
        .replace(EARLY, &format!("<script>{early}</script>"))
        .replace(PRELOAD, "")
        .replace(
            SCRIPT,
            &format!(
                "<script type=\"application/json\" id=\"ledgerbot-settings\">{json}</script>\n\
                 <script type=\"module\">{script}</script>"
            ),
        );
    let policy = CONTENT_SECURITY_POLICY
        .replace(
            "script-src 'self'",
            &format!(
                "script-src 'self' 'sha256-{}' 'sha256-{}'",
                digest(&early),
                digest(&script)
            ),
        )
        .replace(
            "style-src 'self'",
            &format!("style-src 'self' 'sha256-{}'", digest(&css)),
        );
    let policy = HeaderValue::from_str(&policy).map_err(|error| error.to_string())?;
    Ok((page, policy))
}

/// Base64 of the SHA-256 of `text`, as a CSP source wants it.
fn digest(text: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_app_joins_into_one_page() {
        let settings = AppSettings {
            sections: vec!["shop".to_owned()],
            bot_username: Some("a</script>b".to_owned()),
            salon_utc_offset: "+03:00".to_owned(),
        };
        let page = assemble(&super::super::FILES_BY_PATH, &settings);
        let html = std::str::from_utf8(&page.plain).expect("text");
        assert!(html.contains("<style>"), "the stylesheet is inline");
        assert!(
            !html.contains("src=\"js/main.js\""),
            "no module is loaded by URL"
        );
        assert!(
            html.contains(r#""bot_username":"a<\/script>b""#),
            "settings cannot close their element"
        );
        let policy = page.policy.to_str().expect("ASCII");
        assert!(policy.contains("script-src 'self' 'sha256-"), "{policy}");
        assert!(policy.contains("style-src 'self' 'sha256-"), "{policy}");
        let early = html.split("<script>").nth(1).unwrap_or_default();
        assert!(
            early.contains("ledgerbotEarlySignIn"),
            "the first script is inline"
        );
        assert!(
            !html.contains("src=\"js/early.js\""),
            "and not loaded by URL"
        );
        for module in super::super::FILES_BY_PATH
            .keys()
            .filter(|p| p.ends_with(".js") && *p != "js/early.js")
        {
            let name = module.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            assert!(
                html.contains(&format!("const __module_{name} =")),
                "{module} is in the page"
            );
        }
    }
}
