//! Retention: files whose purpose keeps them only so long are erased when that time
//! has passed. Erasing a file removes its bytes (once no other file has the same
//! content), its preview, its name and its hash; the row keeps only its id, owner and
//! purpose, so a request for it is told it was erased. No event ever held the content.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::FileError;
use crate::use_cases::Core;

/// How many files one erasure round takes.
const BATCH: i64 = 200;

/// What an erasure round removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub files: u64,
    /// Contents removed from disk (files with the same content share one).
    pub contents: u64,
    /// Generation prompts.
    pub prompts: u64,
    /// Assistant chats.
    pub chats: u64,
    /// Assistant requests abandoned before their answer, credits returned.
    pub abandoned_requests: u64,
}

/// Serializes everything that writes or removes the content `sha256` on disk.
pub(super) async fn lock_content(
    transaction: &mut Transaction<'_, Postgres>,
    sha256: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('stored-file:' || $1, 0))")
        .bind(sha256)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

impl Core {
    /// Erases everything whose retention ended by `now`: files (and their contents),
    /// generation prompts (kept as long as the photos), assistant chats.
    pub async fn erase_expired(&self, now: DateTime<Utc>) -> Result<Erased, FileError> {
        let mut erased = self.erase_expired_files(now).await?;
        erased.prompts = sqlx::query(
            "UPDATE generation_prompts SET prompt = NULL, erased_at = $1 \
             WHERE erased_at IS NULL AND erase_after <= $1",
        )
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        erased.chats = self.erase_expired_chats(now).await?;
        erased.abandoned_requests = self.settle_abandoned_assistant_requests(now).await?;
        Ok(erased)
    }

    /// Erases every file whose retention ended by `now`.
    pub async fn erase_expired_files(&self, now: DateTime<Utc>) -> Result<Erased, FileError> {
        let mut total = Erased::default();
        loop {
            let due: Vec<Uuid> = sqlx::query_scalar(
                "SELECT file_id FROM stored_files \
                 WHERE erased_at IS NULL AND erase_after <= $1 ORDER BY erase_after LIMIT $2",
            )
            .bind(now)
            .bind(BATCH)
            .fetch_all(self.pool())
            .await?;
            if due.is_empty() {
                return Ok(total);
            }
            for file_id in due {
                total.contents += self.erase_file(file_id, now).await?;
                total.files += 1;
            }
        }
    }

    /// Erases one file now, whatever its retention (its content too, unless another
    /// file has the same); how many contents left the disk. The contents' locks are
    /// held for the session, across the commit and the removal from disk, so an upload
    /// of the same content waits until the bytes are gone and writes them again.
    pub(crate) async fn erase_file(
        &self,
        file_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<u64, FileError> {
        let hashes: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT sha256, preview_sha256 FROM stored_files WHERE file_id = $1 AND erased_at IS NULL",
        )
        .bind(file_id)
        .fetch_optional(self.pool())
        .await?;
        let Some((content, preview)) = hashes else {
            return Ok(0);
        };
        let hashes: Vec<String> = content.into_iter().chain(preview).collect();
        let mut connection = self.pool().acquire().await?;
        for sha256 in &hashes {
            lock_for_session(&mut connection, sha256, true).await?;
        }
        let erased = self
            .erase_locked(&mut connection, file_id, &hashes, now)
            .await;
        for sha256 in &hashes {
            if let Err(error) = lock_for_session(&mut connection, sha256, false).await {
                tracing::warn!(%error, "a content lock is released when its connection closes");
                let _ = connection.detach();
                break;
            }
        }
        erased
    }

    async fn erase_locked(
        &self,
        connection: &mut sqlx::PgConnection,
        file_id: Uuid,
        hashes: &[String],
        now: DateTime<Utc>,
    ) -> Result<u64, FileError> {
        use sqlx::Connection;
        let mut transaction = connection.begin().await?;
        let updated = sqlx::query(
            "UPDATE stored_files SET sha256 = NULL, preview_sha256 = NULL, original_name = NULL, \
                    width = NULL, height = NULL, erased_at = $2 \
             WHERE file_id = $1 AND erased_at IS NULL",
        )
        .bind(file_id)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(0);
        }
        let unused = unreferenced(&mut transaction, hashes).await?;
        transaction.commit().await?;
        for sha256 in &unused {
            self.files.store.erase(sha256).await?;
        }
        Ok(unused.len() as u64)
    }

    /// Removes from disk whichever of `hashes` no file has (after an upload that
    /// failed once its bytes were in place).
    pub(super) async fn remove_unreferenced(&self, hashes: &[String]) -> Result<(), FileError> {
        let mut connection = self.pool().acquire().await?;
        for sha256 in hashes {
            lock_for_session(&mut connection, sha256, true).await?;
            let unused = unreferenced(&mut connection, std::slice::from_ref(sha256)).await;
            let removed = match unused {
                Ok(unused) if !unused.is_empty() => self
                    .files
                    .store
                    .erase(sha256)
                    .await
                    .map_err(FileError::from),
                Ok(_) => Ok(()),
                Err(error) => Err(error.into()),
            };
            lock_for_session(&mut connection, sha256, false).await?;
            removed?;
        }
        Ok(())
    }
}

/// Takes (or releases) the content's lock for the session.
async fn lock_for_session(
    connection: &mut sqlx::PgConnection,
    sha256: &str,
    take: bool,
) -> Result<(), sqlx::Error> {
    let statement = if take {
        "SELECT pg_advisory_lock(hashtextextended('stored-file:' || $1, 0))"
    } else {
        "SELECT pg_advisory_unlock(hashtextextended('stored-file:' || $1, 0))"
    };
    sqlx::query(statement)
        .bind(sha256)
        .execute(connection)
        .await?;
    Ok(())
}

/// Which of `hashes` no file row has any more.
async fn unreferenced(
    connection: &mut sqlx::PgConnection,
    hashes: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut unused = Vec::new();
    for sha256 in hashes {
        let still_used: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM stored_files WHERE sha256 = $1 OR preview_sha256 = $1)",
        )
        .bind(sha256)
        .fetch_one(&mut *connection)
        .await?;
        if !still_used {
            unused.push(sha256.clone());
        }
    }
    Ok(unused)
}
