//! Users (`rm_users`): profile, role, block flag, consent, referral code and referrer.
//! The number of a user's referrals is `count(*) WHERE referrer_id = <user>`
//! (indexed), so it never depends on the order aggregates are projected in.

use domain::user::UserEvent;
use domain::wire::wire_name;
use sqlx::PgConnection;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub mod assignees;
pub mod audience;
mod queries;

pub use queries::{Access, History, Me, Referral, Referrals, UserFilter, UserPage, UserView};

pub struct Users;

async fn record(connection: &mut PgConnection, event: &EventEnvelope) -> Result<(), ApplyError> {
    let decoded = event.decode::<UserEvent>()?;
    let id = &event.aggregate_id;
    let at = event.recorded_at;
    let update = |sql: &'static str| sqlx::query(sql).bind(id).bind(at);
    match decoded {
        UserEvent::UserRegistered {
            telegram_id,
            profile,
            referral_code,
            invited_with,
            ..
        } => {
            sqlx::query(
                "INSERT INTO rm_users (user_id, telegram_id, first_name, last_name, username, language, role, \
                   referral_code, invited_with, registered_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'client', $7, $8, $9, $9) ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(id)
            .bind(telegram_id)
            .bind(&profile.first_name)
            .bind(&profile.last_name)
            .bind(&profile.username)
            .bind(&profile.language)
            .bind(&referral_code)
            .bind(&invited_with)
            .bind(at)
            .execute(connection)
            .await?;
        }
        UserEvent::ConsentGiven { terms_version } => {
            update("UPDATE rm_users SET consent = $3, updated_at = $2 WHERE user_id = $1")
                .bind(terms_version)
                .execute(connection)
                .await?;
        }
        UserEvent::RoleChanged { to, .. } => {
            update("UPDATE rm_users SET role = $3, updated_at = $2 WHERE user_id = $1")
                .bind(wire_name(&to))
                .execute(connection)
                .await?;
        }
        UserEvent::UserBlocked { .. } => {
            update("UPDATE rm_users SET blocked = true, updated_at = $2 WHERE user_id = $1")
                .execute(connection)
                .await?;
        }
        UserEvent::UserUnblocked {} => {
            update("UPDATE rm_users SET blocked = false, updated_at = $2 WHERE user_id = $1")
                .execute(connection)
                .await?;
        }
        UserEvent::ProfileUpdated { profile } => {
            update(
                "UPDATE rm_users SET first_name = $3, last_name = $4, username = $5, language = $6, \
                   updated_at = $2 WHERE user_id = $1",
            )
            .bind(profile.first_name)
            .bind(profile.last_name)
            .bind(profile.username)
            .bind(profile.language)
            .execute(connection)
            .await?;
        }
        UserEvent::ReferrerLinked { referrer_id } => {
            update("UPDATE rm_users SET referrer_id = $3, updated_at = $2 WHERE user_id = $1")
                .bind(referrer_id.to_string())
                .execute(connection)
                .await?;
        }
    }
    Ok(())
}

impl Projection for Users {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable::tables(&["rm_users"]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::Users.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["User"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event))
    }
}
