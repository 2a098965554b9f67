//! The bytes of files on local disk, by content hash (`<root>/<aa>/<sha256>`), so the
//! same content is kept once however often it is uploaded. Uploads are written to
//! `<root>/tmp/` first and moved into place once accepted; the database rows that say
//! whose a file is live in `stored_files` (see `use_cases::files`).

use std::io;
use std::path::{Path, PathBuf};

use ring::digest;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// The most an upload's file buffers before its bytes reach the disk.
const WRITE_BUFFER: usize = 64 * 1024;

/// The folder files are kept in.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the folders (at start, so a bad path fails early).
    pub async fn prepare(&self) -> io::Result<()> {
        tokio::fs::create_dir_all(self.root.join("tmp")).await
    }

    /// Where the content with this SHA-256 (hex) is kept.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let shard = sha256.get(..2).unwrap_or("00");
        self.root.join(shard).join(sha256)
    }

    /// A new temporary file for an upload.
    pub async fn temporary(&self) -> io::Result<TempFile> {
        let path = self.root.join("tmp").join(Uuid::now_v7().to_string());
        let mut file = tokio::fs::File::create(&path).await?;
        // tokio buffers up to 2 MiB per file by default: with many uploads at once that
        // is what their memory would grow with; a chunk's worth is enough.
        file.set_max_buf_size(WRITE_BUFFER);
        Ok(TempFile {
            path,
            file: Some(file),
            digest: digest::Context::new(&digest::SHA256),
            size: 0,
        })
    }

    /// Moves `temp` into place as the content `sha256`; when that content is already
    /// kept, `temp` is removed instead.
    pub async fn keep(&self, temp: &Path, sha256: &str) -> io::Result<()> {
        let target = self.path_of(sha256);
        if tokio::fs::try_exists(&target).await? {
            return remove_if_present(temp).await;
        }
        if let Some(folder) = target.parent() {
            tokio::fs::create_dir_all(folder).await?;
        }
        tokio::fs::rename(temp, &target).await
    }

    /// Writes small content (a preview) in place under its hash.
    pub async fn keep_bytes(&self, bytes: &[u8]) -> io::Result<String> {
        let sha256 = sha256_hex(bytes);
        let mut temp = self.temporary().await?;
        temp.write(bytes).await?;
        let path = temp.finish().await?.path;
        self.keep(&path, &sha256).await?;
        Ok(sha256)
    }

    /// Erases the content `sha256` from disk (gone already is fine).
    pub async fn erase(&self, sha256: &str) -> io::Result<()> {
        remove_if_present(&self.path_of(sha256)).await
    }

    pub async fn open(&self, sha256: &str) -> io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.path_of(sha256)).await
    }
}

pub(crate) async fn remove_if_present(path: &Path) -> io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

/// An upload being written: its bytes are hashed and counted on the way to disk.
pub struct TempFile {
    pub path: PathBuf,
    file: Option<tokio::fs::File>,
    digest: digest::Context,
    pub size: u64,
}

/// A temporary file written whole.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

impl TempFile {
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("the upload was already finished"))?;
        file.write_all(chunk).await?;
        self.digest.update(chunk);
        self.size += chunk.len() as u64;
        Ok(())
    }

    pub async fn finish(mut self) -> io::Result<Written> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_all().await?;
        }
        Ok(Written {
            path: self.path.clone(),
            sha256: hex::encode(self.digest.clone().finish()),
            size: self.size,
        })
    }

    /// Removes what was written (an upload refused half-way).
    pub async fn discard(mut self) {
        self.file.take();
        if let Err(error) = remove_if_present(&self.path).await {
            tracing::warn!(%error, path = %self.path.display(), "a refused upload's temporary file stayed");
        }
    }
}
