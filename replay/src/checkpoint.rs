//! `replay checkpoint` and the file it writes: every aggregate's head (how many
//! events, the last sequence and its hash), signed with the auditor's Ed25519 key,
//! for the auditor to keep outside the database. A chain cannot see its own end
//! removed or a whole stream deleted; `verify --against` compares with this file.
//!
//! The file is JSON Lines: a header (`format`, `created_at`, counts), one line per
//! head in the store's key order, and a last line with the signature over the
//! SHA-256 of every byte before it. `replay keygen` makes a key (PKCS#8, hex).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use ring::digest::{Context, SHA256};
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::ReplayError;
use crate::verify::{Findings, begin_snapshot, scan_chains};

const FORMAT: &str = "ledgerbot-checkpoint/1";

/// One aggregate's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub count: i64,
    pub last_sequence: i64,
    /// Hex SHA-256.
    pub last_hash: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    created_at: String,
    events: u64,
    aggregates: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    signature: Signature,
}

#[derive(Debug, Serialize, Deserialize)]
struct Signature {
    algorithm: String,
    public_key: String,
    digest: String,
    value: String,
}

/// A checkpoint read back, its signature checked.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub created_at: String,
    pub public_key: String,
    pub heads: HashMap<(String, String), Head>,
}

/// What `checkpoint` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub path: String,
    pub created_at: String,
    pub events: u64,
    pub aggregates: u64,
    pub public_key: String,
    pub digest: String,
}

/// Makes a signing key at `path` (created, never overwritten; readable by its owner
/// only) and returns its public key (hex), which the auditor keeps to check
/// checkpoints with.
pub fn keygen(path: &Path) -> Result<String, ReplayError> {
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| ReplayError::Key("the system's random source failed".into()))?;
    let key = Ed25519KeyPair::from_pkcs8(document.as_ref())
        .map_err(|_| ReplayError::Key("a generated key did not parse".into()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|error| ReplayError::Key(format!("cannot create {}: {error}", path.display())))?;
    writeln!(file, "{}", hex::encode(document.as_ref())).map_err(ReplayError::Output)?;
    Ok(hex::encode(key.public_key().as_ref()))
}

fn read_key(path: &Path) -> Result<Ed25519KeyPair, ReplayError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| ReplayError::Key(format!("cannot read {}: {error}", path.display())))?;
    let bytes = hex::decode(text.trim()).map_err(|_| {
        ReplayError::Key(format!(
            "{} is not a key made by `replay keygen`",
            path.display()
        ))
    })?;
    Ed25519KeyPair::from_pkcs8(&bytes).map_err(|_| {
        ReplayError::Key(format!(
            "{} is not a key made by `replay keygen`",
            path.display()
        ))
    })
}

/// Verifies every chain and writes the signed heads to `out`. Refuses (and writes
/// nothing) when a chain is broken: a signature must not vouch for a tampered log.
pub async fn checkpoint(pool: &PgPool, key: &Path, out: &Path) -> Result<Written, ReplayError> {
    let key = read_key(key)?;
    let partial = out.with_extension("partial");
    let file = File::create(&partial).map_err(ReplayError::Output)?;
    let mut writer = DigestWriter::new(BufWriter::new(file));
    let created_at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);

    let mut connection = pool.acquire().await?;
    let mut snapshot = begin_snapshot(&mut connection).await?;
    let (events, aggregates): (i64, i64) = sqlx::query_as(
        "SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM events) a) FROM events",
    )
    .fetch_one(&mut *snapshot)
    .await?;
    let header = Header {
        format: FORMAT.into(),
        created_at: created_at.clone(),
        events: events.max(0) as u64,
        aggregates: aggregates.max(0) as u64,
    };
    writer.line(&header).map_err(ReplayError::Output)?;
    let mut findings = Findings::default();
    let scanned = scan_chains(&mut snapshot, &mut findings, None, |head| writer.line(head)).await;
    snapshot.commit().await?;
    let scanned = match scanned {
        Ok(scanned) if findings.count == 0 => scanned,
        Ok(_) => {
            let _ = std::fs::remove_file(&partial);
            return Err(ReplayError::BrokenChain(findings.count));
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    let digest = writer.digest();
    let signature = key.sign(&digest);
    let public_key = hex::encode(key.public_key().as_ref());
    let trailer = Trailer {
        signature: Signature {
            algorithm: "ed25519".into(),
            public_key: public_key.clone(),
            digest: hex::encode(digest),
            value: hex::encode(signature.as_ref()),
        },
    };
    writer.line(&trailer).map_err(ReplayError::Output)?;
    writer.finish()?;
    std::fs::rename(&partial, out).map_err(ReplayError::Output)?;
    Ok(Written {
        path: out.display().to_string(),
        created_at,
        events: scanned.events,
        aggregates: scanned.aggregates,
        public_key,
        digest: hex::encode(digest),
    })
}

/// Reads a checkpoint and checks its signature against `trusted_key` (hex): the key
/// the auditor kept, never the one the file names.
pub fn read(path: &Path, trusted_key: &str) -> Result<Checkpoint, ReplayError> {
    let untrusted = |why: String| ReplayError::Checkpoint {
        path: path.display().to_string(),
        why,
    };
    let file = File::open(path).map_err(|error| untrusted(error.to_string()))?;
    let mut context = Context::new(&SHA256);
    let mut header: Option<Header> = None;
    let mut trailer: Option<Trailer> = None;
    let mut heads = HashMap::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|error| untrusted(error.to_string()))?;
        if trailer.is_some() {
            return Err(untrusted("lines follow the signature".into()));
        }
        if header.is_none() {
            let read: Header = serde_json::from_str(&line)
                .map_err(|_| untrusted("the first line is not a checkpoint header".into()))?;
            if read.format != FORMAT {
                return Err(untrusted(format!(
                    "format {:?}, expected {FORMAT}",
                    read.format
                )));
            }
            header = Some(read);
        } else if let Ok(read) = serde_json::from_str::<Trailer>(&line) {
            trailer = Some(read);
            continue;
        } else {
            let head: Head = serde_json::from_str(&line)
                .map_err(|error| untrusted(format!("a head does not read: {error}")))?;
            heads.insert(
                (head.aggregate_type.clone(), head.aggregate_id.clone()),
                head,
            );
        }
        context.update(line.as_bytes());
        context.update(b"\n");
    }
    let (Some(header), Some(trailer)) = (header, trailer) else {
        return Err(untrusted("it is cut short: no signature line".into()));
    };
    let signature = trailer.signature;
    let digest = context.finish();
    if hex::encode(digest.as_ref()) != signature.digest {
        return Err(untrusted(
            "its contents do not match the signed digest".into(),
        ));
    }
    if !trusted_key
        .trim()
        .eq_ignore_ascii_case(&signature.public_key)
    {
        return Err(untrusted(format!(
            "it is signed by {}, not by the key given",
            signature.public_key
        )));
    }
    let key = hex::decode(&signature.public_key)
        .map_err(|_| untrusted("its public key is not hex".into()))?;
    let value =
        hex::decode(&signature.value).map_err(|_| untrusted("its signature is not hex".into()))?;
    UnparsedPublicKey::new(&ED25519, key)
        .verify(digest.as_ref(), &value)
        .map_err(|_| untrusted("the signature is not valid".into()))?;
    Ok(Checkpoint {
        created_at: header.created_at,
        public_key: signature.public_key,
        heads,
    })
}

/// Writes JSON lines and hashes every byte written.
struct DigestWriter<W: Write> {
    inner: W,
    context: Context,
}

impl<W: Write> DigestWriter<W> {
    fn new(inner: W) -> Self {
        DigestWriter {
            inner,
            context: Context::new(&SHA256),
        }
    }

    fn line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(value)?;
        line.push(b'\n');
        self.context.update(&line);
        self.inner.write_all(&line)
    }

    fn digest(&self) -> [u8; 32] {
        let mut digest = [0; 32];
        digest.copy_from_slice(self.context.clone().finish().as_ref());
        digest
    }

    fn finish(mut self) -> Result<(), ReplayError> {
        self.inner.flush().map_err(ReplayError::Output)
    }
}
