//! ClamAV's daemon (clamd) as the virus scanner: the `zINSTREAM` command over TCP
//! (`host:port`) or a Unix socket (`unix:/path`), the file sent in chunks of
//! `<length: u32 big-endian><bytes>` ended by a zero length; clamd answers
//! `stream: OK`, `stream: <name> FOUND` or `… ERROR`.

use std::path::Path;
use std::time::Duration;

use domain::files::{ScanError, ScanFuture, ScanVerdict, VirusScanner};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const CHUNK: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(60);

pub struct Clamd {
    address: String,
}

impl Clamd {
    pub fn new(address: &str) -> Self {
        Self {
            address: address.to_owned(),
        }
    }

    async fn scan_file(&self, path: &Path) -> Result<ScanVerdict, ScanError> {
        let failed = |error: std::io::Error| ScanError(error.to_string());
        if let Some(socket) = self.address.strip_prefix("unix:") {
            #[cfg(unix)]
            {
                let stream = tokio::net::UnixStream::connect(socket)
                    .await
                    .map_err(failed)?;
                return instream(stream, path).await;
            }
            #[cfg(not(unix))]
            return Err(ScanError(format!("no Unix sockets here for {socket}")));
        }
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(failed)?;
        instream(stream, path).await
    }
}

async fn instream<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    path: &Path,
) -> Result<ScanVerdict, ScanError> {
    let failed = |error: std::io::Error| ScanError(error.to_string());
    let mut file = tokio::fs::File::open(path).await.map_err(failed)?;
    stream.write_all(b"zINSTREAM\0").await.map_err(failed)?;
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let read = file.read(&mut buffer).await.map_err(failed)?;
        let length = u32::try_from(read).map_err(|_| ScanError("a chunk too large".into()))?;
        stream
            .write_all(&length.to_be_bytes())
            .await
            .map_err(failed)?;
        if read == 0 {
            break;
        }
        stream.write_all(&buffer[..read]).await.map_err(failed)?;
    }
    stream.flush().await.map_err(failed)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.map_err(failed)?;
    let answer = String::from_utf8_lossy(&answer);
    let answer = answer.trim_end_matches(['\0', '\n']).trim();
    let verdict = answer
        .strip_prefix("stream:")
        .map(str::trim)
        .unwrap_or(answer);
    if verdict == "OK" {
        Ok(ScanVerdict::Clean)
    } else if let Some(name) = verdict.strip_suffix("FOUND") {
        Ok(ScanVerdict::Infected(name.trim().to_owned()))
    } else {
        Err(ScanError(format!("clamd answered {verdict:?}")))
    }
}

impl VirusScanner for Clamd {
    fn scan<'a>(&'a self, path: &'a Path) -> ScanFuture<'a> {
        Box::pin(async move {
            tokio::time::timeout(TIMEOUT, self.scan_file(path))
                .await
                .map_err(|_| ScanError("clamd did not answer in time".into()))?
        })
    }
}
