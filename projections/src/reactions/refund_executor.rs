//! The refund executor: for every refund the domain recorded as requested (by staff,
//! for a cancelled order, for a payment that paid for nothing), it records the call
//! to make in `refund_calls`, in the worker's transaction. The call itself is made
//! outside any transaction, by [`super::refund_calls::RefundCalls`].

use std::sync::Arc;

use domain::payment::PaymentEvent;
use sqlx::PgConnection;
use tokio::sync::Notify;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct RefundExecutor {
    wake: Arc<Notify>,
}

impl RefundExecutor {
    /// `wake` is the refund calls' loop's ([`super::refund_calls::RefundCalls::waker`]).
    pub fn new(wake: Arc<Notify>) -> Self {
        Self { wake }
    }

    async fn record(
        &self,
        connection: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), ApplyError> {
        let PaymentEvent::RefundRequested { refund_id, .. } = event.decode::<PaymentEvent>()?
        else {
            return Ok(());
        };
        let payment_id = event.aggregate_uuid()?;
        domain::use_cases::payments::record_refund_call(connection, payment_id, &refund_id).await?;
        self.wake.notify_one();
        Ok(())
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
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(self.record(connection, event))
    }
}
