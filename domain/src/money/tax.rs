//! NPD, the tax on professional income of the self-employed (422-FZ), and the
//! payment provider's fee, as pure functions over configured rates.
//!
//! The model (shared/reference/npd_rules.md): per calendar month,
//! `gross = rate_individual × I_ind + rate_legal × I_leg`,
//! `wanted = deduction_individual × I_ind + deduction_legal × I_leg`,
//! `used = min(wanted, deduction left)`, `tax = gross − used`. NPD is charged on the
//! full amount received from the customer; the provider's fee is a separate line.
//!
//! Rounding is not established by the sources: amounts are computed exactly and the
//! results rounded half away from zero to kopecks once, per month. Which rate's
//! share a partly spent deduction covers first does not matter for the month's total
//! and is not modelled.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Money, MoneyError};

/// Who paid: the rate depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayerKind {
    /// A private person (4 %).
    Individual,
    /// A company or an individual entrepreneur paying for their business (6 %).
    LegalEntity,
}

/// Rates and limits; configuration, with the law's values as defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRules {
    pub rate_individual: Decimal,
    pub rate_legal_entity: Decimal,
    /// The one-time deduction (10,000 ₽).
    pub deduction_total: Money,
    /// How much of the base the deduction covers while it lasts (1 % and 2 %).
    pub deduction_rate_individual: Decimal,
    pub deduction_rate_legal_entity: Decimal,
    /// Yearly income limit (2.4 million ₽); exceeding it ends the regime.
    pub yearly_income_limit: Money,
    /// The payment provider's fee on the amount received (YooKassa: 2.8 %).
    pub provider_fee_rate: Decimal,
}

impl Default for TaxRules {
    fn default() -> Self {
        Self {
            rate_individual: Decimal::new(4, 2),
            rate_legal_entity: Decimal::new(6, 2),
            deduction_total: Money::from_kopecks(1_000_000),
            deduction_rate_individual: Decimal::new(1, 2),
            deduction_rate_legal_entity: Decimal::new(2, 2),
            yearly_income_limit: Money::from_kopecks(240_000_000),
            provider_fee_rate: Decimal::new(28, 3),
        }
    }
}

/// One month's income by payer kind, after refunds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonthIncome {
    pub individual: Money,
    pub legal_entity: Money,
}

/// The month's tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthTax {
    /// Tax at the full rates.
    pub before_deduction: Money,
    pub deduction_used: Money,
    pub due: Money,
    pub deduction_left: Money,
}

impl TaxRules {
    pub fn rate(&self, payer: PayerKind) -> Decimal {
        match payer {
            PayerKind::Individual => self.rate_individual,
            PayerKind::LegalEntity => self.rate_legal_entity,
        }
    }

    fn deduction_rate(&self, payer: PayerKind) -> Decimal {
        match payer {
            PayerKind::Individual => self.deduction_rate_individual,
            PayerKind::LegalEntity => self.deduction_rate_legal_entity,
        }
    }

    /// The month's tax, given the deduction left before the month.
    pub fn month_tax(
        &self,
        income: MonthIncome,
        deduction_left: Money,
    ) -> Result<MonthTax, MoneyError> {
        let individual = income.individual.amount();
        let legal = income.legal_entity.amount();
        let gross = self.rate(PayerKind::Individual) * individual
            + self.rate(PayerKind::LegalEntity) * legal;
        let wanted = self.deduction_rate(PayerKind::Individual) * individual
            + self.deduction_rate(PayerKind::LegalEntity) * legal;
        let before_deduction = Money::rounded(gross)?;
        let deduction_used = Money::rounded(wanted)?.min(deduction_left);
        let due = before_deduction
            .checked_sub(deduction_used)
            .unwrap_or(Money::ZERO);
        let deduction_left = deduction_left
            .checked_sub(deduction_used)
            .unwrap_or(Money::ZERO);
        Ok(MonthTax {
            before_deduction,
            deduction_used,
            due,
            deduction_left,
        })
    }

    /// Tax on one receipt at the full rate (for a ledger line; the month's figure,
    /// with the deduction, comes from [`TaxRules::month_tax`]).
    pub fn receipt_tax(&self, amount: Money, payer: PayerKind) -> Result<Money, MoneyError> {
        Money::rounded(amount.amount() * self.rate(payer))
    }

    /// The provider's fee on an amount received.
    pub fn provider_fee(&self, amount: Money) -> Result<Money, MoneyError> {
        Money::rounded(amount.amount() * self.provider_fee_rate)
    }

    /// True when a receipt of `amount` takes the year's income above the limit
    /// (reaching it exactly is allowed: the law says "exceeds").
    pub fn exceeds_yearly_limit(
        &self,
        income_so_far: Money,
        amount: Money,
    ) -> Result<bool, MoneyError> {
        Ok(income_so_far.checked_add(amount)? > self.yearly_income_limit)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn money(amount: Decimal) -> Money {
        Money::new(amount).expect("valid amount")
    }

    fn month(individual: Decimal, legal: Decimal, deduction_left: Decimal) -> MonthTax {
        TaxRules::default()
            .month_tax(
                MonthIncome {
                    individual: money(individual),
                    legal_entity: money(legal),
                },
                money(deduction_left),
            )
            .expect("computes")
    }

    fn expect(tax: MonthTax, before: Decimal, used: Decimal, due: Decimal, left: Decimal) {
        assert_eq!(
            tax,
            MonthTax {
                before_deduction: money(before),
                deduction_used: money(used),
                due: money(due),
                deduction_left: money(left),
            }
        );
    }

    #[test]
    fn w1_individual_with_the_deduction_unused() {
        expect(
            month(dec!(10000), dec!(0), dec!(10000)),
            dec!(400),
            dec!(100),
            dec!(300),
            dec!(9900),
        );
    }

    #[test]
    fn w2_legal_entity_with_the_deduction_unused() {
        expect(
            month(dec!(0), dec!(10000), dec!(10000)),
            dec!(600),
            dec!(200),
            dec!(400),
            dec!(9800),
        );
    }

    #[test]
    fn w3_mixed_month() {
        expect(
            month(dec!(50000), dec!(20000), dec!(10000)),
            dec!(3200),
            dec!(900),
            dec!(2300),
            dec!(9100),
        );
    }

    #[test]
    fn w4_the_deduction_runs_out_inside_the_month() {
        expect(
            month(dec!(10000), dec!(0), dec!(50)),
            dec!(400),
            dec!(50),
            dec!(350),
            dec!(0),
        );
    }

    #[test]
    fn w5_no_deduction_left() {
        expect(
            month(dec!(10000), dec!(0), dec!(0)),
            dec!(400),
            dec!(0),
            dec!(400),
            dec!(0),
        );
    }

    #[test]
    fn w6_and_w7_the_deduction_lasts_a_million_from_individuals_or_half_from_companies() {
        expect(
            month(dec!(1000000), dec!(0), dec!(10000)),
            dec!(40000),
            dec!(10000),
            dec!(30000),
            dec!(0),
        );
        expect(
            month(dec!(0), dec!(500000), dec!(10000)),
            dec!(30000),
            dec!(10000),
            dec!(20000),
            dec!(0),
        );
    }

    #[test]
    fn w8_a_refund_in_the_month_reduces_the_base() {
        // 10,000 + 5,000 received, the 5,000 refunded: the month's base is 10,000.
        let base = money(dec!(15000))
            .checked_sub(money(dec!(5000)))
            .expect("non-negative");
        expect(
            month(base.amount(), dec!(0), dec!(10000)),
            dec!(400),
            dec!(100),
            dec!(300),
            dec!(9900),
        );
    }

    #[test]
    fn the_yearly_limit_is_exceeded_only_above_it() {
        let rules = TaxRules::default();
        assert!(
            rules
                .exceeds_yearly_limit(money(dec!(2399000)), money(dec!(2000)))
                .expect("computes")
        );
        assert!(
            !rules
                .exceeds_yearly_limit(money(dec!(2398000)), money(dec!(2000)))
                .expect("computes")
        );
    }

    #[test]
    fn receipt_tax_and_provider_fee_round_to_kopecks() {
        let rules = TaxRules::default();
        assert_eq!(
            rules
                .receipt_tax(money(dec!(1234.56)), PayerKind::Individual)
                .expect("ok"),
            money(dec!(49.38))
        );
        assert_eq!(
            rules
                .receipt_tax(money(dec!(10000)), PayerKind::LegalEntity)
                .expect("ok"),
            money(dec!(600))
        );
        assert_eq!(
            rules.provider_fee(money(dec!(1000))).expect("ok"),
            money(dec!(28))
        );
        assert_eq!(
            rules.provider_fee(money(dec!(99.99))).expect("ok"),
            money(dec!(2.80))
        );
    }

    #[test]
    fn rates_are_configuration() {
        let rules = TaxRules {
            rate_individual: dec!(0.05),
            ..TaxRules::default()
        };
        assert_eq!(
            rules
                .receipt_tax(money(dec!(100)), PayerKind::Individual)
                .expect("ok"),
            money(dec!(5))
        );
    }
}
