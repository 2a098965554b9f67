//! `replay analyst-role <name>`: a database role for analysts that can read the read
//! models (every `rm_` table and view, documented in the README's data dictionary)
//! and nothing else: not the events and their personal payloads, not the sign-in
//! tables, not the write side. Running it again brings the role up to date with
//! tables added since (and takes back anything granted to it by hand).

use serde::Serialize;
use sqlx::PgPool;

use crate::ReplayError;

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
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(name)
        .fetch_one(&mut *transaction)
        .await?;
    if exists {
        let privileged: bool = sqlx::query_scalar(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles WHERE rolname = $1",
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
    statements.push(match password {
        Some(_) => format!("ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS", ident(name)),
        None => format!("ALTER ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS", ident(name)),
    });
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *transaction)
        .await?;
    statements.extend([
        format!("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}", ident(&schema), ident(name)),
        format!("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}", ident(&schema), ident(name)),
        format!("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {} FROM {}", ident(&schema), ident(name)),
        format!("GRANT CONNECT ON DATABASE {} TO {}", ident(&database), ident(name)),
        format!("GRANT USAGE ON SCHEMA {} TO {}", ident(&schema), ident(name)),
    ]);
    for statement in statements {
        sqlx::query(&statement).execute(&mut *transaction).await?;
    }
    if let Some(password) = password {
        let statement: String = sqlx::query_scalar("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)")
            .bind(name)
            .bind(password)
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

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
