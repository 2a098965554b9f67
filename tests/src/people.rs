//! People for tests that call the use cases directly, as the bot will: Telegram
//! profiles, signed-in callers, an owner, staff.

use chrono::Utc;
use domain::permissions::{Caller, Role};
use domain::use_cases::Core;
use domain::use_cases::identity::TelegramProfile;
use domain::use_cases::users::UserChange;
use uuid::Uuid;

/// What Telegram would say about `name` with Telegram id `id`.
pub fn telegram(id: i64, name: &str) -> TelegramProfile {
    TelegramProfile {
        id,
        first_name: name.to_owned(),
        last_name: None,
        username: None,
        language_code: Some("ru".to_owned()),
        photo_url: None,
    }
}

/// Signs `name` in (registering them the first time) and returns them as a caller.
pub async fn signed_in(core: &Core, id: i64, name: &str) -> Caller {
    core.sign_in(&telegram(id, name), None, Utc::now())
        .await
        .expect("signs in")
        .caller()
}

/// The business's owner: granted, then signed in.
pub async fn owner(core: &Core, id: i64) -> Caller {
    core.grant_owner(id, "test owner", "test")
        .await
        .expect("granted");
    let caller = signed_in(core, id, "Ольга").await;
    assert_eq!(caller.role, Role::Owner);
    caller
}

/// Makes `caller` `role` (as `owner` would) and returns them in it.
pub async fn promoted(core: &Core, owner: Caller, caller: Caller, role: Role) -> Caller {
    core.change_user(owner, caller.user_id, UserChange::Role(role), Utc::now())
        .await
        .expect("promoted");
    Caller::new(caller.user_id, role)
}

/// Signs `name` in and makes them `role` (as `owner` would).
pub async fn staff(core: &Core, owner: Caller, id: i64, name: &str, role: Role) -> Caller {
    let caller = signed_in(core, id, name).await;
    promoted(core, owner, caller, role).await
}

/// A user registered straight in the store with `role` (no sign-in, no read model).
pub async fn registered_caller(core: &Core, telegram_id: i64, role: Role) -> Caller {
    let id = Uuid::now_v7();
    crate::history::registered(&core.commands, id, telegram_id, "Тест", role).await;
    Caller::new(id, role)
}
