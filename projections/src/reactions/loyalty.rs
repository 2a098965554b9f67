//! Order completed → loyalty cashback: points worth the customer's tier percentage
//! of what the order was paid, expiring after the points' lifetime. The grant's
//! reference is the order, so an order earns once.
//!
//! The tier comes from what the customer had paid (net of refunds) when the order
//! was completed, read from the event store as of the completing event, so the
//! result never depends on how far another projection has got.

use std::sync::Arc;

use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use domain::order::OrderEvent;
use domain::programs::Programs;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{retryable, settle};
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct LoyaltyCashback {
    commands: Arc<Commands>,
    pool: PgPool,
    programs: Programs,
}

impl LoyaltyCashback {
    pub fn new(commands: Arc<Commands>, pool: PgPool, programs: Programs) -> Self {
        Self {
            commands,
            pool,
            programs,
        }
    }

    async fn react(&self, event: &EventEnvelope) -> Result<(), ApplyError> {
        let decoded = event.decode::<OrderEvent>()?;
        let OrderEvent::OrderCompleted { .. } = decoded else {
            return Ok(());
        };
        let (order, _) = self
            .commands
            .orders
            .load(&event.aggregate_id)
            .await
            .map_err(retryable)?;
        let (Some(customer), Some(paid)) = (order.customer_id(), order.paid()) else {
            return Ok(()); // nothing was paid, nothing is earned
        };
        let total = paid_before(&self.pool, customer, event.global_position).await?;
        let Some(tier) = self.programs.tier_for(total) else {
            return Ok(()); // no tiers configured: no cashback
        };
        let points = self.programs.cashback_points(paid, tier);
        if points == 0 {
            return Ok(());
        }
        let because = CommandContext::system("loyalty-cashback").caused_by(event.message_id());
        self.commands
            .credits
            .execute(
                &customer.to_string(),
                CreditCommand::Grant {
                    amount: points,
                    reason: GrantReason::LoyaltyCashback,
                    reference: event.aggregate_id.clone(),
                    expires_at: Some(event.recorded_at + self.programs.points_lifetime()),
                },
                &because,
            )
            .await
            .map(|_| ())
            .or_else(|error| settle(&format!("cashback for order {}", event.aggregate_id), error))
    }
}

/// What `customer` had paid, net of refunds, in events stored before `position`.
/// What a customer had paid, net of refunds, up to a store position. The customer's
/// payments come from `events_payment_payer_idx`; each payment's money events
/// from the store's key, in a lateral subquery that `OFFSET 0` keeps from being
/// flattened into a join, so no plan walks `events` whatever its size or statistics
/// (`tests/tests/query_plans.rs`).
pub const PAID_BEFORE_SQL: &str = "\
    SELECT COALESCE(sum(m.amount), 0) \
    FROM events c \
    CROSS JOIN LATERAL ( \
        SELECT CASE e.event_type \
                 WHEN 'PaymentSucceeded' THEN (e.payload -> 'PaymentSucceeded' ->> 'amount')::numeric \
                 ELSE -(e.payload -> 'RefundSucceeded' ->> 'amount')::numeric END AS amount \
        FROM events e \
        WHERE e.aggregate_type = 'Payment' AND e.aggregate_id = c.aggregate_id \
          AND e.event_type IN ('PaymentSucceeded', 'RefundSucceeded') AND e.global_position < $2 \
        OFFSET 0) m \
    WHERE c.event_type = 'PaymentCreated' AND c.payload -> 'PaymentCreated' ->> 'payer_user_id' = $1";

pub async fn paid_before(
    pool: &PgPool,
    customer: Uuid,
    position: i64,
) -> Result<Decimal, ApplyError> {
    let total: Decimal = sqlx::query_scalar(PAID_BEFORE_SQL)
        .bind(customer.to_string())
        .bind(position)
        .fetch_one(pool)
        .await?;
    Ok(total)
}

impl Projection for LoyaltyCashback {
    fn name(&self) -> &'static str {
        crate::ProjectionName::LoyaltyCashback.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["Order"]
    }

    fn apply<'a>(
        &'a self,
        _connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(self.react(event))
    }
}
