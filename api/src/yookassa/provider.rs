//! The YooKassa client as the payments use case's [`PaymentProvider`]: the domain's
//! requests turned into YooKassa's bodies, and its objects and errors into the
//! domain's.

use std::collections::BTreeMap;

use domain::use_cases::payments::{
    PaymentProvider, ProviderError, ProviderFuture, ProviderPayment, ProviderPaymentRequest,
    ProviderPaymentStatus, ProviderRefund, ProviderRefundRequest, ProviderRefundStatus,
};
use uuid::Uuid;

use super::{
    Amount, CancellationDetails, ConfirmationRequest, NewPayment, NewRefund, PaymentObject,
    PaymentStatus, Receipt, ReceiptCustomer, ReceiptItem, RefundObject, RefundStatus,
    YooKassaClient, YooKassaError,
};

impl PaymentProvider for YooKassaClient {
    fn create_payment<'a>(
        &'a self,
        request: &'a ProviderPaymentRequest,
        idempotence_key: &'a str,
    ) -> ProviderFuture<'a, ProviderPayment> {
        Box::pin(async move {
            let body = new_payment(request);
            let payment = YooKassaClient::create_payment(self, &body, idempotence_key)
                .await
                .map_err(provider_error)?;
            Ok(payment_of(&payment))
        })
    }

    fn get_payment<'a>(
        &'a self,
        provider_payment_id: &'a str,
    ) -> ProviderFuture<'a, ProviderPayment> {
        Box::pin(async move {
            let payment = YooKassaClient::get_payment(self, provider_payment_id)
                .await
                .map_err(provider_error)?;
            Ok(payment_of(&payment))
        })
    }

    fn create_refund<'a>(
        &'a self,
        request: &'a ProviderRefundRequest,
        idempotence_key: &'a str,
    ) -> ProviderFuture<'a, ProviderRefund> {
        Box::pin(async move {
            let body = NewRefund {
                payment_id: request.provider_payment_id.clone(),
                amount: Amount::rub(request.amount),
                description: Some(request.description.clone()),
            };
            let refund = YooKassaClient::create_refund(self, &body, idempotence_key)
                .await
                .map_err(provider_error)?;
            Ok(refund_of(&refund))
        })
    }

    fn get_refund<'a>(&'a self, provider_refund_id: &'a str) -> ProviderFuture<'a, ProviderRefund> {
        Box::pin(async move {
            let refund = YooKassaClient::get_refund(self, provider_refund_id)
                .await
                .map_err(provider_error)?;
            Ok(refund_of(&refund))
        })
    }
}

/// A one-stage payment confirmed by redirect, with our payment id in its metadata and
/// a 54-FZ receipt of one line when the shop sends them.
fn new_payment(request: &ProviderPaymentRequest) -> NewPayment {
    let description: String = request.description.chars().take(128).collect();
    NewPayment {
        amount: Amount::rub(request.amount),
        capture: true,
        confirmation: ConfirmationRequest::redirect(request.return_url.clone()),
        description: description.clone(),
        metadata: BTreeMap::from([("payment_id".to_owned(), request.payment_id.to_string())]),
        receipt: request.receipt.as_ref().map(|receipt| Receipt {
            customer: ReceiptCustomer {
                email: receipt.email.clone(),
                phone: receipt.phone.clone(),
            },
            items: vec![ReceiptItem {
                description,
                quantity: "1.00".to_owned(),
                amount: Amount::rub(request.amount),
                vat_code: receipt.vat_code,
                payment_mode: "full_payment".to_owned(),
                payment_subject: "service".to_owned(),
            }],
        }),
    }
}

fn cancellation(details: Option<&CancellationDetails>) -> Option<String> {
    details.map(|details| format!("{}: {}", details.party, details.reason))
}

fn payment_of(payment: &PaymentObject) -> ProviderPayment {
    ProviderPayment {
        id: payment.id.clone(),
        status: match payment.status {
            PaymentStatus::Pending => ProviderPaymentStatus::Pending,
            PaymentStatus::WaitingForCapture => ProviderPaymentStatus::WaitingForCapture,
            PaymentStatus::Succeeded => ProviderPaymentStatus::Succeeded,
            PaymentStatus::Canceled => ProviderPaymentStatus::Canceled,
        },
        amount: payment.amount.value,
        currency: payment.amount.currency.clone(),
        income: payment.income_amount.as_ref().map(|income| income.value),
        captured_at: payment.captured_at,
        confirmation_url: payment
            .confirmation
            .as_ref()
            .and_then(|confirmation| confirmation.confirmation_url.clone()),
        cancellation: cancellation(payment.cancellation_details.as_ref()),
        payment_id: payment
            .metadata_str("payment_id")
            .and_then(|id| Uuid::parse_str(id).ok()),
        test: payment.test,
    }
}

fn refund_of(refund: &RefundObject) -> ProviderRefund {
    ProviderRefund {
        id: refund.id.clone(),
        provider_payment_id: refund.payment_id.clone(),
        amount: refund.amount.value,
        status: match refund.status {
            RefundStatus::Pending => ProviderRefundStatus::Pending,
            RefundStatus::Succeeded => ProviderRefundStatus::Succeeded,
            RefundStatus::Canceled => ProviderRefundStatus::Canceled,
        },
        created_at: refund.created_at,
        cancellation: cancellation(refund.cancellation_details.as_ref()),
    }
}

fn provider_error(error: YooKassaError) -> ProviderError {
    match error {
        YooKassaError::Unavailable { attempts, reason } => {
            ProviderError::Unavailable { attempts, reason }
        }
        YooKassaError::NotFound => ProviderError::NotFound,
        YooKassaError::Malformed(reason) => ProviderError::Malformed(reason),
        YooKassaError::Rejected {
            parameter: Some(ref parameter),
            ..
        } if parameter == super::client::IDEMPOTENCE_KEY_HEADER => {
            ProviderError::KeyReused(error.to_string())
        }
        YooKassaError::Rejected {
            status, ref code, ..
        } => ProviderError::Rejected {
            status,
            code: code.clone(),
            message: error.to_string(),
        },
    }
}
