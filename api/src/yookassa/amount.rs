//! YooKassa's amount object: `{"value": "100.00", "currency": "RUB"}`.
//!
//! Written exactly as YooKassa documents it: the value is a string with two decimal
//! places. Read leniently, because real bodies and old documentation examples differ: the
//! value may be a string with fewer or more places (`"1"`, `"0.1"`) or a JSON number
//! (`250.0`, `0.1`). A number is read through its textual form into a `Decimal`, never as
//! a float, and every value is rounded half-up to whole kopecks, as YooKassa's Python SDK
//! does (`Decimal.quantize(Decimal("0.01"), ROUND_HALF_UP)`). Negative or malformed values
//! are refused.

use std::fmt;
use std::str::FromStr;

use domain::money::Money;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

/// The ISO 4217 code of the rouble, the only currency Ledgerbot takes payments in.
pub const RUB: &str = "RUB";

/// An amount of money in a currency, as YooKassa writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Amount {
    pub value: Money,
    pub currency: String,
}

impl Amount {
    /// `value` roubles.
    pub fn rub(value: Money) -> Self {
        Self {
            value,
            currency: RUB.to_owned(),
        }
    }

    /// Whether the currency is the rouble.
    pub fn is_rub(&self) -> bool {
        self.currency == RUB
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut amount = serializer.serialize_struct("Amount", 2)?;
        // Money's Display always prints two places: "100.00", "0.10".
        amount.serialize_field("value", &self.value.to_string())?;
        amount.serialize_field("currency", &self.currency)?;
        amount.end()
    }
}

/// Reads a decimal written as text (`"100.00"`, `"1"`, `"0.1"`, or a number's textual form
/// such as `"250.0"` or `"1e-7"`) and rounds it half-up to kopecks.
pub fn parse_lenient(text: &str) -> Result<Money, String> {
    let trimmed = text.trim();
    let plain = !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && trimmed.chars().any(|c| c.is_ascii_digit());
    if !plain {
        return Err(format!("{text:?} is not an amount of money"));
    }
    let has_exponent = trimmed.contains(['e', 'E']);
    let parsed = if has_exponent {
        Decimal::from_scientific(trimmed)
    } else {
        Decimal::from_str(trimmed)
    };
    let value = parsed.map_err(|_| format!("{text:?} is not an amount of money"))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!(
            "{text:?} is negative; an amount is never below zero"
        ));
    }
    // Money::rounded rounds half away from zero, which for a non-negative value is half-up.
    Money::rounded(value).map_err(|error| format!("{text:?}: {error}"))
}

/// The `value` field: a string or a JSON number.
struct LenientValue(Money);

impl<'de> Deserialize<'de> for LenientValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl Visitor<'_> for ValueVisitor {
            type Value = LenientValue;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a decimal string (\"100.00\") or a number")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<LenientValue, E> {
                parse_lenient(text).map(LenientValue).map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, number: u64) -> Result<LenientValue, E> {
                Money::new(Decimal::from(number))
                    .map(LenientValue)
                    .map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, number: i64) -> Result<LenientValue, E> {
                if number < 0 {
                    return Err(E::custom(format!(
                        "{number} is negative; an amount is never below zero"
                    )));
                }
                Money::new(Decimal::from(number))
                    .map(LenientValue)
                    .map_err(E::custom)
            }

            fn visit_f64<E: de::Error>(self, number: f64) -> Result<LenientValue, E> {
                // The float is only a carrier: read its shortest textual form (what the
                // JSON said, e.g. "0.1" or "250.0") into a Decimal.
                let number = serde_json::Number::from_f64(number)
                    .ok_or_else(|| E::custom("an amount must be a finite number"))?;
                parse_lenient(&number.to_string())
                    .map(LenientValue)
                    .map_err(E::custom)
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;

        impl<'de> Visitor<'de> for AmountVisitor {
            type Value = Amount;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount object {\"value\": \"100.00\", \"currency\": \"RUB\"}")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Amount, A::Error> {
                let mut value: Option<Money> = None;
                let mut currency: Option<String> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "value" => {
                            if value.is_some() {
                                return Err(de::Error::duplicate_field("value"));
                            }
                            value = Some(map.next_value::<LenientValue>()?.0);
                        }
                        "currency" => {
                            if currency.is_some() {
                                return Err(de::Error::duplicate_field("currency"));
                            }
                            currency = Some(map.next_value()?);
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(Amount {
                    value: value.ok_or_else(|| de::Error::missing_field("value"))?,
                    currency: currency.ok_or_else(|| de::Error::missing_field("currency"))?,
                })
            }
        }

        deserializer.deserialize_map(AmountVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `amount_format_vectors.json` from the reference folder (yookassa-sdk-python
    /// `test/unit/test_amount.py`).
    const AMOUNT_FORMAT_VECTORS: &str = r#"{
      "vectors": [
        {"input_value": 0.1, "currency": "RUB", "serialized": {"value": "0.10", "currency": "RUB"}},
        {"input_value": "100.01", "currency": "RUB", "serialized": {"value": "100.01", "currency": "RUB"}}
      ]
    }"#;

    fn money(text: &str) -> Money {
        text.parse().expect("valid money")
    }

    #[test]
    fn every_sdk_vector_reads_and_writes_as_the_sdk_does() {
        let vectors: serde_json::Value =
            serde_json::from_str(AMOUNT_FORMAT_VECTORS).expect("vectors");
        let vectors = vectors["vectors"].as_array().expect("array");
        assert_eq!(vectors.len(), 2);
        for vector in vectors {
            let input = json!({"value": vector["input_value"], "currency": vector["currency"]});
            let amount: Amount = serde_json::from_value(input.clone()).expect("reads");
            assert_eq!(
                serde_json::to_value(&amount).expect("writes"),
                vector["serialized"],
                "{input}"
            );
            // What we write reads back to the same amount.
            let again: Amount =
                serde_json::from_value(vector["serialized"].clone()).expect("reads back");
            assert_eq!(again, amount);
        }
    }

    /// The inline copy is the reference folder's file, where the folder is present.
    #[test]
    fn the_copy_matches_the_reference_folder() {
        let folder = std::env::var_os("YOOKASSA_REFERENCE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from("/work/shared/reference/yookassa"));
        let Ok(text) = std::fs::read_to_string(folder.join("amount_format_vectors.json")) else {
            eprintln!("{} is absent; comparing nothing", folder.display());
            return;
        };
        let file: serde_json::Value = serde_json::from_str(&text).expect("json");
        let copy: serde_json::Value = serde_json::from_str(AMOUNT_FORMAT_VECTORS).expect("json");
        assert_eq!(file["vectors"], copy["vectors"]);
    }

    #[test]
    fn values_are_always_written_as_strings_with_two_places() {
        let amount = Amount::rub(Money::new(Decimal::from(100)).expect("valid"));
        assert_eq!(
            serde_json::to_string(&amount).expect("json"),
            r#"{"value":"100.00","currency":"RUB"}"#
        );
        assert_eq!(amount.to_string(), "100.00 RUB");
        assert!(amount.is_rub());
    }

    #[test]
    fn strings_and_numbers_are_read_leniently_and_rounded_half_up() {
        let cases = [
            (json!("100.00"), "100.00"),
            (json!("1"), "1.00"),
            (json!("0.1"), "0.10"),
            (json!(" 2.5 "), "2.50"),
            (json!("0.005"), "0.01"),
            (json!("0.004"), "0.00"),
            (json!("100.005"), "100.01"),
            (json!(250.0), "250.00"),
            (json!(0.1), "0.10"),
            (json!(100.005), "100.01"),
            (json!(1.005), "1.01"),
            (json!(0.125), "0.13"),
            (json!(7), "7.00"),
            (json!(0), "0.00"),
            (json!(1e-7), "0.00"),
            (json!(1.5e3), "1500.00"),
        ];
        for (value, expected) in cases {
            let amount: Amount = serde_json::from_value(json!({"value": value, "currency": "RUB"}))
                .unwrap_or_else(|error| panic!("{value}: {error}"));
            assert_eq!(amount.value, money(expected), "{value}");
            assert_eq!(amount.value.to_string(), expected, "{value}");
        }
    }

    #[test]
    fn negative_and_malformed_values_are_refused() {
        for value in [
            json!("-1.00"),
            json!(-1),
            json!(-0.5),
            json!(""),
            json!("abc"),
            json!("1,00"),
            json!("1.2.3"),
            json!("NaN"),
            json!("e"),
            json!(null),
            json!(true),
            json!({"value": "1"}),
            json!(["1"]),
        ] {
            let result: Result<Amount, _> =
                serde_json::from_value(json!({"value": value, "currency": "RUB"}));
            assert!(result.is_err(), "{value} was accepted: {result:?}");
        }
        for missing in [
            json!({"value": "1.00"}),
            json!({"currency": "RUB"}),
            json!("1.00"),
        ] {
            assert!(
                serde_json::from_value::<Amount>(missing.clone()).is_err(),
                "{missing}"
            );
        }
    }

    #[test]
    fn unknown_fields_in_an_amount_are_ignored() {
        let amount: Amount =
            serde_json::from_str(r#"{"value": "5.00", "currency": "RUB", "extra": {"a": [1]}}"#)
                .expect("reads");
        assert_eq!(amount, Amount::rub(money("5.00")));
    }

    #[test]
    fn the_text_reader_names_what_it_refuses() {
        let error = parse_lenient("12a").expect_err("malformed");
        assert!(error.contains("12a"), "{error}");
        let error = parse_lenient("-3").expect_err("negative");
        assert!(error.contains("negative"), "{error}");
    }
}
