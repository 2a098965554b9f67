use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative amount of roubles with at most two decimal places (kopecks).
///
/// Serialized as a string with exactly two places, as YooKassa does: `"100.00"`,
/// `"0.10"`. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error(
        "{0:?} is not an amount of money; use digits with at most two decimal places, like \"100.00\""
    )]
    Malformed(String),
    #[error("{0} has more than two decimal places")]
    TooPrecise(Decimal),
    #[error("{0} is negative; amounts of money are never below zero")]
    Negative(Decimal),
    #[error("the amount is too large")]
    Overflow,
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Exactly `amount`, which must be ≥ 0 with at most two decimal places.
    pub fn new(amount: Decimal) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative(amount));
        }
        let normalized = amount.normalize();
        if normalized.scale() > 2 {
            return Err(MoneyError::TooPrecise(amount));
        }
        let mut value = normalized;
        value.rescale(2);
        Ok(Self(value))
    }

    /// Whole kopecks.
    pub fn from_kopecks(kopecks: u64) -> Self {
        let mut value = Decimal::from(kopecks);
        value.set_scale(2).unwrap_or_default();
        Self(value)
    }

    /// `amount` rounded half away from zero to whole kopecks (for computed amounts
    /// such as tax and fees).
    pub fn rounded(amount: Decimal) -> Result<Self, MoneyError> {
        Self::new(
            amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// `self − other`, or `None` when that would be negative.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        (self.0 >= other.0).then(|| Money(self.0 - other.0))
    }

    /// `self × quantity`.
    pub fn times(self, quantity: u32) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(Decimal::from(quantity))
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn min(self, other: Money) -> Money {
        if self <= other { self } else { other }
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let well_formed = !trimmed.is_empty()
            && trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            && trimmed.matches('.').count() <= 1;
        if !well_formed {
            return Err(MoneyError::Malformed(text.to_owned()));
        }
        let value =
            Decimal::from_str(trimmed).map_err(|_| MoneyError::Malformed(text.to_owned()))?;
        Money::new(value)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

/// In OpenAPI: a string of roubles with two places, never a float.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "Roubles, never negative, with exactly two decimal places, as a string (never a \
                 float): `\"100.00\"`, `\"0.10\"`.",
            ))
            .pattern(Some(r"^[0-9]+\.[0-9]{2}$"))
            .examples(["499.00"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Money {}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn amounts_print_and_serialize_with_two_places() {
        assert_eq!(Money::new(dec!(0.1)).expect("valid").to_string(), "0.10");
        assert_eq!(Money::new(dec!(100)).expect("valid").to_string(), "100.00");
        assert_eq!(
            serde_json::to_string(&Money::new(dec!(2.5)).expect("valid")).expect("json"),
            "\"2.50\""
        );
        assert_eq!(Money::from_kopecks(1).to_string(), "0.01");
    }

    #[test]
    fn parsing_accepts_strings_of_kopecks_and_refuses_the_rest() {
        assert_eq!(
            "100.00".parse::<Money>().expect("valid"),
            Money::from_kopecks(10_000)
        );
        assert_eq!("0.1".parse::<Money>().expect("valid").to_string(), "0.10");
        assert_eq!("1.230".parse::<Money>().expect("valid").to_string(), "1.23");
        assert!(matches!(
            "1.234".parse::<Money>(),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(
            "-1.00".parse::<Money>(),
            Err(MoneyError::Negative(_))
        ));
        for bad in ["", "1e3", "1,00", "abc", "1.2.3", " "] {
            assert!(
                matches!(bad.parse::<Money>(), Err(MoneyError::Malformed(_))),
                "{bad:?}"
            );
        }
        assert!(
            serde_json::from_str::<Money>("100.0").is_err(),
            "numbers are refused"
        );
        assert_eq!(
            serde_json::from_str::<Money>("\"100.5\"")
                .expect("string")
                .to_string(),
            "100.50"
        );
    }

    #[test]
    fn arithmetic_never_goes_negative() {
        let ten = Money::from_kopecks(1_000);
        let three = Money::from_kopecks(300);
        assert_eq!(ten.checked_sub(three), Some(Money::from_kopecks(700)));
        assert_eq!(three.checked_sub(ten), None);
        assert_eq!(three.times(3).expect("fits"), Money::from_kopecks(900));
        assert_eq!(
            Money::rounded(dec!(49.3824)).expect("valid").to_string(),
            "49.38"
        );
        assert_eq!(
            Money::rounded(dec!(0.005)).expect("valid").to_string(),
            "0.01"
        );
    }
}
