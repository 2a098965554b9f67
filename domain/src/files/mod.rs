//! Files: what they are for and what they are (`kinds`), their bytes on disk by
//! content hash (`store`), photos' metadata removed and previews made (`images`),
//! and the virus-scanner port (`scan`). The use case is `use_cases::files`.

pub mod images;
pub mod kinds;
pub mod scan;
pub mod store;
pub mod workers;

pub use kinds::{FilePolicy, FilePurpose, FileType, PurposeRules};
pub use scan::{ScanError, ScanFuture, ScanVerdict, VirusScanner};
pub use store::FileStore;
