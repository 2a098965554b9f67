//! The use cases of people, called as the bot will call them: no HTTP, the same `Core`
//! and `ReadModels` the API's handlers translate to. Sign-in with a referral, a
//! profile, staff changing a user, a blocked account, desktop login codes.

use api::startup::Parts;
use chrono::Utc;
use domain::command::ErrorKind;
use domain::permissions::Role;
use domain::use_cases::Written;
use domain::use_cases::login_codes::{CollectError, Collected, LoginCodeError};
use domain::use_cases::users::{ProfileChange, UserChange};
use tests::TestContext;
use tests::api_client::settings;
use tests::app::spawn_app;
use tests::eventually;
use tests::people::{owner, signed_in, staff, telegram};

#[tokio::test]
async fn people_sign_in_refer_others_and_staff_change_them() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (core, reads) = (&app.state.core, &app.state.reads);
    core.grant_owner(600_001, "test owner", "test")
        .await
        .expect("granted");
    let owner = core
        .sign_in(&telegram(600_001, "Ольга"), None, Utc::now())
        .await
        .expect("signs in");
    assert_eq!((owner.role, owner.registered_now), (Role::Owner, true));
    let owner = owner.caller();
    let signed = core
        .sign_in(&telegram(600_002, "Дарья"), None, Utc::now())
        .await
        .expect("signs in");
    let inviter = signed.caller();
    let me = reads
        .me(
            inviter.user_id,
            Some(&Written::new(
                inviter.user_id.to_string(),
                signed.user_version,
            )),
        )
        .await
        .expect("reads")
        .expect("the profile");
    let invited = core
        .sign_in(
            &telegram(600_003, "Егор"),
            Some(&format!("ref_{}", me.referral_code)),
            Utc::now(),
        )
        .await
        .expect("signs in");
    let again = core
        .sign_in(&telegram(600_003, "Егор"), None, Utc::now())
        .await
        .expect("signs in again");
    assert_eq!(
        (again.user_id, again.registered_now),
        (invited.user_id, false)
    );
    assert!(
        eventually(std::time::Duration::from_secs(10), || async {
            let referrals = reads
                .referrals(inviter, Some("test_bot"))
                .await
                .expect("reads");
            referrals.referrals.len() == 1
        })
        .await
    );
    let referrals = reads
        .referrals(inviter, Some("test_bot"))
        .await
        .expect("reads");
    assert_eq!(
        referrals.link.as_deref(),
        Some(format!("https://t.me/test_bot?startapp=ref_{}", me.referral_code).as_str())
    );

    // One's own profile; bad input names its field.
    let written = core
        .update_profile(
            inviter,
            ProfileChange {
                first_name: Some("Даша".to_owned()),
                ..ProfileChange::default()
            },
            Utc::now(),
        )
        .await
        .expect("changed");
    let me = reads
        .me(inviter.user_id, Some(&written))
        .await
        .expect("reads");
    assert_eq!(me.map(|me| me.first_name).as_deref(), Some("Даша"));
    let refused = core
        .update_profile(
            inviter,
            ProfileChange {
                last_name: Some(Some("x".repeat(300))),
                ..ProfileChange::default()
            },
            Utc::now(),
        )
        .await
        .expect_err("too long");
    assert_eq!(refused.field.as_deref(), Some("last_name"));

    // Staff block; a blocked account cannot sign in.
    let admin = staff(core, owner, 600_004, "Анна", Role::Admin).await;
    let refused = core
        .change_user(inviter, invited.user_id, UserChange::Unblock, Utc::now())
        .await
        .expect_err("clients do not block");
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    let block = UserChange::Block {
        reason: "spam".to_owned(),
    };
    let written = core
        .change_user(admin, invited.user_id, block, Utc::now())
        .await
        .expect("blocked");
    let seen = reads
        .user(admin, &written.aggregate_id, Some(&written))
        .await
        .expect("reads")
        .expect("the user");
    assert!(seen.blocked);
    let refused = core
        .sign_in(&telegram(600_003, "Егор"), None, Utc::now())
        .await
        .expect_err("blocked");
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_desktop_login_code_is_confirmed_by_staff_and_collected_once() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let core = &app.state.core;
    let owner = owner(core, 610_001).await;
    let master = staff(core, owner, 610_002, "Вера", Role::Executor).await;
    signed_in(core, 610_003, "Клиент").await;
    let now = Utc::now();
    let issued = core
        .issue_login_code("127.0.0.1, Firefox", now)
        .await
        .expect("issued");
    // What the entry point prepares before the code is spent: here, a name.
    let collect = |secret: &str, fail: bool| {
        let (code, secret) = (issued.code.clone(), secret.to_owned());
        async move {
            core.collect_login_code(&code, &secret, now, |staff| async move {
                if fail {
                    Err("the profile is not ready")
                } else {
                    Ok(format!("user {}", staff.user_id))
                }
            })
            .await
        }
    };
    let pending = collect(&issued.secret, false).await.expect("pending");
    assert!(matches!(pending, Collected::Pending { .. }), "{pending:?}");
    assert_eq!(
        core.confirm_login_code(&issued.code, 610_003, now).await,
        Err(LoginCodeError::NotStaff)
    );
    assert_eq!(
        core.confirm_login_code(&issued.code, 619_999, now).await,
        Err(LoginCodeError::NotRegistered)
    );
    let confirmed = core
        .confirm_login_code(&issued.code, 610_002, now)
        .await
        .expect("confirmed");
    assert_eq!(confirmed.user_id, master.user_id);
    assert_eq!(
        collect("wrong secret", false).await,
        Err(CollectError::Refused(LoginCodeError::Unknown))
    );
    // The entry point could not prepare its answer: the code stays collectable.
    assert_eq!(
        collect(&issued.secret, true).await,
        Err(CollectError::Preparing("the profile is not ready"))
    );
    let collected = collect(&issued.secret, false).await.expect("collected");
    assert!(
        matches!(&collected, Collected::SignedIn { staff, prepared }
            if staff.user_id == master.user_id && staff.role == Role::Executor
                && staff.telegram_id == 610_002 && *prepared == format!("user {}", master.user_id)),
        "{collected:?}"
    );
    assert_eq!(
        collect(&issued.secret, false).await,
        Err(CollectError::Refused(LoginCodeError::Used))
    );
    app.stop().await;
    context.cleanup().await;
}
