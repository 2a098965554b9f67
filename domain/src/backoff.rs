//! The one doubling pause between tries, for everything that tries again (the
//! projection workers, refund calls, the YooKassa client).

use std::time::Duration;

/// The pause before try `attempt + 1` after `attempt` failed ones (1 for the first):
/// `first × 2^(attempt − 1)`, at most `longest`; `first` for 0 or less.
pub fn doubling(attempt: i64, first: Duration, longest: Duration) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    first.saturating_mul(1u32 << doublings).min(longest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_its_ceiling() {
        let first = Duration::from_millis(200);
        let longest = Duration::from_secs(30);
        let pauses: Vec<u128> = [0, 1, 2, 3, 4, 8, 9, 100, i64::MAX]
            .iter()
            .map(|attempt| doubling(*attempt, first, longest).as_millis())
            .collect();
        assert_eq!(
            pauses,
            vec![200, 200, 400, 800, 1_600, 25_600, 30_000, 30_000, 30_000]
        );
        assert_eq!(doubling(5, Duration::ZERO, longest), Duration::ZERO);
    }
}
