//! The Mini App at `/app/`: compiled into the binary from `api/app/`, so it needs no
//! CDN and no files beside the binary. `/app/` is the page with everything the first
//! screen needs in it: the stylesheet, the deployment's settings and every module
//! joined into one script ([`bundle`]), so a phone gets it in one response. The
//! files themselves are served too (`/app/js/main.js` …; the page works from them
//! alone). Everything goes gzipped to clients that take it (compressed once), with
//! an ETag so a client that has it gets 304, and a Content-Security-Policy that
//! lets the page run only its own code and talk only to this server.

mod bundle;
mod page;

use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

use crate::app_settings::AppSettings;

/// Where the app is served.
pub const APP_PATH: &str = "/app";

static FILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/app");

/// The policy for every file: scripts, styles and connections to this origin only
/// (the page adds the hashes of its own inline script and style).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'self' https://web.telegram.org; \
     base-uri 'none'; form-action 'self'";

/// One file, ready to send.
struct Asset {
    content_type: &'static str,
    plain: std::borrow::Cow<'static, [u8]>,
    gzipped: Vec<u8>,
    etag: HeaderValue,
    policy: HeaderValue,
}

impl Asset {
    fn new(path: &str, plain: std::borrow::Cow<'static, [u8]>, policy: HeaderValue) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, &plain);
        let etag = format!("\"{}\"", hex::encode(&digest.as_ref()[..12]));
        Asset {
            content_type: content_type(path),
            gzipped: gzip(&plain),
            plain,
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
            policy,
        }
    }
}

static ASSETS: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    let mut assets = HashMap::new();
    collect(&FILES, &mut assets);
    assets
});

fn collect(dir: &'static Dir<'static>, assets: &mut HashMap<&'static str, Asset>) {
    for file in dir.files() {
        let Some(path) = file.path().to_str() else {
            continue;
        };
        let policy = HeaderValue::from_static(CONTENT_SECURITY_POLICY);
        assets.insert(
            path,
            Asset::new(path, std::borrow::Cow::Borrowed(file.contents()), policy),
        );
    }
    for sub in dir.dirs() {
        collect(sub, assets);
    }
}

fn gzip(plain: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(plain);
    encoder.finish().unwrap_or_default()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// `/app` (redirected to `/app/`), `/app/` (the page, with `settings` in it) and
/// `/app/<file>`.
pub fn routes<S>(settings: &AppSettings) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let page = std::sync::Arc::new(page::assemble(&FILES_BY_PATH, settings));
    Router::new()
        .route(APP_PATH, get(|| async { Redirect::permanent("/app/") }))
        .route(
            "/app/",
            get(move |headers: HeaderMap| {
                let page = std::sync::Arc::clone(&page);
                async move { send(&page, &headers) }
            }),
        )
        .route(
            "/app/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move { serve(&path, &headers) }),
        )
}

/// Every file's text by path, for the page and the bundle.
static FILES_BY_PATH: LazyLock<std::collections::BTreeMap<String, String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .filter_map(|(path, asset)| {
            std::str::from_utf8(&asset.plain)
                .ok()
                .map(|text| ((*path).to_owned(), text.to_owned()))
        })
        .collect()
});

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.get(path) else {
        return crate::http::error::ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("the app has no file {path}"),
        )
        .into_response();
    };
    send(asset, headers)
}

fn send(asset: &Asset, headers: &HeaderMap) -> Response {
    let common = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        // Revalidate every time: file names carry no version, the ETag does.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, asset.etag.clone()),
        (header::VARY, HeaderValue::from_static("Accept-Encoding")),
        (header::CONTENT_SECURITY_POLICY, asset.policy.clone()),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| tags.as_bytes() == asset.etag.as_bytes());
    if unchanged {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let takes_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|coding| coding.split(';').next().is_some_and(|c| c.trim() == "gzip"))
        });
    if takes_gzip && !asset.gzipped.is_empty() {
        (
            common,
            [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
            asset.gzipped.clone(),
        )
            .into_response()
    } else {
        (common, asset.plain.to_vec()).into_response()
    }
}
