//! The businesses' reward rules, as configuration: loyalty tiers with their cashback,
//! how long points live, the referral bonus and the monthly free allowance. Process
//! managers apply them; nothing here does I/O.

use chrono::Duration;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// A loyalty tier: reached once a customer's total paid (net of refunds) is at
/// least `from_total`; completed orders then earn `cashback_percent` of what was
/// paid for them, as points (one point per whole rouble).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub name: String,
    pub from_total: Decimal,
    pub cashback_percent: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programs {
    /// Sorted by `from_total`, the first starting at 0.
    pub tiers: Vec<Tier>,
    /// How long cashback points can be spent.
    pub points_lifetime_days: u32,
    /// Credits a referrer gets for a referred user's first successful payment
    /// (0: no referral bonus).
    pub referral_bonus: u64,
    /// Credits each active user gets once per calendar month (0: none).
    pub monthly_allowance: u64,
}

impl Default for Programs {
    fn default() -> Self {
        let tier = |name: &str, from: i64, percent: i64| Tier {
            name: name.to_owned(),
            from_total: Decimal::from(from),
            cashback_percent: Decimal::from(percent),
        };
        Self {
            tiers: vec![
                tier("bronze", 0, 3),
                tier("silver", 10_000, 5),
                tier("gold", 50_000, 7),
            ],
            points_lifetime_days: 180,
            referral_bonus: 10,
            monthly_allowance: crate::credit::DEFAULT_MONTHLY_ALLOWANCE,
        }
    }
}

impl Programs {
    /// The tier a customer with `total_paid` is in (the lowest when none fits).
    pub fn tier_for(&self, total_paid: Decimal) -> Option<&Tier> {
        self.tiers
            .iter()
            .filter(|tier| tier.from_total <= total_paid)
            .max_by_key(|tier| tier.from_total)
            .or_else(|| self.tiers.iter().min_by_key(|tier| tier.from_total))
    }

    /// Points an order paid `paid` earns in `tier`: whole roubles, rounded down.
    pub fn cashback_points(&self, paid: Money, tier: &Tier) -> u64 {
        (paid.amount() * tier.cashback_percent / Decimal::ONE_HUNDRED)
            .floor()
            .to_u64()
            .unwrap_or(0)
    }

    pub fn points_lifetime(&self) -> Duration {
        Duration::days(i64::from(self.points_lifetime_days))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn tiers_are_picked_by_total_paid() {
        let programs = Programs::default();
        let name = |total| programs.tier_for(total).map(|tier| tier.name.as_str());
        assert_eq!(name(dec!(0)), Some("bronze"));
        assert_eq!(name(dec!(9999.99)), Some("bronze"));
        assert_eq!(name(dec!(10000)), Some("silver"));
        assert_eq!(name(dec!(50000.00)), Some("gold"));
        assert_eq!(
            name(dec!(-5)),
            Some("bronze"),
            "net of refunds can dip below 0"
        );
    }

    #[test]
    fn cashback_is_whole_roubles_rounded_down() {
        let programs = Programs::default();
        let silver = programs.tier_for(dec!(20000)).expect("a tier");
        let paid: Money = "1999.99".parse().expect("money");
        assert_eq!(programs.cashback_points(paid, silver), 99);
        let bronze = programs.tier_for(dec!(0)).expect("a tier");
        let small: Money = "33.00".parse().expect("money");
        assert_eq!(programs.cashback_points(small, bronze), 0);
    }
}
