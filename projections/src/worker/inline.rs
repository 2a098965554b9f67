//! A projection applied inline, in the transaction of the command that wrote its
//! events (`domain::command::inline`): the same `apply` and the same checkpoints as
//! its worker, so the worker finds the events applied and skips them.

use std::sync::Arc;

use domain::command::inline::{AppendedEvent, InlineError, InlineFuture, InlineProjection};
use sqlx::PgConnection;

use super::apply::apply_in;
use super::projection::Projection;
use crate::envelope::EventEnvelope;

/// `projection` as an inline read model.
pub struct InlineReadModel<P: Projection + ?Sized>(pub Arc<P>);

impl<P: Projection + ?Sized> InlineProjection for InlineReadModel<P> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        self.0.aggregate_types()
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [AppendedEvent],
    ) -> InlineFuture<'a> {
        Box::pin(async move {
            let envelopes: Vec<EventEnvelope> = events.iter().map(envelope).collect();
            let batch: Vec<&EventEnvelope> = envelopes.iter().collect();
            apply_in(connection, &*self.0, &batch, false)
                .await
                .map(|_| ())
                .map_err(|failure| InlineError(failure.error.to_string()))
        })
    }
}

fn envelope(event: &AppendedEvent) -> EventEnvelope {
    EventEnvelope {
        aggregate_type: event.aggregate_type.clone(),
        aggregate_id: event.aggregate_id.clone(),
        sequence: event.sequence,
        event_type: event.event_type.clone(),
        event_version: event.event_version.clone(),
        payload: event.payload.clone(),
        metadata: event.metadata.clone(),
        global_position: event.global_position,
        recorded_at: event.recorded_at,
    }
}
