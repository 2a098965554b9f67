use sqlx::PgPool;
use sqlx::migrate::Migrator;

/// The event store's schema, embedded from the top-level `migrations/` folder.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
#[error("applying the database migrations failed: {0}")]
pub struct MigrationError(#[from] sqlx::migrate::MigrateError);

/// Applies every pending migration.
///
/// Idempotent, and safe when several processes start together: sqlx holds a
/// Postgres advisory lock for the duration, so the others wait and then find
/// nothing left to do.
pub async fn migrate(pool: &PgPool) -> Result<(), MigrationError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}
