use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::DomainEvent;
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;

type JobTest = TestFramework<GenerationJob>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0)
        .single()
        .expect("a time")
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn requested() -> GenerationEvent {
    GenerationEvent::GenerationRequested {
        job_id: id(1),
        user_id: id(2),
        kind: GenerationKind::Fitting,
        input_files: vec![id(3), id(4)],
        price: 2,
        requested_at: at(),
    }
}

fn charged() -> GenerationEvent {
    GenerationEvent::GenerationCharged { charged_at: at() }
}

fn started(attempt: u32) -> GenerationEvent {
    GenerationEvent::GenerationStarted {
        attempt,
        started_at: at(),
    }
}

fn failed() -> GenerationEvent {
    GenerationEvent::GenerationFailed {
        reason: "the provider failed".into(),
        attempts: 3,
        failed_at: at(),
    }
}

#[tokio::test]
async fn a_fitting_takes_two_photos() {
    JobTest::with(())
        .given_no_previous_events()
        .when_async(GenerationCommand::Request {
            job_id: id(1),
            user_id: id(2),
            kind: GenerationKind::Fitting,
            input_files: vec![id(3)],
            price: 2,
            at: at(),
        })
        .await
        .then_expect_error(GenerationError::WrongInputs {
            kind: "fitting",
            wanted: 2,
            given: 1,
        });
    JobTest::with(())
        .given_no_previous_events()
        .when_async(GenerationCommand::Request {
            job_id: id(1),
            user_id: id(2),
            kind: GenerationKind::Fitting,
            input_files: vec![id(3), id(4)],
            price: 2,
            at: at(),
        })
        .await
        .then_expect_events(vec![requested()]);
}

#[tokio::test]
async fn charging_and_rejecting_happen_once_and_exclude_each_other() {
    JobTest::with(())
        .given(vec![requested(), charged()])
        .when_async(GenerationCommand::RecordCharge { at: at() })
        .await
        .then_expect_events(vec![]);
    JobTest::with(())
        .given(vec![requested(), charged()])
        .when_async(GenerationCommand::Reject {
            reason: "insufficient_credits".into(),
            at: at(),
        })
        .await
        .then_expect_error(GenerationError::WrongStatus {
            status: JobStatus::Charged,
            wanted: "be rejected",
        });
    let rejected = GenerationEvent::GenerationRejected {
        reason: "insufficient_credits".into(),
        rejected_at: at(),
    };
    JobTest::with(())
        .given(vec![requested(), rejected])
        .when_async(GenerationCommand::RecordCharge { at: at() })
        .await
        .then_expect_error(GenerationError::WrongStatus {
            status: JobStatus::Rejected,
            wanted: "be charged",
        });
}

#[tokio::test]
async fn an_attempt_starts_once_and_a_rejected_job_never_runs() {
    JobTest::with(())
        .given(vec![requested(), charged(), started(1)])
        .when_async(GenerationCommand::Start {
            attempt: 1,
            at: at(),
        })
        .await
        .then_expect_events(vec![]);
    JobTest::with(())
        .given(vec![requested(), charged(), started(1)])
        .when_async(GenerationCommand::Start {
            attempt: 2,
            at: at(),
        })
        .await
        .then_expect_events(vec![started(2)]);
    JobTest::with(())
        .given(vec![requested()])
        .when_async(GenerationCommand::Start {
            attempt: 1,
            at: at(),
        })
        .await
        .then_expect_error(GenerationError::WrongStatus {
            status: JobStatus::Requested,
            wanted: "start",
        });
}

#[tokio::test]
async fn credits_come_back_once_and_only_after_a_failure() {
    JobTest::with(())
        .given(vec![requested(), charged(), started(3), failed()])
        .when_async(GenerationCommand::RecordCreditsReturned { at: at() })
        .await
        .then_expect_events(vec![GenerationEvent::GenerationCreditsReturned {
            credits: 2,
            returned_at: at(),
        }]);
    JobTest::with(())
        .given(vec![
            requested(),
            charged(),
            failed(),
            GenerationEvent::GenerationCreditsReturned {
                credits: 2,
                returned_at: at(),
            },
        ])
        .when_async(GenerationCommand::RecordCreditsReturned { at: at() })
        .await
        .then_expect_events(vec![]);
    let succeeded = GenerationEvent::GenerationSucceeded {
        result_file: id(9),
        finished_at: at(),
    };
    JobTest::with(())
        .given(vec![requested(), charged(), started(1), succeeded.clone()])
        .when_async(GenerationCommand::RecordCreditsReturned { at: at() })
        .await
        .then_expect_error(GenerationError::WrongStatus {
            status: JobStatus::Succeeded,
            wanted: "return its credits",
        });
    JobTest::with(())
        .given(vec![requested(), charged(), started(1), succeeded])
        .when_async(GenerationCommand::Fail {
            reason: "late".into(),
            attempts: 1,
            at: at(),
        })
        .await
        .then_expect_error(GenerationError::WrongStatus {
            status: JobStatus::Succeeded,
            wanted: "fail",
        });
}

#[test]
fn every_event_variant_has_a_stable_json_shape() {
    let events = [
        requested(),
        charged(),
        GenerationEvent::GenerationRejected {
            reason: "insufficient_credits".into(),
            rejected_at: at(),
        },
        started(1),
        GenerationEvent::GenerationSucceeded {
            result_file: id(9),
            finished_at: at(),
        },
        failed(),
        GenerationEvent::GenerationCreditsReturned {
            credits: 2,
            returned_at: at(),
        },
    ];
    let typed: Vec<(String, String, &GenerationEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
}
