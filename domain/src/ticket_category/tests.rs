use cqrs_es::DomainEvent;
use cqrs_es::test::TestFramework;

use super::*;
use crate::permissions::Role;

type CategoryTest = TestFramework<TicketCategory>;

fn look() -> CategoryLook {
    CategoryLook {
        name: "Оплата".to_owned(),
        icon: Some("💳".to_owned()),
        colour: "#2E7D32".to_owned(),
        position: 10,
        active: true,
    }
}

fn created() -> CategoryEvent {
    CategoryEvent::CategoryCreated { look: look() }
}

#[tokio::test]
async fn admins_create_a_category_once() {
    CategoryTest::with(())
        .given_no_previous_events()
        .when_async(CategoryCommand::Create {
            look: look(),
            by: Role::Admin,
        })
        .await
        .then_expect_events(vec![created()]);
    CategoryTest::with(())
        .given(vec![created()])
        .when_async(CategoryCommand::Create {
            look: look(),
            by: Role::Owner,
        })
        .await
        .then_expect_error(CategoryError::AlreadyExists);
    for role in [Role::Client, Role::Executor, Role::Support] {
        CategoryTest::with(())
            .given_no_previous_events()
            .when_async(CategoryCommand::Create {
                look: look(),
                by: role,
            })
            .await
            .then_expect_error(CategoryError::Forbidden);
    }
}

#[tokio::test]
async fn looks_are_checked() {
    let cases = [
        (
            CategoryLook {
                name: " ".to_owned(),
                ..look()
            },
            "name",
        ),
        (
            CategoryLook {
                name: "я".repeat(65),
                ..look()
            },
            "name",
        ),
        (
            CategoryLook {
                icon: Some("🙂".repeat(9)),
                ..look()
            },
            "icon",
        ),
        (
            CategoryLook {
                colour: "green".to_owned(),
                ..look()
            },
            "colour",
        ),
        (
            CategoryLook {
                colour: "#12345G".to_owned(),
                ..look()
            },
            "colour",
        ),
    ];
    for (bad, field) in cases {
        let result = CategoryTest::with(())
            .given_no_previous_events()
            .when_async(CategoryCommand::Create {
                look: bad,
                by: Role::Admin,
            })
            .await
            .inspect_result();
        assert!(
            matches!(result, Err(CategoryError::Invalid { field: got, .. }) if got == field),
            "{field}: {result:?}"
        );
    }
    assert!(valid_code("payments") && valid_code("ai-images_2"));
    assert!(
        !valid_code("")
            && !valid_code("Payments")
            && !valid_code("оплата")
            && !valid_code(&"a".repeat(33))
    );
}

#[tokio::test]
async fn a_change_keeps_what_it_does_not_name_and_a_no_change_is_no_event() {
    CategoryTest::with(())
        .given(vec![created()])
        .when_async(CategoryCommand::Update {
            change: CategoryChange {
                active: Some(false),
                icon: Some(None),
                ..CategoryChange::default()
            },
            by: Role::Admin,
        })
        .await
        .then_expect_events(vec![CategoryEvent::CategoryUpdated {
            look: CategoryLook {
                active: false,
                icon: None,
                ..look()
            },
        }]);
    CategoryTest::with(())
        .given(vec![created()])
        .when_async(CategoryCommand::Update {
            change: CategoryChange {
                name: Some("Оплата".to_owned()),
                ..CategoryChange::default()
            },
            by: Role::Admin,
        })
        .await
        .then_expect_events(vec![]);
    CategoryTest::with(())
        .given_no_previous_events()
        .when_async(CategoryCommand::Update {
            change: CategoryChange::default(),
            by: Role::Admin,
        })
        .await
        .then_expect_error(CategoryError::NotFound);
}

#[tokio::test]
async fn a_deleted_category_can_be_created_again() {
    let deleted = vec![created(), CategoryEvent::CategoryDeleted {}];
    CategoryTest::with(())
        .given(vec![created()])
        .when_async(CategoryCommand::Delete { by: Role::Owner })
        .await
        .then_expect_events(vec![CategoryEvent::CategoryDeleted {}]);
    CategoryTest::with(())
        .given(deleted.clone())
        .when_async(CategoryCommand::Delete { by: Role::Owner })
        .await
        .then_expect_error(CategoryError::NotFound);
    CategoryTest::with(())
        .given(deleted)
        .when_async(CategoryCommand::Create {
            look: look(),
            by: Role::Admin,
        })
        .await
        .then_expect_events(vec![created()]);
}

#[test]
fn every_event_variant_has_a_stable_json_shape() {
    let events = [
        created(),
        CategoryEvent::CategoryUpdated {
            look: CategoryLook {
                active: false,
                ..look()
            },
        },
        CategoryEvent::CategoryDeleted {},
    ];
    let typed: Vec<(String, String, &CategoryEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
}
