use cqrs_es::DomainEvent;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::permissions::Role;

type UserTest = TestFramework<User>;

fn id(n: u8) -> Uuid {
    Uuid::parse_str(&format!("0193a1b2-0000-7000-8000-0000000000{n:02x}")).expect("uuid")
}

fn profile() -> Profile {
    Profile {
        first_name: "Ёлка".to_owned(),
        last_name: Some("Иванова".to_owned()),
        username: Some("yolka_99".to_owned()),
        language: Some("ru".to_owned()),
        photo_url: None,
    }
}

fn registered() -> UserEvent {
    UserEvent::UserRegistered {
        user_id: id(1),
        telegram_id: 279_058_397,
        profile: profile(),
        referral_code: "0000000001".to_owned(),
        invited_with: Some("abc123".to_owned()),
    }
}

fn role(from: Role, to: Role) -> UserEvent {
    UserEvent::RoleChanged { from, to }
}

#[tokio::test]
async fn register_once_per_telegram_account() {
    let register = UserCommand::Register {
        user_id: id(1),
        telegram_id: 279_058_397,
        profile: profile(),
        invited_with: Some("abc123".to_owned()),
        referral_code: None,
    };
    UserTest::with(())
        .given_no_previous_events()
        .when_async(register.clone())
        .await
        .then_expect_events(vec![registered()]);
    UserTest::with(())
        .given(vec![registered()])
        .when_async(register)
        .await
        .then_expect_events(vec![]);
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::Register {
            user_id: id(1),
            telegram_id: 1,
            profile: profile(),
            invited_with: None,
            referral_code: None,
        })
        .await
        .then_expect_error(UserError::TelegramMismatch);
}

#[tokio::test]
async fn a_profile_is_checked() {
    let mut nameless = profile();
    nameless.first_name = "  ".to_owned();
    UserTest::with(())
        .given_no_previous_events()
        .when_async(UserCommand::Register {
            user_id: id(1),
            telegram_id: 5,
            profile: nameless,
            invited_with: None,
            referral_code: None,
        })
        .await
        .then_expect_error(UserError::Invalid {
            field: "first name",
            rule: "1 to 256 characters",
        });
    let mut odd = profile();
    odd.username = Some("not a username".to_owned());
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::UpdateProfile { profile: odd })
        .await
        .then_expect_error(UserError::Invalid {
            field: "username",
            rule: "up to 32 letters, digits and underscores",
        });
    let mut renamed = profile();
    renamed.first_name = "Ёлочка".to_owned();
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::UpdateProfile {
            profile: renamed.clone(),
        })
        .await
        .then_expect_events(vec![UserEvent::ProfileUpdated { profile: renamed }]);
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::UpdateProfile { profile: profile() })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn commands_need_a_registered_user() {
    UserTest::with(())
        .given_no_previous_events()
        .when_async(UserCommand::GiveConsent {
            terms_version: "2026-11".to_owned(),
        })
        .await
        .then_expect_error(UserError::NotRegistered);
}

#[tokio::test]
async fn consent_is_recorded_per_terms_version() {
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::GiveConsent {
            terms_version: "2026-11".to_owned(),
        })
        .await
        .then_expect_events(vec![UserEvent::ConsentGiven {
            terms_version: "2026-11".to_owned(),
        }]);
    UserTest::with(())
        .given(vec![
            registered(),
            UserEvent::ConsentGiven {
                terms_version: "2026-11".to_owned(),
            },
        ])
        .when_async(UserCommand::GiveConsent {
            terms_version: "2026-11".to_owned(),
        })
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn admins_change_roles_and_only_owners_touch_admins_and_owners() {
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::ChangeRole {
            role: Role::Executor,
            by: Role::Admin,
        })
        .await
        .then_expect_events(vec![role(Role::Client, Role::Executor)]);
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::ChangeRole {
            role: Role::Executor,
            by: Role::Support,
        })
        .await
        .then_expect_error(UserError::NotAllowed {
            by: Role::Support,
            what: "change roles",
        });
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::ChangeRole {
            role: Role::Admin,
            by: Role::Admin,
        })
        .await
        .then_expect_error(UserError::NotAllowed {
            by: Role::Admin,
            what: "make or unmake an admin or owner",
        });
    UserTest::with(())
        .given(vec![registered(), role(Role::Client, Role::Admin)])
        .when_async(UserCommand::ChangeRole {
            role: Role::Client,
            by: Role::Admin,
        })
        .await
        .then_expect_error(UserError::NotAllowed {
            by: Role::Admin,
            what: "make or unmake an admin or owner",
        });
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::ChangeRole {
            role: Role::Admin,
            by: Role::Owner,
        })
        .await
        .then_expect_events(vec![role(Role::Client, Role::Admin)]);
}

#[tokio::test]
async fn blocking_and_unblocking() {
    let blocked = UserEvent::UserBlocked {
        reason: "spam".to_owned(),
    };
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::Block {
            reason: "spam".to_owned(),
            by: Role::Admin,
        })
        .await
        .then_expect_events(vec![blocked.clone()]);
    UserTest::with(())
        .given(vec![registered(), blocked.clone()])
        .when_async(UserCommand::Block {
            reason: "spam".to_owned(),
            by: Role::Admin,
        })
        .await
        .then_expect_error(UserError::AlreadyBlocked);
    UserTest::with(())
        .given(vec![registered(), role(Role::Client, Role::Admin)])
        .when_async(UserCommand::Block {
            reason: "spam".to_owned(),
            by: Role::Admin,
        })
        .await
        .then_expect_error(UserError::NotAllowed {
            by: Role::Admin,
            what: "block an admin or owner",
        });
    UserTest::with(())
        .given(vec![registered(), blocked])
        .when_async(UserCommand::Unblock { by: Role::Owner })
        .await
        .then_expect_events(vec![UserEvent::UserUnblocked {}]);
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::Unblock { by: Role::Admin })
        .await
        .then_expect_error(UserError::NotBlocked);
}

#[tokio::test]
async fn a_referrer_is_linked_once_and_never_oneself() {
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::LinkReferrer { referrer_id: id(2) })
        .await
        .then_expect_events(vec![UserEvent::ReferrerLinked { referrer_id: id(2) }]);
    UserTest::with(())
        .given(vec![
            registered(),
            UserEvent::ReferrerLinked { referrer_id: id(2) },
        ])
        .when_async(UserCommand::LinkReferrer { referrer_id: id(3) })
        .await
        .then_expect_error(UserError::ReferrerAlreadyLinked);
    UserTest::with(())
        .given(vec![registered()])
        .when_async(UserCommand::LinkReferrer { referrer_id: id(1) })
        .await
        .then_expect_error(UserError::SelfReferral);
}

#[test]
fn referral_codes_are_short_and_stable() {
    assert_eq!(referral_code_for(id(1)), "0000000001");
    assert_eq!(referral_code_for(id(1)).len(), 10);
}

#[test]
fn every_event_variant_has_a_stable_json_shape() {
    let events = [
        registered(),
        UserEvent::ConsentGiven {
            terms_version: "2026-11".to_owned(),
        },
        role(Role::Client, Role::Executor),
        UserEvent::UserBlocked {
            reason: "spam".to_owned(),
        },
        UserEvent::UserUnblocked {},
        UserEvent::ProfileUpdated { profile: profile() },
        UserEvent::ReferrerLinked { referrer_id: id(2) },
    ];
    let typed: Vec<(String, String, &UserEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
}
