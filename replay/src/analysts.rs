//! `replay analyst-role <name>`: a database role for analysts that can read the read
//! models (every `rm_` table and view, documented in the README's data dictionary)
//! and nothing else: not the events and their personal payloads, not the sign-in
//! tables, not the write side. Running it again brings the role up to date with
//! tables added since (and takes back anything granted to it by hand).

use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SecureRandom;
use ring::{digest, hmac, pbkdf2};
use serde::Serialize;
use sqlx::PgPool;

use crate::{ReplayError, ident};

/// What the role may read now.
#[derive(Debug, Clone, Serialize)]
pub struct AnalystRole {
    pub role: String,
    pub created: bool,
    pub login: bool,
    pub relations: Vec<String>,
}

/// Creates or updates role `name`; with a password it may log in, without one it is
/// a group role to grant to people (`GRANT <name> TO alice`).
pub async fn analyst_role(
    pool: &PgPool,
    name: &str,
    password: Option<&str>,
) -> Result<AnalystRole, ReplayError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|first: char| first.is_ascii_lowercase() || first == '_')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if !valid || name.starts_with("pg_") {
        return Err(ReplayError::BadRoleName(name.to_owned()));
    }
    let mut transaction = pool.begin().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(name)
            .fetch_one(&mut *transaction)
            .await?;
    if exists {
        let privileged: bool = sqlx::query_scalar(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication \
             FROM pg_roles WHERE rolname = $1",
        )
        .bind(name)
        .fetch_one(&mut *transaction)
        .await?;
        if privileged {
            return Err(ReplayError::PrivilegedRole(name.to_owned()));
        }
    }
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut *transaction)
        .await?;
    let mut statements: Vec<String> = Vec::new();
    if !exists {
        statements.push(format!("CREATE ROLE {}", ident(name)));
    }
    let login = if password.is_some() {
        "LOGIN"
    } else {
        "NOLOGIN"
    };
    statements.push(format!(
        "ALTER ROLE {} {login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT",
        ident(name)
    ));
    // Whatever it was made a member of (pg_read_all_data, another role) would widen
    // what it reads: it is a member of nothing.
    let memberships: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(r.rolname) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
         JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1",
    )
    .bind(name)
    .fetch_all(&mut *transaction)
    .await?;
    for group in memberships {
        statements.push(format!("REVOKE {group} FROM {}", ident(name)));
    }
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *transaction)
        .await?;
    statements.extend([
        format!(
            "REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}",
            ident(&schema),
            ident(name)
        ),
        format!(
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}",
            ident(&schema),
            ident(name)
        ),
        format!(
            "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {} FROM {}",
            ident(&schema),
            ident(name)
        ),
        format!(
            "GRANT CONNECT ON DATABASE {} TO {}",
            ident(&database),
            ident(name)
        ),
        format!(
            "GRANT USAGE ON SCHEMA {} TO {}",
            ident(&schema),
            ident(name)
        ),
    ]);
    for statement in statements {
        sqlx::query(&statement).execute(&mut *transaction).await?;
    }
    if let Some(password) = password {
        // The server is given a SCRAM verifier, never the password, so no statement
        // log can show it.
        let statement: String =
            sqlx::query_scalar("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)")
                .bind(name)
                .bind(scram_verifier(password, &random_salt()?)?)
                .fetch_one(&mut *transaction)
                .await?;
        sqlx::query(&statement).execute(&mut *transaction).await?;
    }
    let relations: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relname LIKE 'rm\\_%' AND c.relkind IN ('r', 'v') \
         ORDER BY 1",
    )
    .fetch_all(&mut *transaction)
    .await?;
    for relation in &relations {
        sqlx::query(&format!(
            "GRANT SELECT ON {}.{} TO {}",
            ident(&schema),
            ident(relation),
            ident(name)
        ))
        .execute(&mut *transaction)
        .await?;
    }
    transaction.commit().await?;
    Ok(AnalystRole {
        role: name.to_owned(),
        created: !exists,
        login: password.is_some(),
        relations,
    })
}

fn random_salt() -> Result<[u8; 16], ReplayError> {
    let mut salt = [0; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| ReplayError::Key("the system's random source failed".into()))?;
    Ok(salt)
}

/// The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677, 4,096
/// iterations): what `ALTER ROLE … PASSWORD` takes in place of the password.
fn scram_verifier(password: &str, salt: &[u8; 16]) -> Result<String, ReplayError> {
    // PostgreSQL SASLprep-normalises other text first; ASCII needs none.
    if !password.is_ascii() {
        return Err(ReplayError::BadPassword);
    }
    const ITERATIONS: u32 = 4_096;
    let mut salted = [0; 32];
    let iterations = NonZeroU32::new(ITERATIONS).ok_or(ReplayError::BadPassword)?;
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        password.as_bytes(),
        &mut salted,
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, &salted);
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    Ok(format!(
        "SCRAM-SHA-256${ITERATIONS}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key.as_ref()),
        STANDARD.encode(server_key.as_ref())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verifier_is_what_postgres_computes() {
        // Computed independently (Python's hashlib and hmac) for this salt.
        let salt: [u8; 16] = std::array::from_fn(|index| index as u8);
        assert_eq!(
            scram_verifier("pencil", &salt).expect("a verifier"),
            "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE="
        );
        assert!(scram_verifier("пароль", &salt).is_err());
    }
}
