//! Signed links: a file given to an outside service (the image provider fetches its
//! input photos by URL) is reachable without a sign-in only through a link signed with
//! the deployment's secret that runs out.

use chrono::{DateTime, Duration, Utc};
use ring::hmac;
use uuid::Uuid;

/// Makes and checks signed links.
#[derive(Clone)]
pub struct LinkSigner {
    key: hmac::Key,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

/// A file's signed link's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLink {
    pub file_id: Uuid,
    /// Unix seconds after which it no longer opens.
    pub expires: i64,
    pub signature: String,
}

impl LinkSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    pub fn sign(&self, file_id: Uuid, now: DateTime<Utc>, valid_for: Duration) -> FileLink {
        let expires = (now + valid_for).timestamp();
        let tag = hmac::sign(&self.key, message(file_id, expires).as_bytes());
        FileLink {
            file_id,
            expires,
            signature: hex::encode(tag.as_ref()),
        }
    }

    /// Whether `link` was made here and has not run out at `now`.
    pub fn verify(&self, link: &FileLink, now: DateTime<Utc>) -> bool {
        if link.expires < now.timestamp() {
            return false;
        }
        let Ok(tag) = hex::decode(&link.signature) else {
            return false;
        };
        hmac::verify(
            &self.key,
            message(link.file_id, link.expires).as_bytes(),
            &tag,
        )
        .is_ok()
    }
}

fn message(file_id: Uuid, expires: i64) -> String {
    format!("file:{file_id}:{expires}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_until_it_runs_out_and_only_for_its_file() {
        let signer = LinkSigner::new(b"secret");
        let now = Utc::now();
        let file = Uuid::now_v7();
        let link = signer.sign(file, now, Duration::minutes(30));
        assert!(signer.verify(&link, now));
        assert!(!signer.verify(&link, now + Duration::minutes(31)));
        let other = FileLink {
            file_id: Uuid::now_v7(),
            ..link.clone()
        };
        assert!(!signer.verify(&other, now));
        assert!(!LinkSigner::new(b"another").verify(&link, now));
    }
}
