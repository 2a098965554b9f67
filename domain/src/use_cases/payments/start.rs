//! Starting a payment: priced from the order or the catalogue (never the client), one
//! payment per client key (`payment_requests`), one open payment per order (the Order
//! aggregate's own state), and the provider asked with our payment id as its
//! Idempotence-Key, so however often this runs there is one payment there.

use serde_json::json;
use uuid::Uuid;

use super::{ProviderError, ProviderPaymentRequest, ReceiptRequest, provider_error};
use crate::command::CommandError;
use crate::money::Money;
use crate::money::tax::PayerKind;
use crate::order::{OrderCommand, OrderError};
use crate::payment::{PaymentCommand, PaymentPurpose, PaymentStatus};
use crate::permissions::{Action, Caller};
use crate::use_cases::Core;

/// The other payments made for an order (`$1`, except `$2`), found by
/// `events_payment_order_idx` whatever the store's size
/// (`tests/tests/query_plans.rs` checks the plan).
pub const EARLIER_PAYMENTS_SQL: &str = "SELECT aggregate_id FROM events WHERE event_type = 'PaymentCreated' \
       AND payload -> 'PaymentCreated' -> 'purpose' ->> 'order_id' = $1 AND aggregate_id <> $2";

/// What is being paid for, as the customer names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurposeRequest {
    /// The caller's order waiting for its payment.
    Order { order_id: Uuid },
    /// A credit pack of the catalogue.
    CreditPack { pack: String },
    /// A plan of the catalogue.
    Subscription { plan: String },
}

/// A payment as the customer asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOrder {
    pub purpose: PurposeRequest,
    /// The client's own key: repeating the request with it returns the same payment.
    pub idempotence_key: String,
    pub payer_kind: Option<PayerKind>,
    /// For a 54-FZ receipt: an e-mail or a phone.
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
}

/// The payment started (or found again by its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedPayment {
    pub payment_id: Uuid,
    /// The payment's sequence: what a read of it must wait for.
    pub sequence: usize,
    /// Where the customer pays.
    pub confirmation_url: Option<String>,
    /// False when the key had made this payment before.
    pub created_now: bool,
    /// True when no money moves (the built-in sandbox).
    pub sandbox: bool,
}

impl Core {
    pub async fn start_payment(
        &self,
        caller: Caller,
        order: PaymentOrder,
    ) -> Result<StartedPayment, CommandError> {
        caller.require(Action::PayForSomething)?;
        let key = order.idempotence_key.trim().to_owned();
        if key.is_empty() || key.chars().count() > 64 || key.chars().any(char::is_control) {
            return Err(CommandError::invalid(
                "idempotence_key",
                "1 to 64 characters, unique to this payment on the client",
            ));
        }
        let receipt = match self.payment_rules.receipt_vat_code {
            Some(_) if order.customer_email.is_none() && order.customer_phone.is_none() => {
                return Err(CommandError::invalid(
                    "customer_email",
                    "this shop sends receipts: give an e-mail or a phone",
                ));
            }
            Some(vat_code) => Some(ReceiptRequest {
                email: order.customer_email.clone(),
                phone: order.customer_phone.clone(),
                vat_code,
            }),
            None => None,
        };
        let (purpose, amount, description) = self.priced(caller, &order.purpose).await?;
        let payer_kind = order.payer_kind.unwrap_or(PayerKind::Individual);
        let (payment_id, created_now, mut confirmation_url) = self
            .payment_for_key(
                caller,
                &key,
                &purpose,
                amount,
                payer_kind,
                (
                    order.customer_email.as_deref(),
                    order.customer_phone.as_deref(),
                ),
            )
            .await?;
        let id = payment_id.to_string();
        let context = caller.context();
        // The payment first, so an order never waits for one that does not exist.
        let created = self
            .commands
            .payments
            .execute(
                &id,
                PaymentCommand::Create {
                    purpose: purpose.clone(),
                    amount,
                    payer_kind,
                    payer_user_id: caller.user_id,
                    idempotence_key: key.clone(),
                },
                &context,
            )
            .await?;
        let mut sequence = created.sequence;
        let (payment, _) = self.commands.payments.load(&id).await?;
        if payment.status() == PaymentStatus::Canceled {
            return Err(CommandError::invalid_state(
                "this payment was cancelled; start a new one with a new key",
            ));
        }
        if let PaymentPurpose::Order { order_id } = &purpose
            && payment.status() == PaymentStatus::Pending
        {
            self.open_for_order(caller, *order_id, payment_id, &key)
                .await?;
        }
        if payment.provider_payment_id().is_none() {
            let request = ProviderPaymentRequest {
                amount,
                description: description.clone(),
                return_url: self.payment_rules.return_url.clone(),
                payment_id,
                receipt,
            };
            // Our payment id: one payment at the provider however often this runs.
            let at_provider = match self.payments.create_payment(&request, &id).await {
                Ok(at_provider) => at_provider,
                // No verdict, or a key the provider may hold a payment under: ours
                // stays (a repeat finishes it; reconciliation gives it up if not).
                Err(error)
                    if error.is_no_verdict() || matches!(error, ProviderError::KeyReused(_)) =>
                {
                    return Err(provider_error(error));
                }
                Err(error) => {
                    self.refused_by_provider(&id, &purpose, &error.to_string())
                        .await?;
                    return Err(provider_error(error));
                }
            };
            let url = at_provider.confirmation_url.clone().unwrap_or_default();
            let recorded = self
                .commands
                .payments
                .execute(
                    &id,
                    PaymentCommand::RecordProviderPayment {
                        provider_payment_id: at_provider.id.clone(),
                        confirmation_url: url.clone(),
                    },
                    &context,
                )
                .await?;
            sequence = recorded.sequence;
            sqlx::query(
                "UPDATE payment_requests SET confirmation_url = $3 WHERE payer_user_id = $1 AND idempotence_key = $2",
            )
            .bind(caller.user_id)
            .bind(&key)
            .bind(&url)
            .execute(self.pool())
            .await?;
            confirmation_url = Some(url);
        }
        Ok(StartedPayment {
            payment_id,
            sequence,
            confirmation_url: confirmation_url.filter(|url| !url.is_empty()),
            created_now,
            sandbox: self.payment_rules.sandbox,
        })
    }

    /// One open payment per order: the Order records `payment_id` as the one it waits
    /// for, or refuses it while another is open. A refused payment is cancelled at once
    /// (it can never be paid) and the client's `key` freed, so the same key may try
    /// again once the order is free. A payment made before orders recorded theirs and
    /// still pending at YooKassa counts as open too.
    async fn open_for_order(
        &self,
        caller: Caller,
        order_id: Uuid,
        payment_id: Uuid,
        key: &str,
    ) -> Result<(), CommandError> {
        let order_key = order_id.to_string();
        let (order, _) = self.commands.orders.load(&order_key).await?;
        let refusal = if order.open_payment().is_none()
            && let Some(open) = self.earlier_pending_payment(order_id, payment_id).await?
        {
            Some(OrderError::PaymentOpen(open))
        } else {
            None
        };
        let opened = match refusal {
            Some(refusal) => Err(CommandError::refused(&refusal)),
            None => self
                .commands
                .orders
                .execute(
                    &order_key,
                    OrderCommand::OpenPayment {
                        payment_id,
                        by: caller,
                    },
                    &caller.context(),
                )
                .await
                .map(|_| ()),
        };
        if let Err(error) = &opened
            && !error.is_transient()
        {
            self.commands
                .payments
                .execute(
                    &payment_id.to_string(),
                    PaymentCommand::Cancel {
                        reason: format!("not started: {}", error.message),
                    },
                    &crate::command::CommandContext::system("payments"),
                )
                .await?;
            sqlx::query(
                "DELETE FROM payment_requests \
                 WHERE payer_user_id = $1 AND idempotence_key = $2 AND payment_id = $3",
            )
            .bind(caller.user_id)
            .bind(key)
            .bind(payment_id)
            .execute(self.pool())
            .await?;
        }
        opened
    }

    /// A pending payment of `order_id` other than `except` with a checkout link at
    /// YooKassa that the order does not know of (made before orders recorded their open
    /// payment), from the store.
    async fn earlier_pending_payment(
        &self,
        order_id: Uuid,
        except: Uuid,
    ) -> Result<Option<Uuid>, CommandError> {
        let ids: Vec<String> = sqlx::query_scalar(EARLIER_PAYMENTS_SQL)
            .bind(order_id.to_string())
            .bind(except.to_string())
            .fetch_all(self.pool())
            .await?;
        for id in ids {
            let (payment, _) = self.commands.payments.load(&id).await?;
            // Only one YooKassa has: a payment of today's flow gets there after the
            // order recorded it, and one that never got there has no checkout link.
            if payment.status() == PaymentStatus::Pending
                && payment.provider_payment_id().is_some()
                && let Ok(id) = Uuid::parse_str(&id)
            {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Gives up a payment that never reached the provider (the client never came back
    /// after an outage): cancelled, so an order it was for may be paid by another.
    /// Nothing happens to one the provider has, or that settled.
    pub async fn abandon_unstarted_payment(&self, payment_id: &str) -> Result<bool, CommandError> {
        let (payment, _) = self.commands.payments.load(payment_id).await?;
        if payment.status() != PaymentStatus::Pending || payment.provider_payment_id().is_some() {
            return Ok(false);
        }
        self.commands
            .payments
            .execute(
                payment_id,
                PaymentCommand::Cancel {
                    reason: "it never reached YooKassa".to_owned(),
                },
                &crate::command::CommandContext::system("reconciliation"),
            )
            .await?;
        Ok(true)
    }

    /// The payment the client's `key` stands for: made now, or found again (with
    /// where to pay, once known). The same key with other content is refused.
    async fn payment_for_key(
        &self,
        caller: Caller,
        key: &str,
        purpose: &PaymentPurpose,
        amount: Money,
        payer_kind: PayerKind,
        (email, phone): (Option<&str>, Option<&str>),
    ) -> Result<(Uuid, bool, Option<String>), CommandError> {
        let mut fingerprint =
            json!({"purpose": purpose, "amount": amount, "payer_kind": payer_kind});
        // The receipt's contact is part of what the provider is asked (only when given,
        // so keys from before it counted still match).
        for (field, value) in [("customer_email", email), ("customer_phone", phone)] {
            if let (Some(value), Some(fields)) = (value, fingerprint.as_object_mut()) {
                fields.insert(field.to_owned(), json!(value));
            }
        }
        let inserted = sqlx::query(
            "INSERT INTO payment_requests (payer_user_id, idempotence_key, payment_id, request, created_at) \
             VALUES ($1, $2, $3, $4, now()) ON CONFLICT DO NOTHING",
        )
        .bind(caller.user_id)
        .bind(key)
        .bind(Uuid::now_v7())
        .bind(&fingerprint)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1;
        let (payment_id, asked, confirmation_url): (Uuid, serde_json::Value, Option<String>) =
            sqlx::query_as(
                "SELECT payment_id, request, confirmation_url FROM payment_requests \
                 WHERE payer_user_id = $1 AND idempotence_key = $2",
            )
            .bind(caller.user_id)
            .bind(key)
            .fetch_one(self.pool())
            .await?;
        if asked != fingerprint {
            return Err(CommandError::invalid(
                "idempotence_key",
                "this key was used for another payment; use a new key",
            ));
        }
        Ok((payment_id, inserted, confirmation_url))
    }

    /// The provider refused to create the payment for good: it is cancelled here,
    /// and an order it was for may be paid by another.
    async fn refused_by_provider(
        &self,
        payment_id: &str,
        purpose: &PaymentPurpose,
        reason: &str,
    ) -> Result<(), CommandError> {
        let context = crate::command::CommandContext::system("payments");
        self.commands
            .payments
            .execute(
                payment_id,
                PaymentCommand::Cancel {
                    reason: format!("refused by YooKassa: {reason}"),
                },
                &context,
            )
            .await?;
        if let PaymentPurpose::Order { order_id } = purpose
            && let Ok(payment_id) = Uuid::parse_str(payment_id)
        {
            self.commands
                .orders
                .execute(
                    &order_id.to_string(),
                    OrderCommand::ReleasePayment { payment_id },
                    &context,
                )
                .await?;
        }
        Ok(())
    }

    /// What the purpose costs, from the order or the catalogue.
    async fn priced(
        &self,
        caller: Caller,
        purpose: &PurposeRequest,
    ) -> Result<(PaymentPurpose, Money, String), CommandError> {
        let catalogue = &self.offer.catalogue;
        Ok(match purpose {
            PurposeRequest::Order { order_id } => {
                let (order, _) = self.commands.orders.load(&order_id.to_string()).await?;
                if order.customer_id() != Some(caller.user_id) {
                    return Err(CommandError::not_found("no such order"));
                }
                let amount = order.amount_due().ok_or_else(|| {
                    CommandError::invalid_state("this order is not waiting for a payment")
                })?;
                (
                    PaymentPurpose::Order {
                        order_id: *order_id,
                    },
                    amount,
                    format!("Order {order_id}"),
                )
            }
            PurposeRequest::CreditPack { pack } => {
                let pack = catalogue.pack(pack).ok_or_else(|| {
                    CommandError::invalid(
                        "purpose.pack",
                        "not a pack of GET /api/v1/credits/catalogue",
                    )
                })?;
                (
                    PaymentPurpose::CreditPack {
                        pack: pack.id.clone(),
                        credits: pack.credits,
                    },
                    pack.price,
                    format!("{} credits ({})", pack.credits, pack.id),
                )
            }
            PurposeRequest::Subscription { plan } => {
                let plan = catalogue.plan(plan).ok_or_else(|| {
                    CommandError::invalid(
                        "purpose.plan",
                        "not a plan of GET /api/v1/credits/catalogue",
                    )
                })?;
                (
                    PaymentPurpose::Subscription {
                        plan: plan.id.clone(),
                        credits_per_period: plan.credits_per_period,
                        period_days: plan.period_days,
                    },
                    plan.price,
                    format!(
                        "Plan {}: {} credits every {} days",
                        plan.id, plan.credits_per_period, plan.period_days
                    ),
                )
            }
        })
    }
}
