//! Everything downstream of the event store: the outbox relay that carries committed
//! events into NATS JetStream, the envelope those events travel in, and the stream
//! they travel on.

pub mod envelope;
pub mod reactions;
pub mod read_models;
pub mod relay;
pub mod scheduler;
pub mod stream;
pub mod worker;

pub use envelope::EventEnvelope;
pub use stream::StreamSettings;
