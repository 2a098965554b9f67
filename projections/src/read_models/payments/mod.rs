//! Payments (`rm_payments`), refunds (`rm_refunds`) and what each user paid in all
//! (`rm_user_spending`, with the loyalty tier that total reaches).
//!
//! Months are calendar months in [`TAX_TIME_ZONE`], the same as the tax ledger's, so
//! the two reconcile month by month.

use domain::payment::{PaymentEvent, PaymentPurpose};
use domain::programs::Programs;
use domain::wire::wire_name;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::tax_ledger::TAX_TIME_ZONE;
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

mod queries;

pub use queries::PaymentView;

pub struct Payments {
    programs: Programs,
}

impl Payments {
    pub fn new(programs: Programs) -> Self {
        Self { programs }
    }

    async fn record(
        &self,
        connection: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), ApplyError> {
        let decoded = event.decode::<PaymentEvent>()?;
        let id = event.aggregate_id.as_str();
        let at = event.recorded_at;
        match decoded {
            PaymentEvent::PaymentCreated {
                purpose,
                amount,
                payer_kind,
                payer_user_id,
                ..
            } => {
                let (order_id, product) = match &purpose {
                    PaymentPurpose::Order { order_id } => (Some(*order_id), None),
                    PaymentPurpose::CreditPack { pack, .. } => (None, Some(pack.clone())),
                    PaymentPurpose::Subscription { plan, .. } => (None, Some(plan.clone())),
                };
                let purpose_kind = match purpose {
                    PaymentPurpose::Order { .. } => "order",
                    PaymentPurpose::CreditPack { .. } => "credit_pack",
                    PaymentPurpose::Subscription { .. } => "subscription",
                };
                sqlx::query(
                    "INSERT INTO rm_payments (payment_id, payer_id, payer_kind, purpose, order_id, product, amount, \
                       status, created_at, month, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, date_trunc('month', $8 AT TIME ZONE $9)::date, $8) \
                     ON CONFLICT (payment_id) DO NOTHING",
                )
                .bind(id)
                .bind(payer_user_id)
                .bind(wire_name(&payer_kind))
                .bind(purpose_kind)
                .bind(order_id)
                .bind(product)
                .bind(amount.amount())
                .bind(at)
                .bind(TAX_TIME_ZONE)
                .execute(connection)
                .await?;
            }
            PaymentEvent::ProviderPaymentRecorded {
                provider_payment_id,
                ..
            } => {
                sqlx::query("UPDATE rm_payments SET provider_payment_id = $2, updated_at = $3 WHERE payment_id = $1")
                    .bind(id)
                    .bind(provider_payment_id)
                    .bind(at)
                    .execute(connection)
                    .await?;
            }
            PaymentEvent::PaymentSucceeded {
                provider_payment_id,
                amount,
                provider_fee,
                paid_at,
                test,
                ..
            } => {
                let payer: Option<Uuid> = sqlx::query_scalar(
                    "UPDATE rm_payments SET status = 'succeeded', provider_payment_id = $2, amount = $3, \
                       provider_fee = $4, paid_at = $5, month = date_trunc('month', $5 AT TIME ZONE $6)::date, updated_at = $7, \
                       test = $8 \
                     WHERE payment_id = $1 RETURNING payer_id",
                )
                .bind(id)
                .bind(provider_payment_id)
                .bind(amount.amount())
                .bind(provider_fee.amount())
                .bind(paid_at)
                .bind(TAX_TIME_ZONE)
                .bind(at)
                .bind(test)
                .fetch_optional(&mut *connection)
                .await?;
                let payer = payer.ok_or_else(|| never_created(id))?;
                self.spending(connection, payer, amount.amount(), Decimal::ZERO, 1, at)
                    .await?;
            }
            PaymentEvent::PaymentCanceled { .. } => {
                sqlx::query("UPDATE rm_payments SET status = 'canceled', updated_at = $2 WHERE payment_id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(connection)
                    .await?;
            }
            PaymentEvent::RefundRequested { refund_id, amount } => {
                sqlx::query(
                    "INSERT INTO rm_refunds (payment_id, refund_id, payer_id, amount, status, requested_at, month) \
                     SELECT payment_id, $2, payer_id, $3, 'requested', $4, date_trunc('month', $4 AT TIME ZONE $5)::date \
                     FROM rm_payments WHERE payment_id = $1 \
                     ON CONFLICT (payment_id, refund_id) DO NOTHING",
                )
                .bind(id)
                .bind(refund_id)
                .bind(amount.amount())
                .bind(at)
                .bind(TAX_TIME_ZONE)
                .execute(connection)
                .await?;
            }
            PaymentEvent::RefundSucceeded {
                refund_id,
                amount,
                provider_refund_id,
                refunded_at,
            } => {
                let payer: Option<Uuid> = sqlx::query_scalar(
                    "UPDATE rm_payments SET refunded_amount = refunded_amount + $2, updated_at = $3 \
                     WHERE payment_id = $1 RETURNING payer_id",
                )
                .bind(id)
                .bind(amount.amount())
                .bind(at)
                .fetch_optional(&mut *connection)
                .await?;
                let payer = payer.ok_or_else(|| never_created(id))?;
                sqlx::query(
                    "INSERT INTO rm_refunds (payment_id, refund_id, payer_id, amount, status, provider_refund_id, \
                       requested_at, refunded_at, month) \
                     VALUES ($1, $2, $3, $4, 'succeeded', $5, $6, $6, date_trunc('month', $6 AT TIME ZONE $7)::date) \
                     ON CONFLICT (payment_id, refund_id) DO UPDATE SET status = 'succeeded', \
                       provider_refund_id = EXCLUDED.provider_refund_id, refunded_at = EXCLUDED.refunded_at, \
                       amount = EXCLUDED.amount, month = EXCLUDED.month",
                )
                .bind(id)
                .bind(refund_id)
                .bind(payer)
                .bind(amount.amount())
                .bind(provider_refund_id)
                .bind(refunded_at)
                .bind(TAX_TIME_ZONE)
                .execute(&mut *connection)
                .await?;
                self.spending(connection, payer, -amount.amount(), amount.amount(), 0, at)
                    .await?;
            }
            PaymentEvent::RefundFailed {
                refund_id, reason, ..
            } => {
                sqlx::query(
                    "UPDATE rm_refunds SET status = 'failed', failure = $3 WHERE payment_id = $1 AND refund_id = $2",
                )
                .bind(id)
                .bind(refund_id)
                .bind(reason)
                .execute(connection)
                .await?;
            }
        }
        Ok(())
    }

    /// Adds to a user's totals and re-reads their tier from the new total. A user's
    /// payments are separate aggregates, which workers may apply in any order among
    /// themselves: every column here is the same whatever that order (sums, the
    /// earliest and the latest time), so a rebuild in store order equals it.
    async fn spending(
        &self,
        connection: &mut PgConnection,
        user: Uuid,
        paid: Decimal,
        refunded: Decimal,
        payments: i32,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ApplyError> {
        let total: Decimal = sqlx::query_scalar(
            "INSERT INTO rm_user_spending (user_id, total_paid, total_refunded, payments, first_paid_at, loyalty_tier, updated_at) \
             VALUES ($1, $2, $3, $4, CASE WHEN $4 > 0 THEN $5 END, '', $5) \
             ON CONFLICT (user_id) DO UPDATE SET total_paid = rm_user_spending.total_paid + EXCLUDED.total_paid, \
               total_refunded = rm_user_spending.total_refunded + EXCLUDED.total_refunded, \
               payments = rm_user_spending.payments + EXCLUDED.payments, \
               first_paid_at = LEAST(rm_user_spending.first_paid_at, EXCLUDED.first_paid_at), \
               updated_at = GREATEST(rm_user_spending.updated_at, EXCLUDED.updated_at) \
             RETURNING total_paid",
        )
        .bind(user)
        .bind(paid)
        .bind(refunded)
        .bind(payments)
        .bind(at)
        .fetch_one(&mut *connection)
        .await?;
        let tier = self
            .programs
            .tier_for(total)
            .map(|tier| tier.name.clone())
            .unwrap_or_default();
        sqlx::query("UPDATE rm_user_spending SET loyalty_tier = $2 WHERE user_id = $1")
            .bind(user)
            .bind(tier)
            .execute(connection)
            .await?;
        Ok(())
    }
}

fn never_created(payment_id: &str) -> ApplyError {
    ApplyError::Decode(format!(
        "payment {payment_id} has no PaymentCreated before it"
    ))
}

impl Projection for Payments {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable::tables(&[
            "rm_payments",
            "rm_refunds",
            "rm_user_spending",
        ]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::Payments.as_str()
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
