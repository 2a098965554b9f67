//! What the businesses sell for credits: packs (a number of credits once) and plans
//! (credits every period). Configuration, not code: each deployment sets its own.

use serde::{Deserialize, Serialize};

use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPack {
    /// Stable id, used in payments and receipts.
    pub id: String,
    pub credits: u64,
    pub price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub credits_per_period: u64,
    pub period_days: u32,
    pub price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub packs: Vec<CreditPack>,
    pub plans: Vec<Plan>,
}

impl Default for Catalogue {
    fn default() -> Self {
        let money = |kopecks| Money::from_kopecks(kopecks);
        let pack = |id: &str, credits, kopecks| CreditPack {
            id: id.to_owned(),
            credits,
            price: money(kopecks),
        };
        Self {
            packs: vec![
                pack("S", 100, 49_900),
                pack("M", 300, 129_000),
                pack("XL", 1_000, 399_000),
            ],
            plans: vec![Plan {
                id: "pro".to_owned(),
                credits_per_period: 300,
                period_days: 30,
                price: money(99_000),
            }],
        }
    }
}

impl Catalogue {
    pub fn pack(&self, id: &str) -> Option<&CreditPack> {
        self.packs.iter().find(|pack| pack.id == id)
    }

    pub fn plan(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|plan| plan.id == id)
    }
}
