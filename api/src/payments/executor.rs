//! The refund executor: for every refund the domain recorded as requested (by staff,
//! or for a cancelled order), ask YooKassa, under the refund's own id as the
//! Idempotence-Key, and record its answer. A worker of the workers part: an outage
//! of YooKassa leaves the event unacknowledged, and it is tried again.

use std::sync::Arc;

use domain::command::{CommandContext, Commands};
use domain::payment::{PaymentCommand, PaymentEvent, RefundOutcome};
use projections::EventEnvelope;
use projections::worker::{ApplyError, ApplyFuture, Projection};
use sqlx::{PgConnection, PgPool};
use tracing::warn;

use super::PaymentGateway;
use crate::yookassa::{Amount, NewRefund, RefundStatus, YooKassaError};

/// Where a refund stands after asking YooKassa.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    Succeeded,
    /// YooKassa is still on it; its notification settles it.
    Pending,
    Failed,
    /// It had its result already.
    Settled,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error("YooKassa could not be reached: {0}")]
    Provider(YooKassaError),
    #[error("{0}")]
    Command(String),
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// Asks YooKassa for refund `refund_id` of payment `payment_id`, once.
pub async fn execute_refund(
    commands: &Commands,
    pool: &PgPool,
    gateway: &PaymentGateway,
    payment_id: &str,
    refund_id: &str,
) -> Result<RefundState, ExecuteError> {
    let context = CommandContext::system("refund-executor");
    let (payment, _) = commands
        .payments
        .load(payment_id)
        .await
        .map_err(|error| ExecuteError::Command(error.message))?;
    let Some(amount) = payment.pending_refund(refund_id) else {
        return Ok(RefundState::Settled);
    };
    let record = |outcome| async move {
        commands
            .payments
            .execute(
                payment_id,
                PaymentCommand::RecordRefundResult {
                    refund_id: refund_id.to_owned(),
                    outcome,
                },
                &context,
            )
            .await
            .map_err(|error| ExecuteError::Command(error.message))
    };
    let Some(provider_payment_id) = payment.provider_payment_id() else {
        record(RefundOutcome::Failed {
            reason: "the payment never reached YooKassa".to_owned(),
        })
        .await?;
        return Ok(RefundState::Failed);
    };
    let answer = gateway
        .client
        .create_refund(
            &NewRefund {
                payment_id: provider_payment_id.to_owned(),
                amount: Amount::rub(amount),
                description: Some(format!("Refund {refund_id}")),
            },
            refund_id,
        )
        .await;
    let object = match answer {
        Ok(object) => object,
        // Unreadable answers and "too many requests" are no verdict: the refund may
        // have been made. Asked again (same key) later.
        Err(error)
            if error.is_retryable()
                || matches!(error, YooKassaError::Malformed(_))
                || matches!(error, YooKassaError::Rejected { status: 429, .. }) =>
        {
            return Err(ExecuteError::Provider(error));
        }
        Err(error) => {
            warn!(payment = payment_id, refund = refund_id, %error, "YooKassa refused a refund");
            record(RefundOutcome::Failed {
                reason: format!("YooKassa refused: {error}"),
            })
            .await?;
            return Ok(RefundState::Failed);
        }
    };
    // The key is shop-wide at YooKassa: an answer about another payment or amount means
    // the key was used before; it is not this refund.
    if object.payment_id != provider_payment_id || object.amount.value != amount {
        tracing::error!(
            payment = payment_id,
            refund = refund_id,
            "YooKassa answered a refund of another payment or amount for this key"
        );
        record(RefundOutcome::Failed {
            reason: "the refund id was used for another refund at YooKassa".to_owned(),
        })
        .await?;
        return Ok(RefundState::Failed);
    }
    sqlx::query(
        "INSERT INTO yookassa_refunds (provider_refund_id, payment_id, refund_id, created_at) \
         VALUES ($1, $2::uuid, $3, now()) ON CONFLICT DO NOTHING",
    )
    .bind(&object.id)
    .bind(payment_id)
    .bind(refund_id)
    .execute(pool)
    .await?;
    Ok(match object.status {
        RefundStatus::Succeeded => {
            record(RefundOutcome::Succeeded {
                provider_refund_id: object.id.clone(),
                refunded_at: object.created_at,
            })
            .await?;
            RefundState::Succeeded
        }
        RefundStatus::Canceled => {
            record(RefundOutcome::Failed {
                reason: object
                    .cancellation_details
                    .as_ref()
                    .map(|details| format!("{}: {}", details.party, details.reason))
                    .unwrap_or_else(|| "canceled at YooKassa".to_owned()),
            })
            .await?;
            RefundState::Failed
        }
        RefundStatus::Pending => RefundState::Pending,
    })
}

/// The worker.
pub struct RefundExecutor {
    commands: Arc<Commands>,
    pool: PgPool,
    gateway: PaymentGateway,
}

impl RefundExecutor {
    pub fn new(commands: Arc<Commands>, pool: PgPool, gateway: PaymentGateway) -> Self {
        Self {
            commands,
            pool,
            gateway,
        }
    }

    async fn react(&self, event: &EventEnvelope) -> Result<(), ApplyError> {
        let PaymentEvent::RefundRequested { refund_id, .. } = event.decode::<PaymentEvent>()?
        else {
            return Ok(());
        };
        match execute_refund(
            &self.commands,
            &self.pool,
            &self.gateway,
            &event.aggregate_id,
            &refund_id,
        )
        .await
        {
            Ok(_) => Ok(()),
            // Tried again when the event comes back.
            Err(error) => Err(ApplyError::Command(error.to_string())),
        }
    }
}

impl Projection for RefundExecutor {
    fn name(&self) -> &'static str {
        "refund_executor"
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
