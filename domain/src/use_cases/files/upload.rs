//! Taking an upload: streamed to a temporary file (never whole in memory), its type
//! decided from its first bytes, refused as soon as it passes its type's limit,
//! scanned, a photo stripped of its metadata and given a preview, then kept by its
//! hash and recorded.

use std::future::Future;
use std::io;
use std::pin::Pin;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{FileError, StoredFile};
use crate::files::images::{self, Preview};
use crate::files::store::{TempFile, Written, sha256_hex};
use crate::files::{FilePurpose, FileType, ScanVerdict};
use crate::permissions::{Action, Caller};
use crate::use_cases::Core;

/// How many first bytes decide the type (Office files are told apart by their ZIP
/// entries, which come first).
const SNIFF_BYTES: usize = 256 * 1024;
/// The longest name kept.
const NAME_CHARS: usize = 200;

/// Where an upload's bytes come from (an HTTP body's part, a file downloaded from
/// Telegram), a chunk at a time.
pub trait ChunkSource: Send {
    fn next_chunk(&mut self) -> ChunkFuture<'_>;
}

pub type ChunkFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Bytes>, io::Error>> + Send + 'a>>;

/// Bytes already in memory as a source (small files the product makes, tests).
pub struct InMemory(pub Option<Bytes>);

impl ChunkSource for InMemory {
    fn next_chunk(&mut self) -> ChunkFuture<'_> {
        let chunk = self.0.take();
        Box::pin(async move { Ok(chunk) })
    }
}

/// One upload's request: what it is for and the name it came with.
#[derive(Debug, Clone)]
pub struct Upload {
    pub purpose: FilePurpose,
    pub name: Option<String>,
    /// The size the sender announced, if it did: refused at once when too large.
    pub announced_size: Option<u64>,
}

impl Core {
    /// Takes the file `source` yields for `caller`.
    pub async fn upload_file(
        &self,
        caller: Caller,
        upload: Upload,
        source: &mut dyn ChunkSource,
        now: DateTime<Utc>,
    ) -> Result<StoredFile, FileError> {
        caller.require(Action::UploadFile)?;
        self.take_file(caller.user_id, upload, source, now).await
    }

    /// Takes a file the product itself made for `owner` (a generated image).
    pub(crate) async fn take_file(
        &self,
        owner: Uuid,
        upload: Upload,
        source: &mut dyn ChunkSource,
        now: DateTime<Utc>,
    ) -> Result<StoredFile, FileError> {
        let files = &self.files;
        let purpose = upload.purpose;
        let rules = files
            .policy
            .rules(purpose)
            .ok_or_else(|| FileError::TypeNotAllowed {
                purpose,
                allowed: "nothing (this purpose takes no files)".into(),
            })?;
        let largest = rules.largest();
        if upload.announced_size.is_some_and(|size| size > largest) {
            return Err(FileError::TooLarge {
                purpose,
                limit: largest,
            });
        }
        let mut temp = files.store.temporary().await?;
        let received = receive(&mut temp, source, purpose, &rules.limits).await;
        let kind = match received {
            Ok(kind) => kind,
            Err(error) => {
                temp.discard().await;
                return Err(error);
            }
        };
        let written = temp.finish().await?;
        match self.accept(owner, &upload, kind, written, now).await {
            Ok(stored) => Ok(stored),
            Err((error, path)) => {
                if let Err(error) = crate::files::store::remove_if_present(&path).await {
                    tracing::warn!(%error, "a refused upload's temporary file stayed");
                }
                Err(error)
            }
        }
    }

    async fn accept(
        &self,
        owner: Uuid,
        upload: &Upload,
        kind: FileType,
        mut written: Written,
        now: DateTime<Utc>,
    ) -> Result<StoredFile, (FileError, std::path::PathBuf)> {
        let files = &self.files;
        let path = written.path.clone();
        let fail = |error: FileError| (error, path.clone());
        if let Some(scanner) = &files.scanner {
            match scanner.scan(&written.path).await {
                Ok(ScanVerdict::Clean) => {}
                Ok(ScanVerdict::Infected(name)) => {
                    tracing::warn!(%owner, signature = %name, "an upload was refused as infected");
                    return Err(fail(FileError::Infected(name)));
                }
                Err(error) => {
                    tracing::warn!(%error, "the virus scanner failed");
                    return Err(fail(FileError::Unavailable(
                        "the virus scanner cannot be reached; try again in a moment".into(),
                    )));
                }
            }
        }
        let preview = if kind.is_image() {
            let photo = written.path.clone();
            let prepared = files
                .images
                .run(move || prepare_photo(&photo, kind))
                .await
                .map_err(|error| fail(FileError::Unavailable(error.to_string())))?;
            let (preview, cleaned) = prepared.map_err(fail)?;
            if let Some((sha256, size)) = cleaned {
                written.sha256 = sha256;
                written.size = size;
            }
            Some(preview)
        } else {
            None
        };
        let preview_sha256 = match &preview {
            Some(preview) => Some(
                files
                    .store
                    .keep_bytes(&preview.jpeg)
                    .await
                    .map_err(|error| fail(error.into()))?,
            ),
            None => None,
        };
        let name = upload
            .name
            .as_deref()
            .map(clean_name)
            .filter(|name| !name.is_empty());
        let keep_for = files
            .policy
            .rules(upload.purpose)
            .and_then(|rules| rules.keep_for);
        let stored = StoredFile {
            // The same id when a bot update is handled again (`once_under`): the
            // repeat finds the file instead of making a second.
            file_id: crate::command::new_id(),
            owner_id: owner,
            purpose: upload.purpose,
            content_type: kind.mime().to_owned(),
            size_bytes: i64::try_from(written.size).unwrap_or(i64::MAX),
            name,
            has_preview: preview.is_some(),
            width: preview.as_ref().and_then(|p| i32::try_from(p.width).ok()),
            height: preview.as_ref().and_then(|p| i32::try_from(p.height).ok()),
            uploaded_at: now,
            erase_after: keep_for.map(|keep_for| now + keep_for),
        };
        if let Err(error) = self
            .record(&stored, &written, preview_sha256.as_deref())
            .await
        {
            // The bytes may be in place with no row: remove what no file has.
            let hashes: Vec<String> = std::iter::once(written.sha256.clone())
                .chain(preview_sha256)
                .collect();
            if let Err(cleanup) = self.remove_unreferenced(&hashes).await {
                tracing::warn!(%cleanup, "a failed upload's bytes stayed on disk");
            }
            return Err(fail(error));
        }
        Ok(stored)
    }

    /// Moves the bytes into place and writes the row, under the content's lock, so an
    /// erasure of the same content running meanwhile never removes bytes a new row
    /// needs.
    async fn record(
        &self,
        stored: &StoredFile,
        written: &Written,
        preview_sha256: Option<&str>,
    ) -> Result<(), FileError> {
        let mut transaction = self.pool().begin().await?;
        for sha256 in std::iter::once(written.sha256.as_str()).chain(preview_sha256) {
            super::erasure::lock_content(&mut transaction, sha256).await?;
        }
        self.files
            .store
            .keep(&written.path, &written.sha256)
            .await?;
        if let Some(preview) = preview_sha256 {
            // Written earlier outside the lock: make sure an erasure did not take it.
            if !tokio::fs::try_exists(self.files.store.path_of(preview)).await? {
                return Err(FileError::Unavailable(
                    "the preview was lost; upload again".into(),
                ));
            }
        }
        sqlx::query(
            "INSERT INTO stored_files (file_id, owner_id, purpose, content_type, size_bytes, \
                 sha256, original_name, preview_sha256, width, height, uploaded_at, erase_after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (file_id) DO NOTHING",
        )
        .bind(stored.file_id)
        .bind(stored.owner_id)
        .bind(stored.purpose.as_str())
        .bind(&stored.content_type)
        .bind(stored.size_bytes)
        .bind(&written.sha256)
        .bind(&stored.name)
        .bind(preview_sha256)
        .bind(stored.width)
        .bind(stored.height)
        .bind(stored.uploaded_at)
        .bind(stored.erase_after)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }
}

/// Writes `source` into `temp`, deciding the type once the first [`SNIFF_BYTES`] (or
/// the whole file, if smaller) are in, and stopping as soon as the type's limit is
/// passed.
async fn receive(
    temp: &mut TempFile,
    source: &mut dyn ChunkSource,
    purpose: FilePurpose,
    limits: &std::collections::BTreeMap<FileType, u64>,
) -> Result<FileType, FileError> {
    let largest = limits.values().copied().max().unwrap_or(0);
    let mut head: Vec<u8> = Vec::new();
    let mut kind: Option<FileType> = None;
    let decide = |head: &[u8]| -> Result<FileType, FileError> {
        FileType::sniff(head)
            .filter(|kind| limits.contains_key(kind))
            .ok_or_else(|| FileError::TypeNotAllowed {
                purpose,
                allowed: limits
                    .keys()
                    .map(|kind| kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    };
    while let Some(chunk) = source
        .next_chunk()
        .await
        .map_err(|error| FileError::Upload(error.to_string()))?
    {
        let limit = kind.map_or(largest, |kind| limits[&kind]);
        if temp.size + chunk.len() as u64 > limit {
            return Err(FileError::TooLarge { purpose, limit });
        }
        if kind.is_none() {
            let wanted = SNIFF_BYTES.saturating_sub(head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..wanted]);
            if head.len() >= SNIFF_BYTES {
                kind = Some(decide(&head)?);
            }
        }
        temp.write(&chunk).await?;
    }
    if temp.size == 0 {
        return Err(FileError::Empty);
    }
    let kind = match kind {
        Some(kind) => kind,
        None => decide(&head)?,
    };
    if temp.size > limits[&kind] {
        return Err(FileError::TooLarge {
            purpose,
            limit: limits[&kind],
        });
    }
    Ok(kind)
}

/// A photo without its metadata (rewritten in place when it had some: the new hash
/// and size) and its preview.
#[allow(clippy::type_complexity)]
fn prepare_photo(
    path: &std::path::Path,
    kind: FileType,
) -> Result<(Preview, Option<(String, u64)>), FileError> {
    let bytes = std::fs::read(path)?;
    let cleaned = images::without_metadata(&bytes, kind)
        .map_err(|error| FileError::UnreadableImage(error.to_string()))?;
    let picture = cleaned.as_deref().unwrap_or(&bytes);
    let preview = images::preview(picture, kind)
        .map_err(|error| FileError::UnreadableImage(error.to_string()))?;
    let rewritten = match &cleaned {
        Some(clean) => {
            std::fs::write(path, clean)?;
            Some((sha256_hex(clean), clean.len() as u64))
        }
        None => None,
    };
    Ok((preview, rewritten))
}

/// A name fit to show and to offer as a download's name: no path, no control
/// characters, at most [`NAME_CHARS`] characters.
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    last.chars()
        .filter(|c| !c.is_control())
        .take(NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn names_lose_their_path_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b\nc.pdf"), "abc.pdf");
    }
}
