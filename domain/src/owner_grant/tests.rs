use cqrs_es::DomainEvent;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;

type GrantTest = TestFramework<OwnerGrant>;

fn granted() -> OwnerGrantEvent {
    OwnerGrantEvent::OwnerGranted {
        telegram_id: 42,
        reason: "the founder".to_owned(),
    }
}

fn grant(reason: &str) -> OwnerGrantCommand {
    OwnerGrantCommand::Grant {
        telegram_id: 42,
        reason: reason.to_owned(),
    }
}

#[tokio::test]
async fn a_grant_is_recorded_once_with_its_reason() {
    GrantTest::with(())
        .given_no_previous_events()
        .when_async(grant("  the founder "))
        .await
        .then_expect_events(vec![granted()]);
    GrantTest::with(())
        .given(vec![granted()])
        .when_async(grant("said again"))
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn a_grant_needs_a_reason() {
    for reason in ["", "   ", &"x".repeat(501)] {
        GrantTest::with(())
            .given_no_previous_events()
            .when_async(grant(reason))
            .await
            .then_expect_error(OwnerGrantError::InvalidReason);
    }
}

#[tokio::test]
async fn a_grant_applies_to_one_user_once() {
    let user = Uuid::now_v7();
    GrantTest::with(())
        .given_no_previous_events()
        .when_async(OwnerGrantCommand::MarkApplied { user_id: user })
        .await
        .then_expect_error(OwnerGrantError::NotGranted);
    GrantTest::with(())
        .given(vec![granted()])
        .when_async(OwnerGrantCommand::MarkApplied { user_id: user })
        .await
        .then_expect_events(vec![OwnerGrantEvent::OwnerGrantApplied { user_id: user }]);
    let applied = vec![
        granted(),
        OwnerGrantEvent::OwnerGrantApplied { user_id: user },
    ];
    GrantTest::with(())
        .given(applied.clone())
        .when_async(OwnerGrantCommand::MarkApplied { user_id: user })
        .await
        .then_expect_events(vec![]);
    let other = Uuid::now_v7();
    GrantTest::with(())
        .given(applied)
        .when_async(OwnerGrantCommand::MarkApplied { user_id: other })
        .await
        .then_expect_error(OwnerGrantError::AppliedToAnother(user));
}

#[test]
fn every_event_variant_has_a_stable_json_shape() {
    let user = Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001);
    let events = [
        granted(),
        OwnerGrantEvent::OwnerGrantApplied { user_id: user },
    ];
    let typed: Vec<(String, String, &OwnerGrantEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
}
