//! Files: uploads checked by their bytes, kept on disk by content hash, scanned when a
//! scanner is configured, photos stripped of metadata and given a preview; attached to
//! what they belong to; erased when their purpose's retention ends. `stored_files`
//! is this use case's table; `projections::read_models::files` reads it for whoever
//! may see a file.

mod attach;
mod erasure;
mod links;
mod upload;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::command::{CommandError, ErrorKind};
use crate::files::{FilePolicy, FilePurpose, FileStore, VirusScanner};

pub use attach::{AttachedTo, MAX_ATTACHED};
pub use erasure::Erased;
pub use links::{FileLink, LinkSigner};
pub use upload::{ChunkFuture, ChunkSource, InMemory, Upload};

/// The files' services: where bytes go, the rules, the scanner (if any), and the
/// secret signed links are made with.
#[derive(Clone)]
pub struct Files {
    pub store: FileStore,
    pub policy: FilePolicy,
    scanner: Option<Arc<dyn VirusScanner>>,
    images: crate::files::workers::ImageWorkers,
    pub links: LinkSigner,
    /// The public address signed links start with (`https://example.com`).
    public_url: String,
}

impl Files {
    /// `image_workers`: how many photos are decoded at once (each holds its pixels in
    /// memory, so this, not the number of uploads, bounds the memory they take).
    pub fn new(
        store: FileStore,
        policy: FilePolicy,
        scanner: Option<Arc<dyn VirusScanner>>,
        image_workers: usize,
        links: LinkSigner,
        public_url: &str,
    ) -> Self {
        Self {
            store,
            policy,
            scanner,
            images: crate::files::workers::ImageWorkers::start(image_workers),
            links,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// A link that opens file `file_id` without a sign-in until it runs out (for a
    /// provider that fetches inputs by URL).
    pub fn signed_url(
        &self,
        file_id: Uuid,
        now: DateTime<Utc>,
        valid_for: chrono::Duration,
    ) -> String {
        let link = self.links.sign(file_id, now, valid_for);
        format!(
            "{}/api/v1/files/{}/link?expires={}&signature={}",
            self.public_url, link.file_id, link.expires, link.signature
        )
    }

    pub fn public_url(&self) -> String {
        self.public_url.clone()
    }

    pub fn scans(&self) -> bool {
        self.scanner.is_some()
    }
}

/// A file as its owner and those it is shared with see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredFile {
    pub file_id: Uuid,
    pub owner_id: Uuid,
    pub purpose: FilePurpose,
    /// The type the bytes showed (`image/png`, `application/pdf` …).
    pub content_type: String,
    pub size_bytes: i64,
    /// The name it was uploaded with (shown, never trusted for the type).
    pub name: Option<String>,
    pub has_preview: bool,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub uploaded_at: DateTime<Utc>,
    /// When it is erased by its purpose's retention, if it is.
    pub erase_after: Option<DateTime<Utc>>,
}

/// Why a file was not taken or cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file is larger than {limit} bytes, the most a {purpose} file may have")]
    TooLarge { purpose: FilePurpose, limit: u64 },
    #[error("a {purpose} file must be one of: {allowed}")]
    TypeNotAllowed {
        purpose: FilePurpose,
        allowed: String,
    },
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    UnreadableImage(String),
    #[error("the file was refused by the virus scanner ({0})")]
    Infected(String),
    #[error("no such file")]
    NotFound,
    #[error("the file was erased")]
    Erased,
    #[error("the upload could not be read: {0}")]
    Upload(String),
    #[error("files cannot be stored right now: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Refused(#[from] CommandError),
}

impl FileError {
    /// A stable code for entry points.
    pub fn code(&self) -> &'static str {
        match self {
            FileError::TooLarge { .. } => "file_too_large",
            FileError::TypeNotAllowed { .. } => "file_type_not_allowed",
            FileError::Empty => "file_empty",
            FileError::UnreadableImage(_) => "image_unreadable",
            FileError::Infected(_) => "file_infected",
            FileError::NotFound => "not_found",
            FileError::Erased => "file_erased",
            FileError::Upload(_) => "upload_broken",
            FileError::Unavailable(_) => "unavailable",
            FileError::Refused(error) => error.code.unwrap_or("refused"),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            FileError::TooLarge { .. }
            | FileError::TypeNotAllowed { .. }
            | FileError::Empty
            | FileError::UnreadableImage(_)
            | FileError::Infected(_)
            | FileError::Upload(_) => ErrorKind::InvalidInput,
            FileError::NotFound | FileError::Erased => ErrorKind::NotFound,
            FileError::Unavailable(_) => ErrorKind::Unavailable,
            FileError::Refused(error) => error.kind,
        }
    }
}

impl From<sqlx::Error> for FileError {
    fn from(error: sqlx::Error) -> Self {
        FileError::Refused(CommandError::from(error))
    }
}

impl From<std::io::Error> for FileError {
    fn from(error: std::io::Error) -> Self {
        tracing::error!(%error, "the file store failed");
        FileError::Unavailable("the file store failed".into())
    }
}
