//! The dice, the tally and the people of a random history.

use domain::permissions::{Caller, Role};
use domain::use_cases::payments::{RefundDone, Settled, StartedPayment};
use domain::use_cases::{Core, Written};

use crate::people::{owner, signed_in, staff};

/// A small deterministic generator (xorshift64*), so a failing seed can be run again.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Dice(seed.max(1))
    }

    pub fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % bound.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.below(items.len()))
        }
    }
}

/// What the history did: use cases called, how many the domain refused (a random
/// step is often not allowed in the state it meets, as for a real user), and what
/// each accepted call wrote (the aggregate and its sequence after the write).
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub calls: u64,
    pub refused: u64,
    pub written: Vec<Written>,
}

impl Tally {
    pub(super) fn count<T: Recorded, E>(&mut self, outcome: Result<T, E>) -> Option<T> {
        self.calls += 1;
        match outcome {
            Ok(value) => {
                if let Some(written) = value.written() {
                    self.written.push(written);
                }
                Some(value)
            }
            Err(_) => {
                self.refused += 1;
                None
            }
        }
    }

    /// Adds another history's tally to this one.
    pub fn add(&mut self, other: Tally) {
        self.calls += other.calls;
        self.refused += other.refused;
        self.written.extend(other.written);
    }
}

/// What a use case's answer says it wrote, where it says so.
pub trait Recorded {
    fn written(&self) -> Option<Written> {
        None
    }
}

impl Recorded for Written {
    fn written(&self) -> Option<Written> {
        Some(self.clone())
    }
}

impl Recorded for StartedPayment {
    fn written(&self) -> Option<Written> {
        Some(Written::new(self.payment_id.to_string(), self.sequence))
    }
}
impl Recorded for Settled {}
impl Recorded for RefundDone {}

/// The people of a history.
pub struct Cast {
    pub owner: Caller,
    pub admin: Caller,
    pub agent: Caller,
    pub executor: Caller,
    pub customers: Vec<Caller>,
}

/// Signs in the staff and `customers` customers (Telegram ids from `first_id`).
pub async fn cast(core: &Core, first_id: i64, customers: usize) -> Cast {
    let owner = owner(core, first_id).await;
    let admin = staff(core, owner, first_id + 1, "Анна", Role::Admin).await;
    let agent = staff(core, owner, first_id + 2, "Глеб", Role::Support).await;
    let executor = staff(core, owner, first_id + 3, "Борис", Role::Executor).await;
    let mut people = Vec::with_capacity(customers);
    for index in 0..customers {
        people.push(signed_in(core, first_id + 10 + index as i64, "Клиент").await);
    }
    Cast {
        owner,
        admin,
        agent,
        executor,
        customers: people,
    }
}
