//! Reading files (`stored_files`, the files use case's table): a file's bytes for
//! whoever may see it, its preview, the bytes behind a signed link, and the files
//! of an order. A file is its owner's and, once attached, also whoever's may see
//! what it is attached to (a ticket's parties, a note's staff, an order's people by
//! the domain's rule); a stranger is told there is no such file (404), never that
//! it exists.

use chrono::{DateTime, Utc};
use domain::command::{CommandError, ErrorKind};
use domain::files::{FilePurpose, FileStore};
use domain::permissions::Caller;
use domain::use_cases::files::{AttachedTo, FileLink, LinkSigner, StoredFile};
use uuid::Uuid;

/// Which bytes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Preview,
}

/// A file's description with its bytes opened for reading.
#[derive(Debug)]
pub struct FileContent {
    pub file: StoredFile,
    /// The MIME type of these bytes (a preview is a JPEG).
    pub content_type: String,
    pub size: u64,
    pub bytes: tokio::fs::File,
}

#[derive(sqlx::FromRow)]
struct Row {
    file_id: Uuid,
    owner_id: Uuid,
    purpose: String,
    content_type: Option<String>,
    size_bytes: Option<i64>,
    sha256: Option<String>,
    original_name: Option<String>,
    preview_sha256: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    uploaded_at: DateTime<Utc>,
    erase_after: Option<DateTime<Utc>>,
    erased_at: Option<DateTime<Utc>>,
    attached_kind: Option<String>,
    attached_id: Option<String>,
}

const COLUMNS: &str = "file_id, owner_id, purpose, content_type, size_bytes, sha256, original_name, \
                       preview_sha256, width, height, uploaded_at, erase_after, erased_at, \
                       attached_kind, attached_id";

/// The most files one order can have: a brief's 20 and 20 for each of up to 11
/// results (the first and ten revisions), with room to spare.
const MOST_ORDER_FILES: i64 = 500;

fn no_such_file() -> CommandError {
    CommandError::not_found("no such file")
}

impl Row {
    fn described(&self) -> Result<StoredFile, CommandError> {
        let purpose = self.purpose.parse::<FilePurpose>().map_err(|_| {
            CommandError::new(ErrorKind::Internal, "a stored file has an unknown purpose")
        })?;
        Ok(StoredFile {
            file_id: self.file_id,
            owner_id: self.owner_id,
            purpose,
            content_type: self.content_type.clone().unwrap_or_default(),
            size_bytes: self.size_bytes.unwrap_or(0),
            name: self.original_name.clone(),
            has_preview: self.preview_sha256.is_some(),
            width: self.width,
            height: self.height,
            uploaded_at: self.uploaded_at,
            erase_after: self.erase_after,
        })
    }
}

impl crate::ReadModels {
    async fn file_row(&self, file_id: Uuid) -> Result<Option<Row>, CommandError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM stored_files WHERE file_id = $1"
        ))
        .bind(file_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The files attached to order `order_id` (its brief's materials and its results,
    /// oldest first, erased ones too so the order's history still names them);
    /// `None` when there is no such order or `viewer` may not see it.
    pub async fn order_files(
        &self,
        viewer: Caller,
        order_id: Uuid,
    ) -> Result<Option<Vec<StoredFile>>, CommandError> {
        let id = order_id.to_string();
        if !self
            .order_parties(&id)
            .await?
            .is_some_and(|parties| parties.visible_to(viewer))
        {
            return Ok(None);
        }
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM stored_files WHERE attached_kind = $1 AND attached_id = $2 \
             ORDER BY uploaded_at, file_id LIMIT $3"
        ))
        .bind(AttachedTo::Order.as_str())
        .bind(&id)
        .bind(MOST_ORDER_FILES)
        .fetch_all(self.pool())
        .await?;
        let files = rows
            .iter()
            .map(Row::described)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(files))
    }

    /// File `file_id` as `viewer` may see it.
    pub async fn file(&self, viewer: Caller, file_id: Uuid) -> Result<StoredFile, CommandError> {
        let row = self.visible_row(viewer, file_id).await?;
        row.described()
    }

    /// The bytes of file `file_id` (or its preview) for `viewer`.
    pub async fn file_content(
        &self,
        viewer: Caller,
        file_id: Uuid,
        variant: Variant,
        store: &FileStore,
    ) -> Result<FileContent, CommandError> {
        let row = self.visible_row(viewer, file_id).await?;
        open(row, variant, store).await
    }

    /// The bytes behind a signed link, while it opens.
    pub async fn linked_file_content(
        &self,
        links: &LinkSigner,
        link: &FileLink,
        now: DateTime<Utc>,
        store: &FileStore,
    ) -> Result<FileContent, CommandError> {
        if !links.verify(link, now) {
            return Err(
                CommandError::forbidden("the link is not valid or has run out")
                    .with_code("link_invalid"),
            );
        }
        let row = self
            .file_row(link.file_id)
            .await?
            .ok_or_else(no_such_file)?;
        open(row, Variant::Original, store).await
    }

    /// The row when `viewer` may see the file: its owner, or whoever may see what it
    /// is attached to (a ticket's message: the ticket's parties; a note: its staff;
    /// an order: its people, the desk, and executors the pool offers it to).
    async fn visible_row(&self, viewer: Caller, file_id: Uuid) -> Result<Row, CommandError> {
        let row = self.file_row(file_id).await?.ok_or_else(no_such_file)?;
        if row.owner_id == viewer.user_id {
            return Ok(row);
        }
        let visible = match (row.attached_kind.as_deref(), row.attached_id.as_deref()) {
            (Some(kind @ ("ticket" | "ticket_note")), Some(ticket_id)) => self
                .ticket_parties(ticket_id)
                .await?
                .is_some_and(|parties| {
                    parties.visible_to(viewer)
                        && (kind == "ticket" || parties.shows_internal_notes(viewer))
                }),
            (Some("order"), Some(order_id)) => self
                .order_parties(order_id)
                .await?
                .is_some_and(|parties| parties.visible_to(viewer)),
            _ => false,
        };
        if visible {
            Ok(row)
        } else {
            Err(no_such_file())
        }
    }
}

async fn open(row: Row, variant: Variant, store: &FileStore) -> Result<FileContent, CommandError> {
    if row.erased_at.is_some() {
        return Err(
            CommandError::new(ErrorKind::NotFound, "the file was erased").with_code("file_erased"),
        );
    }
    let (sha256, content_type) = match variant {
        Variant::Original => (
            row.sha256.clone(),
            row.content_type.clone().unwrap_or_default(),
        ),
        Variant::Preview => (row.preview_sha256.clone(), "image/jpeg".to_owned()),
    };
    let sha256 = sha256.ok_or_else(|| CommandError::not_found("this file has no preview"))?;
    let bytes = store.open(&sha256).await.map_err(|error| {
        tracing::error!(%error, file_id = %row.file_id, "a stored file's bytes are missing");
        CommandError::unavailable("the file cannot be read right now")
    })?;
    let size = bytes
        .metadata()
        .await
        .map(|metadata| metadata.len())
        .map_err(|_| CommandError::unavailable("the file cannot be read right now"))?;
    Ok(FileContent {
        file: row.described()?,
        content_type,
        size,
        bytes,
    })
}
