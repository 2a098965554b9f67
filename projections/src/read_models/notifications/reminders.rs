//! The scheduler's reminders (`scheduled_reminders`, written here alone): a booking
//! coming up, a ticket whose customer waits. Keyed by what they are about plus the
//! template and the recipient, so a rerun of the scan adds nothing. The bot's sender
//! delivers them with the notifications ([`super::deliveries`]).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{Notice, store_in};

const STORE: &str = "INSERT INTO scheduled_reminders (reminder_id, recipient, user_id, template, params, cause, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (reminder_id) DO NOTHING";

/// Stores a reminder once under its key (`cause` is what it is about).
pub async fn store(
    connection: &mut PgConnection,
    cause: &str,
    notice: &Notice,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    store_in(connection, STORE, cause, notice, at).await
}
