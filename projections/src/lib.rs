//! Everything downstream of the event store: the outbox relay that carries committed
//! events into NATS JetStream, the envelope those events travel in, the stream they
//! travel on, the projection workers, the read models with the queries over their
//! tables, the process managers, the scheduler and the housekeeping jobs, and waiting
//! for a read model to show one's own writes.

pub mod advisory;
pub mod envelope;
pub mod housekeeping;
mod names;
pub mod reactions;
pub mod read_models;
pub mod read_your_writes;
pub mod relay;
pub mod scheduler;
pub mod stream;
pub mod worker;

pub use envelope::EventEnvelope;
pub use names::ProjectionName;
pub use read_models::ReadModels;
pub use stream::StreamSettings;
