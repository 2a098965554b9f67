//! A projection applied inline, in the transaction of the command that wrote its
//! events (`domain::command::inline`): the same `apply` and the same checkpoints as
//! its worker, so the worker finds the events applied and skips them.

use std::sync::Arc;

use domain::command::inline::{AppendedEvent, InlineError, InlineFuture, InlineProjection};
use prometheus_client::metrics::counter::Counter;
use sqlx::PgConnection;

use super::apply::apply_in;
use super::metrics::ProjectionMetrics;
use super::projection::Projection;
use crate::envelope::EventEnvelope;

/// `projection` as an inline read model, counted in the worker's metrics: its events
/// in `ledgerbot_projection_events_applied` (the worker skips them, so each is
/// counted once), and the commands it left to the worker in
/// `ledgerbot_projection_inline_left_to_worker`.
pub struct InlineReadModel<P: Projection + ?Sized> {
    projection: Arc<P>,
    applied: Counter,
    left_to_worker: Counter,
}

impl<P: Projection + ?Sized> InlineReadModel<P> {
    pub fn new(projection: Arc<P>, metrics: &ProjectionMetrics) -> Self {
        Self {
            applied: metrics.applied(projection.name()),
            left_to_worker: metrics.inline_left_to_worker(projection.name()),
            projection,
        }
    }
}

impl<P: Projection + ?Sized> InlineProjection for InlineReadModel<P> {
    fn name(&self) -> &'static str {
        self.projection.name()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        self.projection.aggregate_types()
    }

    fn committed(&self, events: u64) {
        self.applied.inc_by(events);
    }

    fn left_to_worker(&self) {
        self.left_to_worker.inc();
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [AppendedEvent],
    ) -> InlineFuture<'a> {
        Box::pin(async move {
            let envelopes: Vec<EventEnvelope> = events.iter().map(envelope).collect();
            let batch: Vec<&EventEnvelope> = envelopes.iter().collect();
            apply_in(connection, &*self.projection, &batch, false)
                .await
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
