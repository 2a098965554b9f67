//! Taking money through YooKassa (or, without keys, the built-in sandbox):
//! - [`create`]: `POST /api/v1/payments` pays for an order, a credit pack or a plan,
//!   and `GET /api/v1/payments/{id}`;
//! - [`webhook`]: `POST /api/v1/payments/yookassa/webhook`, YooKassa's notifications,
//!   each re-read from YooKassa's API before it is applied;
//! - [`refunds`]: `POST /api/v1/payments/{id}/refunds` by staff;
//! - [`executor`]: the worker that asks YooKassa for every refund the domain
//!   recorded as requested (staff's, and those of cancelled orders);
//! - [`reconcile`]: pending payments read from YooKassa now and then, in case a
//!   notification was lost for good.
//!
//! YooKassa is asked with our ids as Idempotence-Keys (the payment id, the refund
//! id), so a retry, a repeated request or a second worker never makes a second
//! payment or refund there.

pub mod create;
pub mod executor;
pub mod reconcile;
pub mod refunds;
pub mod webhook;

use domain::money::Money;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::config::PaymentSettings;
use crate::yookassa::{
    IpAllowlist, PaymentObject, YooKassaClient, YooKassaError, YooKassaSettings,
};

/// What the payment handlers need, made once at start.
#[derive(Clone)]
pub struct PaymentGateway {
    pub client: YooKassaClient,
    /// True when talking to the built-in sandbox: no money moves.
    pub sandbox: bool,
    /// Where customers come back to after paying.
    pub return_url: String,
    /// Addresses notifications are accepted from; `None` accepts any.
    pub allowlist: Option<IpAllowlist>,
    pub fee_percent: Decimal,
    pub receipt_vat_code: Option<u8>,
    /// The built-in sandbox's server, when it is the provider.
    pub sandbox_server: Option<crate::yookassa::sandbox::Sandbox>,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("LEDGERBOT_YOOKASSA_NOTIFICATION_IPS: {0}")]
    Allowlist(String),
    #[error("the YooKassa client: {0}")]
    Client(#[from] YooKassaError),
}

impl PaymentGateway {
    /// The gateway for `settings`; without keys, the sandbox served by this process at
    /// `own_url` (loopback notifications are then accepted too).
    pub fn new(
        settings: &PaymentSettings,
        pool: sqlx::PgPool,
        own_url: &str,
        public_url: &str,
    ) -> Result<Self, GatewayError> {
        let (shop_id, secret_key, api_url, sandbox) = match &settings.credentials {
            Some((shop, secret)) => (
                shop.clone(),
                secret.clone(),
                settings.api_url.clone(),
                false,
            ),
            None => (
                "sandbox".to_owned(),
                "sandbox".to_owned(),
                format!("{own_url}{}", crate::yookassa::sandbox::API_PATH),
                true,
            ),
        };
        let allowlist = match &settings.notification_ips {
            None => None,
            Some(list) => {
                let list = if sandbox {
                    format!("{list},127.0.0.0/8,::1")
                } else {
                    list.clone()
                };
                Some(IpAllowlist::parse(&list).map_err(GatewayError::Allowlist)?)
            }
        };
        let client = YooKassaClient::new(YooKassaSettings {
            shop_id,
            secret_key,
            api_url,
            timeout: settings.timeout,
            attempts: settings.attempts,
            retry_delay: std::time::Duration::from_millis(500),
        })?;
        let sandbox_server = sandbox.then(|| {
            crate::yookassa::sandbox::Sandbox::new(
                pool,
                format!("{own_url}/api/v1/payments/yookassa/webhook"),
                public_url.to_owned(),
                settings.fee_percent,
            )
        });
        Ok(Self {
            client,
            sandbox,
            sandbox_server,
            return_url: settings
                .return_url
                .clone()
                .unwrap_or_else(|| public_url.to_owned()),
            allowlist,
            fee_percent: settings.fee_percent,
            receipt_vat_code: settings.receipt_vat_code,
        })
    }

    /// YooKassa's fee on a payment: what it kept (`amount - income_amount`) when it
    /// says, else the configured percentage, rounded to kopecks half up.
    pub fn fee_of(&self, payment: &PaymentObject) -> Money {
        if let Some(income) = &payment.income_amount
            && let Some(fee) = payment.amount.value.checked_sub(income.value)
        {
            return fee;
        }
        let fee = (payment.amount.value.amount() * self.fee_percent / Decimal::from(100))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        Money::new(fee).unwrap_or(Money::ZERO)
    }
}
