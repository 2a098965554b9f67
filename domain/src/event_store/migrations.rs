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
///
/// Migrations a newer release already applied are tolerated, so an older binary can
/// still start during a rolling deploy or after a rollback; that is safe because
/// migrations only ever add (see ARCHITECTURE.md).
pub async fn migrate(pool: &PgPool) -> Result<(), MigrationError> {
    let mut migrator = sqlx::migrate!("../migrations");
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}
