use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{GenerationCommand, GenerationError, GenerationEvent};

/// Where a job is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    #[default]
    New,
    Requested,
    Charged,
    Running,
    Succeeded,
    Failed,
    Rejected,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationJob {
    pub status: JobStatus,
    pub user_id: Option<Uuid>,
    pub price: u64,
    pub attempts: u32,
    pub result_file: Option<Uuid>,
    pub credits_returned: bool,
}

impl GenerationJob {
    fn decide(&self, command: GenerationCommand) -> Result<Vec<GenerationEvent>, GenerationError> {
        use GenerationCommand as C;
        use GenerationEvent as E;
        use JobStatus as S;
        let wrong = |wanted| GenerationError::WrongStatus {
            status: self.status,
            wanted,
        };
        Ok(match command {
            C::Request {
                job_id,
                user_id,
                kind,
                input_files,
                price,
                at,
            } => {
                if self.status != S::New {
                    return Err(GenerationError::AlreadyRequested);
                }
                if input_files.len() != kind.inputs() {
                    return Err(GenerationError::WrongInputs {
                        kind: kind.as_str(),
                        wanted: kind.inputs(),
                        given: input_files.len(),
                    });
                }
                vec![E::GenerationRequested {
                    job_id,
                    user_id,
                    kind,
                    input_files,
                    price,
                    requested_at: at,
                }]
            }
            C::RecordCharge { at } => match self.status {
                S::Requested => vec![E::GenerationCharged { charged_at: at }],
                S::Charged | S::Running | S::Succeeded | S::Failed => vec![],
                _ => return Err(wrong("be charged")),
            },
            C::Reject { reason, at } => match self.status {
                S::Requested => vec![E::GenerationRejected {
                    reason,
                    rejected_at: at,
                }],
                S::Rejected => vec![],
                _ => return Err(wrong("be rejected")),
            },
            C::Start { attempt, at } => match self.status {
                S::Charged | S::Running if attempt > self.attempts => {
                    vec![E::GenerationStarted {
                        attempt,
                        started_at: at,
                    }]
                }
                S::Charged | S::Running => vec![],
                _ => return Err(wrong("start")),
            },
            C::Succeed { result_file, at } => match self.status {
                S::Charged | S::Running => vec![E::GenerationSucceeded {
                    result_file,
                    finished_at: at,
                }],
                S::Succeeded if self.result_file == Some(result_file) => vec![],
                _ => return Err(wrong("succeed")),
            },
            C::Fail {
                reason,
                attempts,
                at,
            } => match self.status {
                S::Charged | S::Running => vec![E::GenerationFailed {
                    reason,
                    attempts,
                    failed_at: at,
                }],
                S::Failed => vec![],
                _ => return Err(wrong("fail")),
            },
            C::RecordCreditsReturned { at } => match self.status {
                S::Failed if !self.credits_returned => vec![E::GenerationCreditsReturned {
                    credits: self.price,
                    returned_at: at,
                }],
                S::Failed => vec![],
                _ => return Err(wrong("return its credits")),
            },
        })
    }
}

impl Aggregate for GenerationJob {
    const TYPE: &'static str = "GenerationJob";
    type Command = GenerationCommand;
    type Event = GenerationEvent;
    type Error = GenerationError;
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
        use GenerationEvent as E;
        match event {
            E::GenerationRequested { user_id, price, .. } => {
                self.status = JobStatus::Requested;
                self.user_id = Some(user_id);
                self.price = price;
            }
            E::GenerationCharged { .. } => self.status = JobStatus::Charged,
            E::GenerationRejected { .. } => self.status = JobStatus::Rejected,
            E::GenerationStarted { attempt, .. } => {
                self.status = JobStatus::Running;
                self.attempts = attempt;
            }
            E::GenerationSucceeded { result_file, .. } => {
                self.status = JobStatus::Succeeded;
                self.result_file = Some(result_file);
            }
            E::GenerationFailed { .. } => self.status = JobStatus::Failed,
            E::GenerationCreditsReturned { .. } => self.credits_returned = true,
        }
    }
}
