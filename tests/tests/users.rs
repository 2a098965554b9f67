//! The users read model after a scripted history.

use std::time::Duration;

use api::startup::Parts;
use domain::command::{CommandContext, Commands};
use domain::permissions::Role;
use domain::user::{Profile, UserCommand};
use serde_json::Value;
use tests::app::spawn_app;
use tests::{TestContext, eventually};
use uuid::Uuid;

fn id(n: u8) -> Uuid {
    Uuid::parse_str(&format!("0193a1b2-0000-7000-8000-0000000000{n:02x}")).expect("uuid")
}

#[tokio::test]
async fn the_users_read_model_after_a_scripted_history() {
    let context = TestContext::new().await;
    let commands = Commands::over(context.pool.clone());
    let who = CommandContext::system("script");
    for (n, name, username) in [
        (1, "Анна", Some("anna")),
        (2, "Борис", None),
        (3, "Вера", Some("vera_3")),
    ] {
        commands
            .users
            .execute(
                &id(n).to_string(),
                UserCommand::Register {
                    user_id: id(n),
                    telegram_id: 1_000 + i64::from(n),
                    profile: Profile {
                        first_name: name.to_owned(),
                        last_name: None,
                        username: username.map(str::to_owned),
                        language: Some("ru".to_owned()),
                        photo_url: None,
                    },
                    invited_with: (n > 1).then(|| "0000000001".to_owned()),
                    referral_code: None,
                },
                &who,
            )
            .await
            .expect("registered");
    }
    for n in [2, 3] {
        commands
            .users
            .execute(
                &id(n).to_string(),
                UserCommand::LinkReferrer { referrer_id: id(1) },
                &who,
            )
            .await
            .expect("linked");
    }
    let steps = [
        (
            1,
            UserCommand::GiveConsent {
                terms_version: "2026-11".to_owned(),
            },
        ),
        (
            2,
            UserCommand::ChangeRole {
                role: Role::Executor,
                by: Role::Admin,
            },
        ),
        (
            3,
            UserCommand::Block {
                reason: "spam".to_owned(),
                by: Role::Admin,
            },
        ),
    ];
    for (n, command) in steps {
        commands
            .users
            .execute(&id(n).to_string(), command, &who)
            .await
            .expect("step");
    }
    let app = spawn_app(context.settings(), Parts::ALL).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT COALESCE(sum(sequence), 0)::bigint FROM projection_checkpoints WHERE projection = 'users'",
            )
            .fetch_one(&context.pool)
            .await
            .is_ok_and(|applied| applied == 8)
        })
        .await
    );
    app.stop().await;
    let model: Value = sqlx::query_scalar(
        "SELECT COALESCE(jsonb_agg(jsonb_build_object( \
                  'user_id', u.user_id, 'telegram_id', u.telegram_id, 'first_name', u.first_name, \
                  'username', u.username, 'role', u.role, 'blocked', u.blocked, \
                  'referral_code', u.referral_code, 'invited_with', u.invited_with, \
                  'referrer_id', u.referrer_id, 'consent', u.consent, \
                  'referrals', (SELECT count(*) FROM rm_users r WHERE r.referrer_id = u.user_id)) \
                ORDER BY u.telegram_id), '[]'::jsonb) \
         FROM rm_users u",
    )
    .fetch_one(&context.pool)
    .await
    .expect("users");
    insta::assert_json_snapshot!("users_read_model", model);
    context.cleanup().await;
}
