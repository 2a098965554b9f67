//! Reading payments: one payment for its payer or staff who refund, a payer's
//! latest, and the pending ones reconciliation asks the provider about.

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use domain::permissions::{Action, Caller};
use domain::use_cases::Written;
use serde::Serialize;
use uuid::Uuid;

use crate::ProjectionName;
use crate::read_models::ReadModels;

/// A payment as its payer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentView {
    pub payment_id: String,
    /// order | credit_pack | subscription
    pub purpose: String,
    pub order_id: Option<Uuid>,
    /// The pack or plan.
    pub product: Option<String>,
    /// Roubles, two decimals, as a string.
    pub amount: String,
    pub refunded_amount: String,
    /// pending | succeeded | canceled
    pub status: String,
    pub provider_payment_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// A test shop's or the sandbox's payment: no money moved, never income.
    pub test: bool,
}

const PAYMENT_COLUMNS: &str = "payment_id, purpose, order_id, product, amount::text AS amount, \
     refunded_amount::text AS refunded_amount, status, provider_payment_id, created_at, paid_at, test";

impl ReadModels {
    /// Payment `payment_id` once the payments read model shows `after`, for its payer
    /// or staff who refund; `None` otherwise (or when the read model does not have
    /// it yet).
    pub async fn payment(
        &self,
        viewer: Caller,
        payment_id: &str,
        after: Option<&Written>,
    ) -> Result<Option<PaymentView>, CommandError> {
        self.shows(ProjectionName::Payments, "Payment", after).await;
        let row: Option<(Uuid, PaymentView)> = sqlx::query_as::<_, PaymentRow>(&format!(
            "SELECT payer_id, {PAYMENT_COLUMNS} FROM rm_payments WHERE payment_id = $1"
        ))
        .bind(payment_id)
        .fetch_optional(self.pool())
        .await?
        .map(|row| (row.payer_id, row.payment));
        Ok(row.and_then(|(payer, payment)| {
            (payer == viewer.user_id || viewer.may(Action::RefundPayment)).then_some(payment)
        }))
    }

    /// A payer's latest payments, newest first.
    pub(crate) async fn payments_of_payer(
        &self,
        payer_id: Uuid,
        limit: i64,
    ) -> Result<Vec<PaymentView>, CommandError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM rm_payments WHERE payer_id = $1 ORDER BY created_at DESC LIMIT $2"
        ))
        .bind(payer_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Pending payments the provider knows, older than `settled_within` and younger
    /// than `given_up_after`, oldest first: (our id, the provider's id). Whatever
    /// this read model says, the provider's answer is what gets applied.
    pub async fn payments_to_reconcile(
        &self,
        settled_within: chrono::Duration,
        given_up_after: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<(String, String)>, CommandError> {
        let now = Utc::now();
        Ok(sqlx::query_as(
            "SELECT payment_id, provider_payment_id FROM rm_payments \
             WHERE status = 'pending' AND provider_payment_id IS NOT NULL \
               AND created_at < $1 AND created_at > $2 \
             ORDER BY created_at LIMIT $3",
        )
        .bind(now - settled_within)
        .bind(now - given_up_after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

impl ReadModels {
    /// Pending payments the provider never got, older than `after` and younger than
    /// `given_up_after`, oldest first (ours ids). The aggregate decides whether they
    /// are still so.
    pub async fn payments_never_started(
        &self,
        after: chrono::Duration,
        given_up_after: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<String>, CommandError> {
        let now = Utc::now();
        Ok(sqlx::query_scalar(
            "SELECT payment_id FROM rm_payments \
             WHERE status = 'pending' AND provider_payment_id IS NULL \
               AND created_at < $1 AND created_at > $2 \
             ORDER BY created_at LIMIT $3",
        )
        .bind(now - after)
        .bind(now - given_up_after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    payer_id: Uuid,
    #[sqlx(flatten)]
    payment: PaymentView,
}
