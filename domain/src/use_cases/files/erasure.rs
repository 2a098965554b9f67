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
    /// held for the session, so an upload of the same content waits until the bytes
    /// are gone and then writes them again. The bytes go before the commit: should the
    /// commit fail, the file is still due and the next round finishes it (the bytes of
    /// a file due for erasure are never kept by mistake).
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
        let mut locks = ContentLocks::take(self.pool(), &hashes).await?;
        let erased = self
            .erase_locked(locks.connection()?, file_id, &hashes, now)
            .await?;
        locks.release().await?;
        Ok(erased)
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
        for sha256 in &unused {
            self.files.store.erase(sha256).await?;
        }
        transaction.commit().await?;
        Ok(unused.len() as u64)
    }

    /// Removes from disk whichever of `hashes` no file has (after an upload that
    /// failed once its bytes were in place).
    pub(super) async fn remove_unreferenced(&self, hashes: &[String]) -> Result<(), FileError> {
        for sha256 in hashes {
            let mut locks = ContentLocks::take(self.pool(), std::slice::from_ref(sha256)).await?;
            let unused = unreferenced(locks.connection()?, std::slice::from_ref(sha256)).await?;
            if !unused.is_empty() {
                self.files.store.erase(sha256).await?;
            }
            locks.release().await?;
        }
        Ok(())
    }
}

/// A pooled connection holding contents' locks for its session. `release` unlocks
/// them and returns the connection to the pool; on any other way out (an error, a
/// cancelled request) the connection is closed instead, which releases them, so a
/// lock never goes back to the pool held.
struct ContentLocks {
    connection: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
    hashes: Vec<String>,
}

impl ContentLocks {
    async fn take(pool: &sqlx::PgPool, hashes: &[String]) -> Result<Self, sqlx::Error> {
        let mut locks = ContentLocks {
            connection: Some(pool.acquire().await?),
            hashes: Vec::new(),
        };
        for sha256 in hashes {
            lock_for_session(locks.connection()?, sha256, true).await?;
            locks.hashes.push(sha256.clone());
        }
        Ok(locks)
    }

    fn connection(&mut self) -> Result<&mut sqlx::PgConnection, sqlx::Error> {
        self.connection
            .as_deref_mut()
            .ok_or(sqlx::Error::PoolClosed)
    }

    async fn release(mut self) -> Result<(), sqlx::Error> {
        for sha256 in std::mem::take(&mut self.hashes) {
            lock_for_session(self.connection()?, &sha256, false).await?;
        }
        // Unlocked: back to the pool.
        drop(self.connection.take());
        Ok(())
    }
}

impl Drop for ContentLocks {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            // Closing the session releases its locks.
            drop(connection.detach());
        }
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
