//! Pacing requests within Telegram's limits: 25 a second overall (under Telegram's
//! "about 30", with room for requests that arrive closer together than they left:
//! the network and a busy machine bunch them), and for bulk sending one a second per private chat; every request to a
//! group (answers too) keeps 3 s from the last, 20 a minute. A request waiting for
//! its chat takes no moment from the others meanwhile.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::time::Duration;

use tokio::time::Instant;

/// How a message is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// An answer to what the person just did: only the overall limit applies.
    Reply,
    /// Notifications and broadcasts: the per-chat limits apply too.
    Bulk,
    /// The caller already waited its turn ([`Outgoing::wait_turn`]).
    Waited,
}

/// Gaps between requests: overall, per private chat, per group.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub overall: Duration,
    pub private_chat: Duration,
    pub group: Duration,
}

impl Limits {
    /// The limits with `per_second` requests a second overall.
    pub fn with_overall_rate(per_second: u32) -> Self {
        Self {
            overall: Duration::from_micros(1_000_000 / u64::from(per_second.max(1))),
            ..Self::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // 25 a second: Telegram's "about 30", with room for requests that
            // arrive closer together than they left.
            overall: Duration::from_micros(1_000_000 / 25),
            private_chat: Duration::from_secs(1),
            group: Duration::from_secs(3),
        }
    }
}

#[derive(Default)]
pub struct Pacer {
    /// Telegram asked every request to wait until then (a 429).
    held_until: Option<Instant>,
    /// The moments already given out, each at least `overall` from the next.
    slots: BTreeSet<Instant>,
    next_in_chat: HashMap<i64, Instant>,
}

impl Pacer {
    /// Telegram answered 429: no request goes before `until`.
    pub fn hold(&mut self, until: Instant) {
        self.held_until = Some(self.held_until.map_or(until, |held| held.max(until)));
    }

    /// When a request to `chat` may go, reserving that moment: the chat's next free
    /// moment (for bulk sends), then the first moment no other request is closer to
    /// than the overall gap. A request waiting for its chat takes no moment from the
    /// others meanwhile.
    pub fn reserve(&mut self, limits: &Limits, chat: i64, pace: Pace) -> Instant {
        let now = Instant::now();
        let gap = limits.overall;
        if let Some(stale) = now.checked_sub(gap) {
            self.slots = self.slots.split_off(&stale);
        }
        let mut at = self.held_until.map_or(now, |held| held.max(now));
        // Groups keep their gap for every request; private chats for bulk sends.
        let paced_in_chat = pace == Pace::Bulk || chat < 0;
        if paced_in_chat && let Some(next) = self.next_in_chat.get(&chat) {
            at = at.max(*next);
        }
        while let Some(taken) = self
            .slots
            .range((
                Bound::Excluded(at.checked_sub(gap).unwrap_or(at)),
                Bound::Excluded(at + gap),
            ))
            .next_back()
            .copied()
        {
            at = taken + gap;
        }
        self.slots.insert(at);
        if paced_in_chat {
            let chat_gap = if chat < 0 {
                limits.group
            } else {
                limits.private_chat
            };
            if self.next_in_chat.len() > 10_000 {
                self.next_in_chat.retain(|_, next| *next > now);
            }
            self.next_in_chat.insert(chat, at + chat_gap);
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bulk_sends_keep_the_gaps_overall_and_per_chat() {
        let limits = Limits::default();
        let mut pacer = Pacer::default();
        let start = Instant::now();
        let first = pacer.reserve(&limits, 7, Pace::Bulk);
        let same_chat = pacer.reserve(&limits, 7, Pace::Bulk);
        let other_chat = pacer.reserve(&limits, 8, Pace::Bulk);
        let group = pacer.reserve(&limits, -100, Pace::Bulk);
        let group_again = pacer.reserve(&limits, -100, Pace::Bulk);
        let reply = pacer.reserve(&limits, 7, Pace::Reply);
        assert_eq!(first, start);
        assert_eq!(same_chat - first, Duration::from_secs(1));
        assert_eq!(
            other_chat - first,
            limits.overall,
            "a chat is not held up by another chat's wait"
        );
        assert_eq!(group_again - group, Duration::from_secs(3));
        assert!(
            reply < same_chat,
            "answers do not wait for the chat's bulk gap"
        );
        let mut moments = [first, same_chat, other_chat, group, group_again, reply];
        moments.sort();
        for pair in moments.windows(2) {
            assert!(pair[1] - pair[0] >= limits.overall, "{moments:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_thousand_chats_go_at_twenty_five_a_second() {
        let limits = Limits::default();
        let mut pacer = Pacer::default();
        let start = Instant::now();
        let last = (0..1_000)
            .map(|chat| pacer.reserve(&limits, chat, Pace::Bulk))
            .max()
            .expect("reserved");
        let seconds = (last - start).as_secs_f64();
        assert!((39.9..40.1).contains(&seconds), "{seconds} s");
    }
}
