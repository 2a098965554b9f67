//! Reading one variable: parsed with a default, or within a range.

use std::str::FromStr;

use super::ConfigError;

pub(super) fn parsed<T: FromStr>(
    variable: &'static str,
    value: Option<String>,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| ConfigError {
            variable,
            expected,
            found: Some(raw),
        }),
    }
}

pub(super) fn ranged<T: FromStr + PartialOrd>(
    variable: &'static str,
    value: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    expected: &'static str,
) -> Result<T, ConfigError> {
    let number = parsed(variable, value.clone(), default, expected)?;
    if range.contains(&number) {
        Ok(number)
    } else {
        Err(ConfigError {
            variable,
            expected,
            found: value,
        })
    }
}
