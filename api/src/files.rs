//! `/api/v1/files`: uploads (multipart, streamed to the store, never whole in
//! memory; typed by their bytes), a file's bytes and its preview for whoever may see
//! it, and the signed links outside services fetch inputs by.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::files::FilePurpose;
use domain::use_cases::files::{ChunkFuture, ChunkSource, FileError, FileLink, StoredFile, Upload};
use projections::read_models::files::{FileContent, Variant};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// What the file is for: `generation_input`, `ticket`, `coursework` or `salon`.
    pub purpose: String,
}

/// The multipart body: one part named `file` (its filename is kept as the name).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `POST /api/v1/files?purpose=`
#[utoipa::path(
    post,
    path = "/files",
    tag = "files",
    operation_id = "files_upload",
    summary = "Upload a file (multipart/form-data, part `file`)",
    description = "The type is decided from the bytes, never from the name or the declared \
                   type. Each purpose takes its own types and sizes (configuration); photos \
                   lose their EXIF/XMP metadata and get a preview.",
    security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The file was stored", body = StoredFile),
        (status = 413, description = "Larger than the purpose allows", body = ErrorBody),
        (status = 415, description = "A type the purpose does not take, or not multipart", body = ErrorBody),
        (status = 422, description = "Empty, unreadable, infected, or a bad purpose", body = ErrorBody),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<UploadQuery>,
    request: Request,
) -> Result<(StatusCode, Json<StoredFile>), ApiError> {
    let purpose: FilePurpose = query
        .purpose
        .parse()
        .ok()
        .filter(|purpose: &FilePurpose| purpose.is_uploadable())
        .ok_or_else(|| {
            ApiError::invalid_field(
                "purpose",
                "one of generation_input, ticket, coursework, salon",
            )
        })?;
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| multer::parse_boundary(value).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "multipart_expected",
                "send the file as multipart/form-data with a part named `file`",
            )
        })?;
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let mut form = multer::Multipart::new(request.into_body().into_data_stream(), boundary);
    let mut other_parts: usize = 0;
    loop {
        let mut field = form.next_field().await.map_err(broken)?.ok_or_else(|| {
            ApiError::invalid_field("file", "a part named `file` with the file's bytes")
        })?;
        if field.name() != Some("file") {
            // Other parts are read past, but only so much of them.
            while let Some(chunk) = field.chunk().await.map_err(broken)? {
                other_parts += chunk.len();
                if other_parts > OTHER_PARTS_LIMIT {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "send only the part named `file`",
                    ));
                }
            }
            continue;
        }
        let upload = Upload {
            purpose,
            name: field.file_name().map(str::to_owned),
            // The body is the file plus multipart framing and at most so much else.
            announced_size: announced
                .map(|length| length.saturating_sub((OTHER_PARTS_LIMIT + 4096) as u64)),
        };
        let mut source = Part(field);
        let stored = state
            .core
            .upload_file(caller.caller(), upload, &mut source, Utc::now())
            .await
            .map_err(file_error)?;
        return Ok((StatusCode::CREATED, Json(stored)));
    }
}

/// How much the parts other than `file` may hold together.
const OTHER_PARTS_LIMIT: usize = 64 * 1024;

struct Part<'a>(multer::Field<'a>);

impl ChunkSource for Part<'_> {
    fn next_chunk(&mut self) -> ChunkFuture<'_> {
        Box::pin(async move { self.0.chunk().await.map_err(std::io::Error::other) })
    }
}

fn broken(error: multer::Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed_multipart",
        format!("the multipart body cannot be read: {error}"),
    )
}

/// A files use case's refusal as an answer.
pub fn file_error(error: FileError) -> ApiError {
    let status = match &error {
        FileError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        FileError::TypeNotAllowed { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        FileError::Empty
        | FileError::UnreadableImage(_)
        | FileError::Infected(_)
        | FileError::Upload(_) => StatusCode::UNPROCESSABLE_ENTITY,
        FileError::NotFound | FileError::Erased => StatusCode::NOT_FOUND,
        FileError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        FileError::Refused(refused) => return ApiError::from(refused.clone()),
    };
    let details = match &error {
        FileError::TooLarge { limit, .. } => json!({"field": "file", "limit_bytes": limit}),
        FileError::TypeNotAllowed { .. }
        | FileError::Empty
        | FileError::UnreadableImage(_)
        | FileError::Infected(_) => {
            json!({"field": "file"})
        }
        _ => serde_json::Value::Null,
    };
    ApiError::new(status, error.code(), error.to_string()).with_details(details)
}

/// `GET /api/v1/files/{file_id}`
#[utoipa::path(
    get,
    path = "/files/{file_id}",
    tag = "files",
    operation_id = "files_get",
    summary = "A file's bytes (its owner's; anyone else is told there is no such file)",
    security(("bearer" = [])),
    params(("file_id" = Uuid, Path, description = "The file")),
    responses(
        (status = 200, description = "The bytes, with the type they showed", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such file, or erased (`file_erased`)", body = ErrorBody),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(file_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let content = state
        .reads
        .file_content(
            caller.caller(),
            file_id,
            Variant::Original,
            &state.core.files.store,
        )
        .await?;
    Ok(served(content, true))
}

/// An order's files.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(as = OrderFiles)]
pub struct OrderFiles {
    /// The brief's materials and the results' files, oldest first (an erased one
    /// stays listed; its bytes answer 404 `file_erased`).
    pub files: Vec<StoredFile>,
}

/// `GET /api/v1/orders/{order_id}/files`
#[utoipa::path(
    get,
    path = "/orders/{order_id}/files",
    tag = "files",
    operation_id = "orders_files",
    summary = "The files of an order: its brief's materials and its results",
    description = "Whoever may see the order (its customer, its executor, the desk, and \
                   executors the pool offers it to) lists them and reads each with \
                   `GET /api/v1/files/{file_id}`.",
    security(("bearer" = [])),
    params(("order_id" = Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The order's files", body = OrderFiles),
        (status = 404, description = "No such order, or not one the caller may see", body = ErrorBody),
    )
)]
pub async fn order_files(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(order_id): ApiPath<Uuid>,
) -> Result<Json<OrderFiles>, ApiError> {
    let files = state
        .reads
        .order_files(caller.caller(), order_id)
        .await?
        .ok_or_else(|| crate::http::error::not_found("order"))?;
    Ok(Json(OrderFiles { files }))
}

/// `GET /api/v1/files/{file_id}/preview`
#[utoipa::path(
    get,
    path = "/files/{file_id}/preview",
    tag = "files",
    operation_id = "files_preview",
    summary = "A photo's preview (JPEG, at most 320 px, no metadata)",
    security(("bearer" = [])),
    params(("file_id" = Uuid, Path, description = "The file")),
    responses(
        (status = 200, description = "The preview", content_type = "image/jpeg", body = Vec<u8>),
        (status = 404, description = "No such file, or it has no preview", body = ErrorBody),
    )
)]
pub async fn preview(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(file_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let content = state
        .reads
        .file_content(
            caller.caller(),
            file_id,
            Variant::Preview,
            &state.core.files.store,
        )
        .await?;
    Ok(served(content, false))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LinkQuery {
    /// Unix seconds after which the link no longer opens.
    pub expires: i64,
    pub signature: String,
}

/// `GET /api/v1/files/{file_id}/link?expires=&signature=`
#[utoipa::path(
    get,
    path = "/files/{file_id}/link",
    tag = "files",
    operation_id = "files_signed_link",
    summary = "A file by a signed link (how the image provider fetches input photos)",
    params(("file_id" = Uuid, Path, description = "The file"), LinkQuery),
    responses(
        (status = 200, description = "The bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, description = "The link is not valid or has run out (`link_invalid`)", body = ErrorBody),
        (status = 404, description = "No such file, or erased", body = ErrorBody),
    )
)]
pub async fn linked(
    State(state): State<AppState>,
    ApiPath(file_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<LinkQuery>,
) -> Result<Response, ApiError> {
    let link = FileLink {
        file_id,
        expires: query.expires,
        signature: query.signature,
    };
    let content = state
        .reads
        .linked_file_content(
            &state.core.files.links,
            &link,
            Utc::now(),
            &state.core.files.store,
        )
        .await?;
    Ok(served(content, false))
}

/// The bytes as an answer: their type, no sniffing, private caching, and a download
/// name for documents.
fn served(content: FileContent, as_download: bool) -> Response {
    let mut response =
        Body::from_stream(tokio_util::io::ReaderStream::new(content.bytes)).into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&content.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(content.size));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if as_download && !content.content_type.starts_with("image/") {
        let name = content.file.name.as_deref().unwrap_or("file");
        headers.insert(header::CONTENT_DISPOSITION, disposition(name));
    }
    response
}

/// `attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266 / 5987).
fn disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b".-_".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}
