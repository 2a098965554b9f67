//! The Mini App's files at `/app/`: compiled into the binary from `api/app/`, so the
//! app needs no CDN and no files beside the binary. Each file is served gzipped to
//! clients that take it (compressed once, on first use), with an ETag so a client
//! that has it gets 304, and a Content-Security-Policy that lets the page talk only
//! to this server (and open Telegram's and YooKassa's pages by link).

use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

/// Where the app is served.
pub const APP_PATH: &str = "/app";

static FILES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/app");

/// The policy for every file: scripts, styles and connections to this origin only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-ancestors https://web.telegram.org \
     https://*.telegram.org 'self'; base-uri 'none'; form-action 'self'";

/// One file, ready to send.
struct Asset {
    content_type: &'static str,
    plain: &'static [u8],
    gzipped: Vec<u8>,
    etag: HeaderValue,
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
        let plain = file.contents();
        let digest = ring::digest::digest(&ring::digest::SHA256, plain);
        let etag = format!("\"{}\"", hex::encode(&digest.as_ref()[..12]));
        assets.insert(
            path,
            Asset {
                content_type: content_type(path),
                plain,
                gzipped: gzip(plain),
                etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
            },
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

/// `/app` (redirected to `/app/`), `/app/` (the page) and `/app/<file>`.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(APP_PATH, get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(|headers: HeaderMap| async move { serve("index.html", &headers) }))
        .route(
            "/app/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move { serve(&path, &headers) }),
        )
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.get(path) else {
        return crate::http::error::ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("the app has no file {path}"),
        )
        .into_response();
    };
    let common = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        // Revalidate every time: file names carry no version, the ETag does.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, asset.etag.clone()),
        (header::VARY, HeaderValue::from_static("Accept-Encoding")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
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
        (common, asset.plain).into_response()
    }
}
