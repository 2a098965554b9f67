//! What a file is for and what it is: the purposes uploads are made for, the types
//! decided from the bytes (never from the name or the client's MIME type), and the
//! policy of which types each purpose takes, how large, and how long they are kept.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// What an upload is for; it decides the allowed types, the size limits, the
/// retention and who may see the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FilePurpose {
    /// A photo given to an image generation (a person, a garment, a photo to edit).
    GenerationInput,
    /// An image a generation produced (written by the generation runner, never uploaded).
    GenerationResult,
    /// An attachment of a support ticket's message.
    Ticket,
    /// A coursework brief's material or an executor's result.
    Coursework,
    /// A salon document (a contract, a price list, a certificate).
    Salon,
}

impl FilePurpose {
    pub const ALL: [FilePurpose; 5] = [
        FilePurpose::GenerationInput,
        FilePurpose::GenerationResult,
        FilePurpose::Ticket,
        FilePurpose::Coursework,
        FilePurpose::Salon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FilePurpose::GenerationInput => "generation_input",
            FilePurpose::GenerationResult => "generation_result",
            FilePurpose::Ticket => "ticket",
            FilePurpose::Coursework => "coursework",
            FilePurpose::Salon => "salon",
        }
    }

    /// Whether people upload files for it (results are made by the product itself).
    pub fn is_uploadable(self) -> bool {
        self != FilePurpose::GenerationResult
    }
}

impl fmt::Display for FilePurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FilePurpose {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        FilePurpose::ALL
            .into_iter()
            .find(|purpose| purpose.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "one of {}",
                    FilePurpose::ALL.map(FilePurpose::as_str).join(", ")
                )
            })
    }
}

/// A type the product accepts, as its bytes show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Jpeg,
    Png,
    Webp,
    Pdf,
    Docx,
    Xlsx,
}

impl FileType {
    pub const ALL: [FileType; 6] = [
        FileType::Jpeg,
        FileType::Png,
        FileType::Webp,
        FileType::Pdf,
        FileType::Docx,
        FileType::Xlsx,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpeg",
            FileType::Png => "png",
            FileType::Webp => "webp",
            FileType::Pdf => "pdf",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Webp => "image/webp",
            FileType::Pdf => "application/pdf",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn from_mime(mime: &str) -> Option<FileType> {
        FileType::ALL.into_iter().find(|kind| kind.mime() == mime)
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpg",
            other => other.as_str(),
        }
    }

    pub fn is_image(self) -> bool {
        matches!(self, FileType::Jpeg | FileType::Png | FileType::Webp)
    }

    /// The type the first bytes of a file show, if it is one we accept. Office files
    /// are ZIP archives told apart by their entries, so `head` should hold the file's
    /// first few hundred KiB (or all of it).
    pub fn sniff(head: &[u8]) -> Option<FileType> {
        let kind = infer::get(head)?;
        match kind.mime_type() {
            "image/jpeg" => Some(FileType::Jpeg),
            "image/png" => Some(FileType::Png),
            "image/webp" => Some(FileType::Webp),
            "application/pdf" => Some(FileType::Pdf),
            mime => FileType::from_mime(mime).filter(|kind| !kind.is_image()),
        }
    }
}

impl FromStr for FileType {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        FileType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("one of {}", FileType::ALL.map(FileType::as_str).join(", ")))
    }
}

/// What one purpose takes: each allowed type with its own size limit, and how long
/// its files are kept (`None`: until deleted with what they belong to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeRules {
    pub limits: BTreeMap<FileType, u64>,
    pub keep_for: Option<Duration>,
}

impl PurposeRules {
    /// The largest size any allowed type may have: the most an upload may send
    /// before its type is known.
    pub fn largest(&self) -> u64 {
        self.limits.values().copied().max().unwrap_or(0)
    }
}

const MB: u64 = 1024 * 1024;

/// Every purpose's rules (configuration; the seeds' values are the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePolicy {
    pub purposes: BTreeMap<FilePurpose, PurposeRules>,
}

impl FilePolicy {
    pub fn rules(&self, purpose: FilePurpose) -> Option<&PurposeRules> {
        self.purposes.get(&purpose)
    }

    /// The seeds' rules: AI photos JPEG/PNG/WebP up to 5 MB, erased after 24 hours;
    /// generated images kept 30 days; ticket images 10 MB and documents 20 MB;
    /// salon and coursework documents (PDF, DOCX, XLSX) 10 MB.
    pub fn seeds() -> FilePolicy {
        let images = [FileType::Jpeg, FileType::Png, FileType::Webp];
        let documents = [FileType::Pdf, FileType::Docx, FileType::Xlsx];
        let limits = |pairs: &[(&[FileType], u64)]| -> BTreeMap<FileType, u64> {
            pairs
                .iter()
                .flat_map(|(kinds, size)| kinds.iter().map(move |kind| (*kind, *size)))
                .collect()
        };
        let purposes = BTreeMap::from([
            (
                FilePurpose::GenerationInput,
                PurposeRules {
                    limits: limits(&[(&images, 5 * MB)]),
                    keep_for: Some(Duration::hours(24)),
                },
            ),
            (
                FilePurpose::GenerationResult,
                PurposeRules {
                    limits: limits(&[(&images, 20 * MB)]),
                    keep_for: Some(Duration::days(30)),
                },
            ),
            (
                FilePurpose::Ticket,
                PurposeRules {
                    limits: limits(&[(&images, 10 * MB), (&documents, 20 * MB)]),
                    keep_for: None,
                },
            ),
            (
                FilePurpose::Coursework,
                PurposeRules {
                    limits: limits(&[(&documents, 10 * MB)]),
                    keep_for: None,
                },
            ),
            (
                FilePurpose::Salon,
                PurposeRules {
                    limits: limits(&[(&documents, 10 * MB)]),
                    keep_for: None,
                },
            ),
        ]);
        FilePolicy { purposes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(FileType::sniff(png), Some(FileType::Png));
        assert_eq!(FileType::sniff(b"%PDF-1.7\n%..."), Some(FileType::Pdf));
        assert_eq!(
            FileType::sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Some(FileType::Jpeg)
        );
        assert_eq!(
            FileType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(FileType::Webp)
        );
        assert_eq!(FileType::sniff(b"MZ\x90\0 an executable"), None);
        assert_eq!(FileType::sniff(b"just some text"), None);
    }

    #[test]
    fn the_seeds_rules() {
        let policy = FilePolicy::seeds();
        let ticket = policy.rules(FilePurpose::Ticket).expect("ticket rules");
        assert_eq!(ticket.limits[&FileType::Png], 10 * MB);
        assert_eq!(ticket.limits[&FileType::Pdf], 20 * MB);
        assert_eq!(ticket.largest(), 20 * MB);
        let photos = policy
            .rules(FilePurpose::GenerationInput)
            .expect("photo rules");
        assert_eq!(photos.keep_for, Some(Duration::hours(24)));
        assert!(!photos.limits.contains_key(&FileType::Pdf));
        assert_eq!("ticket".parse::<FilePurpose>(), Ok(FilePurpose::Ticket));
        assert!("tickets".parse::<FilePurpose>().is_err());
    }
}
