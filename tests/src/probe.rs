//! A minimal cqrs-es aggregate, used to prove that events written through postgres-es
//! (the store the domain uses) land in our `events` table and flow to NATS.

use std::fmt;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Tally {
    pub total: u64,
}

#[derive(Debug)]
pub enum TallyCommand {
    Add(u64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TallyEvent {
    Added { amount: u64 },
}

impl DomainEvent for TallyEvent {
    fn event_type(&self) -> String {
        "Added".to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

#[derive(Debug, PartialEq)]
pub struct TallyError(pub String);

impl fmt::Display for TallyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TallyError {}

impl Aggregate for Tally {
    const TYPE: &'static str = "Tally";
    type Command = TallyCommand;
    type Event = TallyEvent;
    type Error = TallyError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            TallyCommand::Add(0) => Err(TallyError("nothing to add".to_owned())),
            TallyCommand::Add(amount) => {
                sink.write(TallyEvent::Added { amount }, self).await;
                Ok(())
            }
        }
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            TallyEvent::Added { amount } => self.total += amount,
        }
    }
}
