//! Arriving through the bot: nobody is registered before agreeing to the terms, and
//! the version agreed to is recorded (`ConsentGiven`). A user who agreed to an older
//! version is asked again.

use chrono::{DateTime, Utc};

use super::Core;
use super::identity::{SignedIn, TelegramProfile};
use crate::command::CommandError;
use crate::user::UserCommand;

/// The terms the bot shows, and whether the person has just agreed to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms<'a> {
    pub version: &'a str,
    pub accepted: bool,
}

/// What became of someone arriving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// Not registered (or agreed to older terms) and not agreeing now: show the terms.
    NeedsConsent,
    /// Registered (now or before) under the current terms.
    Welcomed(SignedIn),
}

impl Core {
    /// `telegram` arrives with `/start` (`start_param` may carry a referral code, used
    /// at registration only). Registers and records consent only when `terms` are
    /// accepted; a blocked account is refused as by [`Core::sign_in`].
    pub async fn arrive_by_bot(
        &self,
        telegram: &TelegramProfile,
        start_param: Option<&str>,
        terms: Terms<'_>,
        now: DateTime<Utc>,
    ) -> Result<Arrival, CommandError> {
        let agreed_before = match self.user_of_telegram(telegram.id).await? {
            None => false,
            Some(user_id) => {
                let (user, _) = self.commands.users.load(&user_id.to_string()).await?;
                user.profile().is_some() && user.consent() == Some(terms.version)
            }
        };
        if !agreed_before && !terms.accepted {
            return Ok(Arrival::NeedsConsent);
        }
        let mut signed_in = self.sign_in(telegram, start_param, now).await?;
        if !agreed_before {
            let caller = signed_in.caller();
            let committed = self
                .commands
                .users
                .execute(
                    &signed_in.user_id.to_string(),
                    UserCommand::GiveConsent {
                        terms_version: terms.version.to_owned(),
                    },
                    &caller.context().at(now),
                )
                .await?;
            signed_in.user_version = signed_in.user_version.max(committed.sequence);
        }
        Ok(Arrival::Welcomed(signed_in))
    }
}
