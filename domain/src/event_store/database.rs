use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use tracing::info;

/// Postgres SQLSTATE codes this module reacts to.
const INVALID_CATALOG_NAME: &str = "3D000";
const DUPLICATE_DATABASE: &str = "42P04";
const UNIQUE_VIOLATION: &str = "23505";

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("the database URL is not valid: {0}")]
    InvalidUrl(String),
    #[error("the database URL names no database")]
    NoDatabaseName,
    #[error("cannot connect to Postgres at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create the database {name:?}: {source}")]
    Create {
        name: String,
        #[source]
        source: sqlx::Error,
    },
}

/// Opens a connection pool to an existing database.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DatabaseError> {
    let options = parse(url)?;
    pool_options(max_connections)
        .connect_with(options)
        .await
        .map_err(|source| DatabaseError::Connect {
            url: redact_url(url),
            source,
        })
}

/// Opens a connection pool, first creating the database when it does not exist yet.
///
/// Creation goes through the server's `postgres` maintenance database. Two processes
/// that race to create it both succeed: the loser sees "already exists" and goes on.
pub async fn connect_creating_database(
    url: &str,
    max_connections: u32,
) -> Result<PgPool, DatabaseError> {
    let options = parse(url)?;
    let name = options
        .get_database()
        .ok_or(DatabaseError::NoDatabaseName)?
        .to_owned();
    match options.connect().await {
        Ok(connection) => {
            let _ = connection.close().await;
        }
        Err(error) if sqlstate(&error).as_deref() == Some(INVALID_CATALOG_NAME) => {
            create_database(&options, &name).await?;
        }
        Err(source) => {
            return Err(DatabaseError::Connect {
                url: redact_url(url),
                source,
            });
        }
    }
    connect(url, max_connections).await
}

async fn create_database(options: &PgConnectOptions, name: &str) -> Result<(), DatabaseError> {
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .map_err(|source| DatabaseError::Create {
            name: name.to_owned(),
            source,
        })?;
    let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    let outcome = sqlx::query(&statement).execute(&mut admin).await;
    let _ = admin.close().await;
    match outcome {
        Ok(_) => {
            info!(database = name, "created the database");
            Ok(())
        }
        Err(error)
            if matches!(
                sqlstate(&error).as_deref(),
                Some(DUPLICATE_DATABASE | UNIQUE_VIOLATION)
            ) =>
        {
            Ok(())
        }
        Err(source) => Err(DatabaseError::Create {
            name: name.to_owned(),
            source,
        }),
    }
}

fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
}

fn parse(url: &str) -> Result<PgConnectOptions, DatabaseError> {
    PgConnectOptions::from_str(url)
        .map(|options| options.application_name("ledgerbot"))
        .map_err(|error| DatabaseError::InvalidUrl(error.to_string()))
}

fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .map(|code| code.into_owned())
}

/// A URL with its secrets replaced by `***`, safe to log: the password in the user
/// info, a bare token in the user info of non-Postgres URLs (`nats://TOKEN@host`),
/// and `password` / `sslpassword` query parameters.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(index) => rest.split_at(index),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None if scheme.starts_with("postgres") => format!("{credentials}@{host}"),
            None => format!("***@{host}"),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{}", redact_query(tail))
}

fn redact_query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let parameters: Vec<String> = query
        .split('&')
        .map(|parameter| match parameter.split_once('=') {
            Some((name, _))
                if name.eq_ignore_ascii_case("password")
                    || name.eq_ignore_ascii_case("sslpassword") =>
            {
                format!("{name}=***")
            }
            _ => parameter.to_owned(),
        })
        .collect();
    format!("{path}?{}", parameters.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords_and_keeps_the_rest() {
        assert_eq!(
            redact_url("postgres://app:s3cr%40t@db.internal:5432/ledgerbot?sslmode=require"),
            "postgres://app:***@db.internal:5432/ledgerbot?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/ledgerbot"),
            "postgres://postgres@127.0.0.1:5432/ledgerbot"
        );
        assert_eq!(
            redact_url("nats://user:pw@nats:4222"),
            "nats://user:***@nats:4222"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(
            redact_url(
                "postgres://app@db/ledgerbot?password=hunter2&sslmode=require&sslpassword=x"
            ),
            "postgres://app@db/ledgerbot?password=***&sslmode=require&sslpassword=***"
        );
        assert_eq!(
            redact_url("nats://s3cr3ttoken@nats:4222"),
            "nats://***@nats:4222"
        );
    }
}
