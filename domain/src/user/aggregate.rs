use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Profile, UserCommand, UserError, UserEvent};
use crate::permissions::Role;

const MAX_NAME: usize = 256;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    user_id: Option<Uuid>,
    telegram_id: Option<i64>,
    profile: Option<Profile>,
    role: Role,
    blocked: bool,
    consent: Option<String>,
    referral_code: String,
    referrer_id: Option<Uuid>,
}

/// A user's own referral code: the first 10 hex digits of the random part of their
/// UUID v7 (stable, short enough for a `start` parameter).
pub fn referral_code_for(user_id: Uuid) -> String {
    let hex = user_id.simple().to_string();
    hex[hex.len() - 10..].to_owned()
}

fn check_profile(profile: &Profile) -> Result<(), UserError> {
    let first_name = profile.first_name.trim();
    if first_name.is_empty() || first_name.chars().count() > MAX_NAME {
        return Err(UserError::Invalid {
            field: "first name",
            rule: "1 to 256 characters",
        });
    }
    if profile
        .last_name
        .as_ref()
        .is_some_and(|name| name.chars().count() > MAX_NAME)
    {
        return Err(UserError::Invalid {
            field: "last name",
            rule: "at most 256 characters",
        });
    }
    if profile.username.as_ref().is_some_and(|username| {
        username.len() > 32
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
    }) {
        return Err(UserError::Invalid {
            field: "username",
            rule: "up to 32 letters, digits and underscores",
        });
    }
    if profile
        .language
        .as_ref()
        .is_some_and(|language| language.is_empty() || language.chars().count() > 35)
    {
        return Err(UserError::Invalid {
            field: "language",
            rule: "a language tag such as ru or en",
        });
    }
    Ok(())
}

impl User {
    pub fn role(&self) -> Role {
        self.role
    }

    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    pub fn referrer_id(&self) -> Option<Uuid> {
        self.referrer_id
    }

    pub fn referral_code(&self) -> &str {
        &self.referral_code
    }

    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// The version of the terms the user last agreed to.
    pub fn consent(&self) -> Option<&str> {
        self.consent.as_deref()
    }

    fn decide(&self, command: UserCommand) -> Result<Vec<UserEvent>, UserError> {
        if let UserCommand::Register {
            user_id,
            telegram_id,
            profile,
            invited_with,
            referral_code,
        } = command
        {
            return match self.telegram_id {
                Some(known) if known == telegram_id => Ok(vec![]),
                Some(_) => Err(UserError::TelegramMismatch),
                None => {
                    check_profile(&profile)?;
                    let referral_code = referral_code.unwrap_or_else(|| referral_code_for(user_id));
                    if !(6..=32).contains(&referral_code.len())
                        || !referral_code.bytes().all(|b| b.is_ascii_alphanumeric())
                    {
                        return Err(UserError::Invalid {
                            field: "referral code",
                            rule: "6 to 32 letters and digits",
                        });
                    }
                    Ok(vec![UserEvent::UserRegistered {
                        user_id,
                        telegram_id,
                        profile,
                        referral_code,
                        invited_with: invited_with.filter(|code| !code.trim().is_empty()),
                    }])
                }
            };
        }
        let Some(user_id) = self.user_id else {
            return Err(UserError::NotRegistered);
        };
        match command {
            UserCommand::Register { .. } => Ok(vec![]),
            UserCommand::GiveConsent { terms_version } => {
                if terms_version.trim().is_empty() {
                    return Err(UserError::Invalid {
                        field: "terms version",
                        rule: "given",
                    });
                }
                if self.consent.as_deref() == Some(terms_version.as_str()) {
                    return Ok(vec![]);
                }
                Ok(vec![UserEvent::ConsentGiven { terms_version }])
            }
            UserCommand::ChangeRole { role, by } => {
                if !matches!(by, Role::Admin | Role::Owner) {
                    return Err(UserError::NotAllowed {
                        by,
                        what: "change roles",
                    });
                }
                let touches_management = matches!(role, Role::Admin | Role::Owner)
                    || matches!(self.role, Role::Admin | Role::Owner);
                if touches_management && by != Role::Owner {
                    return Err(UserError::NotAllowed {
                        by,
                        what: "make or unmake an admin or owner",
                    });
                }
                if role == self.role {
                    return Ok(vec![]);
                }
                Ok(vec![UserEvent::RoleChanged {
                    from: self.role,
                    to: role,
                }])
            }
            UserCommand::Block { reason, by } => {
                if !matches!(by, Role::Admin | Role::Owner) {
                    return Err(UserError::NotAllowed {
                        by,
                        what: "block users",
                    });
                }
                if matches!(self.role, Role::Admin | Role::Owner) && by != Role::Owner {
                    return Err(UserError::NotAllowed {
                        by,
                        what: "block an admin or owner",
                    });
                }
                if self.blocked {
                    return Err(UserError::AlreadyBlocked);
                }
                if reason.trim().is_empty() {
                    return Err(UserError::Invalid {
                        field: "reason",
                        rule: "given",
                    });
                }
                Ok(vec![UserEvent::UserBlocked { reason }])
            }
            UserCommand::Unblock { by } => {
                if !matches!(by, Role::Admin | Role::Owner) {
                    return Err(UserError::NotAllowed {
                        by,
                        what: "unblock users",
                    });
                }
                if matches!(self.role, Role::Admin | Role::Owner) && by != Role::Owner {
                    return Err(UserError::NotAllowed {
                        by,
                        what: "unblock an admin or owner",
                    });
                }
                if !self.blocked {
                    return Err(UserError::NotBlocked);
                }
                Ok(vec![UserEvent::UserUnblocked {}])
            }
            UserCommand::UpdateProfile { profile } => {
                check_profile(&profile)?;
                if self.profile.as_ref() == Some(&profile) {
                    return Ok(vec![]);
                }
                Ok(vec![UserEvent::ProfileUpdated { profile }])
            }
            UserCommand::LinkReferrer { referrer_id } => {
                if referrer_id == user_id {
                    return Err(UserError::SelfReferral);
                }
                match self.referrer_id {
                    Some(linked) if linked == referrer_id => Ok(vec![]),
                    Some(_) => Err(UserError::ReferrerAlreadyLinked),
                    None => Ok(vec![UserEvent::ReferrerLinked { referrer_id }]),
                }
            }
        }
    }
}

impl Aggregate for User {
    const TYPE: &'static str = "User";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            UserEvent::UserRegistered {
                user_id,
                telegram_id,
                profile,
                referral_code,
                ..
            } => {
                self.user_id = Some(user_id);
                self.telegram_id = Some(telegram_id);
                self.profile = Some(profile);
                self.referral_code = referral_code;
            }
            UserEvent::ConsentGiven { terms_version } => self.consent = Some(terms_version),
            UserEvent::RoleChanged { to, .. } => self.role = to,
            UserEvent::UserBlocked { .. } => self.blocked = true,
            UserEvent::UserUnblocked {} => self.blocked = false,
            UserEvent::ProfileUpdated { profile } => self.profile = Some(profile),
            UserEvent::ReferrerLinked { referrer_id } => self.referrer_id = Some(referrer_id),
        }
    }
}
