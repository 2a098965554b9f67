//! Taking money through YooKassa over HTTP (the rules are the payments use case's,
//! `domain::use_cases::payments`):
//! - [`create`]: `POST /api/v1/payments` pays for an order, a credit pack or a plan,
//!   and `GET /api/v1/payments/{id}`;
//! - [`webhook`]: `POST /api/v1/payments/yookassa/webhook`, YooKassa's notifications
//!   (the sender's address checked here; the object re-read and applied by the use
//!   case);
//! - [`refunds`]: `POST /api/v1/payments/{id}/refunds` by staff.
//!
//! [`PaymentGateway`] is the adapter set up at start: the YooKassa client (or the
//! built-in sandbox's), which the use cases get as their payment provider.

pub mod create;
pub mod refunds;
pub mod webhook;
#[cfg(test)]
mod webhook_props;

use domain::use_cases::payments::PaymentRules;

use crate::config::{PaymentMode, PaymentSettings};
use crate::yookassa::{IpAllowlist, YooKassaClient, YooKassaError, YooKassaSettings};

/// What the payment handlers need, made once at start.
#[derive(Clone)]
pub struct PaymentGateway {
    pub client: YooKassaClient,
    /// Addresses notifications are accepted from; `None` accepts any.
    pub allowlist: Option<IpAllowlist>,
    /// What the payments use case takes money with.
    pub rules: PaymentRules,
    /// The built-in sandbox's server, when it is the provider.
    pub sandbox_server: Option<crate::yookassa::sandbox::Sandbox>,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("LEDGERBOT_YOOKASSA_NOTIFICATION_IPS: {0}")]
    Allowlist(String),
    #[error("the YooKassa client: {0}")]
    Client(#[from] YooKassaError),
    #[error(
        "choose how payments are taken: LEDGERBOT_YOOKASSA_MODE=sandbox (a test checkout, no money moves) \
         or LEDGERBOT_YOOKASSA_SHOP_ID and LEDGERBOT_YOOKASSA_SECRET_KEY (live)"
    )]
    NoMode,
    #[error("LEDGERBOT_YOOKASSA_RETURN_URL must be under the public URL {public_url}")]
    ReturnUrlOutside { public_url: String },
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
        let (shop_id, secret_key, api_url, sandbox) = match (settings.mode, &settings.credentials) {
            (None, _) => return Err(GatewayError::NoMode),
            (Some(PaymentMode::Live), Some((shop, secret))) => (
                shop.clone(),
                secret.clone(),
                settings.api_url.clone(),
                false,
            ),
            (Some(PaymentMode::Live), None) => return Err(GatewayError::NoMode),
            (Some(PaymentMode::Sandbox), _) => (
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
            retry_delay: RETRY_DELAY,
        })?;
        let return_url = settings
            .return_url
            .clone()
            .unwrap_or_else(|| public_url.to_owned());
        if !is_under(&return_url, public_url) {
            return Err(GatewayError::ReturnUrlOutside {
                public_url: public_url.to_owned(),
            });
        }
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
            sandbox_server,
            allowlist,
            rules: PaymentRules {
                sandbox,
                return_url,
                fee_percent: settings.fee_percent,
                receipt_vat_code: settings.receipt_vat_code,
                refund_call_lease: longest_call(settings) + std::time::Duration::from_secs(30),
            },
        })
    }
}

/// The longest a YooKassa call can take with every attempt and the pauses between.
fn longest_call(settings: &PaymentSettings) -> std::time::Duration {
    (1..settings.attempts).fold(settings.timeout * settings.attempts, |total, retry| {
        total + crate::yookassa::client::retry_delay(RETRY_DELAY, retry)
    })
}

/// The first pause between attempts of a YooKassa call (it doubles).
const RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// True when `url` is `base` or a path under it (same scheme, host and port): where
/// a customer may be sent back to after paying.
pub fn is_under(url: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    url == base
        || url.strip_prefix(base).is_some_and(|rest| {
            rest.starts_with('/') || rest.starts_with('?') || rest.starts_with('#')
        })
}

#[cfg(test)]
mod tests {
    use super::is_under;

    #[test]
    fn a_return_url_must_stay_under_the_public_url() {
        let base = "https://shop.example/";
        assert!(is_under("https://shop.example", base));
        assert!(is_under("https://shop.example/app/paid?x=1", base));
        assert!(!is_under("https://shop.example.evil.com/", base));
        assert!(!is_under("https://evil.com/https://shop.example", base));
        assert!(!is_under("http://shop.example/", base));
    }
}
