//! The refund executor: for every refund the domain recorded as requested (by staff,
//! or for a cancelled order), the payments use case asks the provider under the
//! refund's own id as its Idempotence-Key and records the answer. An answer that is no
//! verdict leaves the event unacknowledged, so it is asked again.

use std::sync::Arc;

use domain::payment::PaymentEvent;
use domain::use_cases::Core;
use sqlx::PgConnection;

use super::settle;
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct RefundExecutor {
    core: Arc<Core>,
}

impl RefundExecutor {
    pub fn new(core: Arc<Core>) -> Self {
        Self { core }
    }

    async fn react(&self, event: &EventEnvelope) -> Result<(), ApplyError> {
        let PaymentEvent::RefundRequested { refund_id, .. } = event.decode::<PaymentEvent>()?
        else {
            return Ok(());
        };
        match self
            .core
            .execute_refund(&event.aggregate_id, &refund_id)
            .await
        {
            Ok(_) => Ok(()),
            // No verdict from the provider (unavailable) is tried again when the event
            // comes back, like any outage.
            Err(error) => settle(&format!("refund {refund_id}"), error),
        }
    }
}

impl Projection for RefundExecutor {
    fn name(&self) -> &'static str {
        crate::ProjectionName::RefundExecutor.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["Payment"]
    }

    fn apply<'a>(
        &'a self,
        _connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(self.react(event))
    }
}
