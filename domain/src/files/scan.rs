//! The virus-scanner port: every upload is scanned before it is accepted when a
//! scanner is configured (the API's adapter speaks ClamAV's `clamd` protocol).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    Clean,
    /// Malware, with the scanner's name for it.
    Infected(String),
}

#[derive(Debug, thiserror::Error)]
#[error("the virus scanner could not scan the file: {0}")]
pub struct ScanError(pub String);

pub type ScanFuture<'a> = Pin<Box<dyn Future<Output = Result<ScanVerdict, ScanError>> + Send + 'a>>;

pub trait VirusScanner: Send + Sync {
    /// Scans the file at `path`.
    fn scan<'a>(&'a self, path: &'a Path) -> ScanFuture<'a>;
}
