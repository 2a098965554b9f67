use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::events::ExpiredGrant;
use super::{CreditCommand, CreditError, CreditEvent, GrantReason};

/// One user's credits, as lots (one per grant) so that expiring points lapse by
/// what is left of each grant.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditAccount {
    lots: Vec<Lot>,
    spends: HashMap<String, Spend>,
    subscription: Option<Subscription>,
    /// Operations that took credits back.
    #[serde(default)]
    revoked: std::collections::BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Lot {
    reason: GrantReason,
    reference: String,
    remaining: u64,
    expires_at: Option<DateTime<Utc>>,
}

impl Lot {
    fn expired_at(&self, at: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expiry| expiry <= at)
    }
}

/// A read-only view of one grant's lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotView<'a> {
    pub reason: GrantReason,
    pub reference: &'a str,
    pub remaining: u64,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Spend {
    amount: u64,
    /// Which lots it took from (index, amount), to give back on a refund.
    taken: Vec<(usize, u64)>,
    refunded: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub plan: String,
    pub period_end: DateTime<Utc>,
    pub credits_per_period: u64,
}

impl CreditAccount {
    /// Everything on the account, including points past their expiry that have not
    /// been swept by `ExpirePoints` yet.
    pub fn balance(&self) -> u64 {
        self.lots.iter().map(|lot| lot.remaining).sum()
    }

    /// What can be spent at `at`: the balance without lapsed points.
    pub fn spendable(&self, at: DateTime<Utc>) -> u64 {
        self.lots
            .iter()
            .filter(|lot| !lot.expired_at(at))
            .map(|lot| lot.remaining)
            .sum()
    }

    pub fn subscription(&self) -> Option<&Subscription> {
        self.subscription.as_ref()
    }

    /// What is left of each grant, in the order they were granted (spent-out lots
    /// included, with nothing remaining).
    pub fn lots(&self) -> impl Iterator<Item = LotView<'_>> {
        self.lots.iter().map(|lot| LotView {
            reason: lot.reason,
            reference: &lot.reference,
            remaining: lot.remaining,
            expires_at: lot.expires_at,
        })
    }

    fn has_grant(&self, reason: GrantReason, reference: &str) -> bool {
        self.lots
            .iter()
            .any(|lot| lot.reason == reason && lot.reference == reference)
    }

    /// The order lots are spent in at `at`: soonest-expiring first, then those that
    /// keep, oldest first; lapsed lots not at all.
    fn spending_order(&self, at: DateTime<Utc>) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.lots.len())
            .filter(|&index| !self.lots[index].expired_at(at))
            .collect();
        order.sort_by_key(|&index| {
            let lot = &self.lots[index];
            (lot.expires_at.is_none(), lot.expires_at, index)
        });
        order
    }

    fn grant(
        &self,
        amount: u64,
        reason: GrantReason,
        reference: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Option<CreditEvent>, CreditError> {
        if amount == 0 {
            return Err(CreditError::ZeroAmount);
        }
        if reference.trim().is_empty() {
            return Err(CreditError::Missing("reference"));
        }
        if self.has_grant(reason, &reference) {
            return Ok(None);
        }
        self.balance()
            .checked_add(amount)
            .ok_or(CreditError::Overflow)?;
        Ok(Some(CreditEvent::CreditsGranted {
            amount,
            reason,
            reference,
            expires_at,
        }))
    }
}

/// `YYYY-MM`, digits only, month 01–12: one spelling per month, so the same month
/// cannot be granted twice under two names.
fn valid_month(month: &str) -> bool {
    let bytes = month.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[5..].iter().all(u8::is_ascii_digit)
        && month[5..]
            .parse::<u8>()
            .is_ok_and(|number| (1..=12).contains(&number))
}

impl Aggregate for CreditAccount {
    const TYPE: &'static str = "CreditAccount";
    type Command = CreditCommand;
    type Event = CreditEvent;
    type Error = CreditError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events: Vec<CreditEvent> = match command {
            CreditCommand::Grant {
                amount,
                reason,
                reference,
                expires_at,
            } => self
                .grant(amount, reason, reference, expires_at)?
                .into_iter()
                .collect(),
            CreditCommand::Spend {
                amount,
                reason,
                operation_id,
                at,
            } => {
                if amount == 0 {
                    return Err(CreditError::ZeroAmount);
                }
                if operation_id.trim().is_empty() {
                    return Err(CreditError::Missing("operation id"));
                }
                if reason.trim().is_empty() {
                    return Err(CreditError::Missing("reason"));
                }
                if self.spends.contains_key(&operation_id) {
                    Vec::new()
                } else if self.spendable(at) < amount {
                    return Err(CreditError::InsufficientBalance {
                        balance: self.spendable(at),
                        requested: amount,
                    });
                } else {
                    vec![CreditEvent::CreditsSpent {
                        amount,
                        reason,
                        operation_id,
                        spent_at: at,
                    }]
                }
            }
            CreditCommand::RefundSpend { operation_id, at } => match self.spends.get(&operation_id)
            {
                None => return Err(CreditError::UnknownOperation(operation_id)),
                Some(spend) if spend.refunded => {
                    return Err(CreditError::AlreadyRefunded(operation_id));
                }
                Some(spend) => {
                    // What returns to lots that have lapsed meanwhile lapses again.
                    let mut lapsed: Vec<ExpiredGrant> = Vec::new();
                    for &(index, amount) in &spend.taken {
                        let Some(lot) = self.lots.get(index) else {
                            continue;
                        };
                        if lot.expired_at(at) {
                            match lapsed.iter_mut().find(|grant| {
                                grant.reason == lot.reason && grant.reference == lot.reference
                            }) {
                                Some(grant) => grant.amount += amount,
                                None => lapsed.push(ExpiredGrant {
                                    reason: lot.reason,
                                    reference: lot.reference.clone(),
                                    amount,
                                }),
                            }
                        }
                    }
                    let mut events = vec![CreditEvent::SpendRefunded {
                        amount: spend.amount,
                        operation_id,
                    }];
                    if !lapsed.is_empty() {
                        events.push(CreditEvent::PointsExpired {
                            amount: lapsed.iter().map(|grant| grant.amount).sum(),
                            expired: lapsed,
                        });
                    }
                    events
                }
            },
            CreditCommand::GrantMonthlyAllowance { month, amount } => {
                if !valid_month(&month) {
                    return Err(CreditError::InvalidMonth(month));
                }
                self.grant(amount, GrantReason::MonthlyAllowance, month, None)?
                    .into_iter()
                    .collect()
            }
            CreditCommand::Revoke {
                reason,
                reference,
                amount,
                operation_id,
            } => {
                if operation_id.trim().is_empty() {
                    return Err(CreditError::Missing("operation id"));
                }
                let lot = if self.revoked.contains(&operation_id) {
                    None
                } else {
                    self.lots.iter().rev().find(|lot| {
                        lot.reason == reason
                            && reference
                                .as_ref()
                                .is_none_or(|wanted| *wanted == lot.reference)
                    })
                };
                match lot.map(|lot| (lot.reference.clone(), amount.min(lot.remaining))) {
                    Some((reference, taken)) if taken > 0 => vec![CreditEvent::CreditsRevoked {
                        reason,
                        reference,
                        amount: taken,
                        operation_id,
                    }],
                    // Nothing of it left (or taken back before): nothing to do.
                    _ => Vec::new(),
                }
            }
            CreditCommand::ActivateSubscription {
                plan,
                period_end,
                credits_per_period,
            } => {
                if plan.trim().is_empty() {
                    return Err(CreditError::Missing("plan"));
                }
                let reference = format!(
                    "{plan}:{}",
                    period_end.to_rfc3339_opts(SecondsFormat::Secs, true)
                );
                match self.grant(
                    credits_per_period,
                    GrantReason::Subscription,
                    reference,
                    Some(period_end),
                )? {
                    None => Vec::new(),
                    Some(granted) => vec![
                        CreditEvent::SubscriptionActivated {
                            plan,
                            period_end,
                            credits_per_period,
                        },
                        granted,
                    ],
                }
            }
            CreditCommand::ExpirePoints { now } => {
                let expired: Vec<ExpiredGrant> = self
                    .lots
                    .iter()
                    .filter(|lot| lot.remaining > 0 && lot.expires_at.is_some_and(|at| at <= now))
                    .map(|lot| ExpiredGrant {
                        reason: lot.reason,
                        reference: lot.reference.clone(),
                        amount: lot.remaining,
                    })
                    .collect();
                if expired.is_empty() {
                    Vec::new()
                } else {
                    vec![CreditEvent::PointsExpired {
                        amount: expired.iter().map(|grant| grant.amount).sum(),
                        expired,
                    }]
                }
            }
        };
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            CreditEvent::CreditsGranted {
                amount,
                reason,
                reference,
                expires_at,
            } => self.lots.push(Lot {
                reason,
                reference,
                remaining: amount,
                expires_at,
            }),
            CreditEvent::CreditsSpent {
                amount,
                operation_id,
                spent_at,
                ..
            } => {
                let mut left = amount;
                let mut taken = Vec::new();
                for index in self.spending_order(spent_at) {
                    if left == 0 {
                        break;
                    }
                    let lot = &mut self.lots[index];
                    let take = lot.remaining.min(left);
                    if take > 0 {
                        lot.remaining -= take;
                        left -= take;
                        taken.push((index, take));
                    }
                }
                self.spends.insert(
                    operation_id,
                    Spend {
                        amount,
                        taken,
                        refunded: false,
                    },
                );
            }
            CreditEvent::SpendRefunded { operation_id, .. } => {
                if let Some(spend) = self.spends.get_mut(&operation_id) {
                    spend.refunded = true;
                    for &(index, amount) in &spend.taken {
                        if let Some(lot) = self.lots.get_mut(index) {
                            lot.remaining += amount;
                        }
                    }
                }
            }
            CreditEvent::SubscriptionActivated {
                plan,
                period_end,
                credits_per_period,
            } => {
                self.subscription = Some(Subscription {
                    plan,
                    period_end,
                    credits_per_period,
                });
            }
            CreditEvent::CreditsRevoked {
                reason,
                reference,
                amount,
                operation_id,
            } => {
                if let Some(lot) = self
                    .lots
                    .iter_mut()
                    .rev()
                    .find(|lot| lot.reason == reason && lot.reference == reference)
                {
                    lot.remaining = lot.remaining.saturating_sub(amount);
                }
                self.revoked.insert(operation_id);
            }
            CreditEvent::PointsExpired { expired, .. } => {
                for grant in expired {
                    if let Some(lot) = self
                        .lots
                        .iter_mut()
                        .find(|lot| lot.reason == grant.reason && lot.reference == grant.reference)
                    {
                        lot.remaining = lot.remaining.saturating_sub(grant.amount);
                    }
                }
            }
        }
    }
}
