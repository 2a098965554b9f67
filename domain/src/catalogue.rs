//! What the businesses sell for credits: packs (a number of credits once) and plans
//! (credits every period). Configuration, not code: each deployment sets its own.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// A number of credits, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditPack {
    /// Stable id, used in payments and receipts.
    pub id: String,
    pub credits: u64,
    pub price: Money,
}

/// Credits every period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    pub id: String,
    pub credits_per_period: u64,
    pub period_days: u32,
    pub price: Money,
}

/// What is on sale for credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A salon service clients book with a master.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalonService {
    /// Stable id, stored in bookings.
    pub id: String,
    pub name: String,
    pub duration_minutes: u32,
    pub price: Money,
}

/// A product of the shop Mini App.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Stable id (SKU), stored in orders.
    pub id: String,
    pub name: String,
    pub price: Money,
}

/// What the salon and the shop sell for money: prices of bookings and shop orders
/// come from here, never from the client. Configuration, like [`Catalogue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shopfront {
    pub services: Vec<SalonService>,
    pub products: Vec<Product>,
}

impl Default for Shopfront {
    fn default() -> Self {
        let service = |id: &str, name: &str, duration_minutes, kopecks| SalonService {
            id: id.to_owned(),
            name: name.to_owned(),
            duration_minutes,
            price: Money::from_kopecks(kopecks),
        };
        let product = |id: &str, name: &str, kopecks| Product {
            id: id.to_owned(),
            name: name.to_owned(),
            price: Money::from_kopecks(kopecks),
        };
        Self {
            services: vec![
                service("haircut", "Стрижка", 60, 150_000),
                service("colouring", "Окрашивание", 120, 350_000),
                service("manicure", "Маникюр", 90, 120_000),
            ],
            products: vec![
                product("mug", "Кружка с логотипом", 49_000),
                product("tshirt", "Футболка", 129_000),
            ],
        }
    }
}

impl Shopfront {
    pub fn service(&self, id: &str) -> Option<&SalonService> {
        self.services.iter().find(|service| service.id == id)
    }

    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|product| product.id == id)
    }
}

/// The salon's working day, in its own time zone (a fixed UTC offset; Russia has no
/// daylight saving time): bookings and reschedules must fit in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalonHours {
    pub opens: chrono::NaiveTime,
    pub closes: chrono::NaiveTime,
    pub utc_offset: chrono::FixedOffset,
}

impl Default for SalonHours {
    /// 10:00–20:00 at UTC+3 (Moscow).
    fn default() -> Self {
        Self {
            opens: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default(),
            closes: chrono::NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
            utc_offset: chrono::FixedOffset::east_opt(3 * 3600)
                .unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc)),
        }
    }
}

impl SalonHours {
    /// True when `start`..`end` lies within one working day of the salon.
    pub fn contains(
        &self,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        let (start, end) = (
            start.with_timezone(&self.utc_offset),
            end.with_timezone(&self.utc_offset),
        );
        start.date_naive() == end.date_naive()
            && start.time() >= self.opens
            && end.time() <= self.closes
            && start < end
    }

    /// The UTC instants the salon opens and closes on `date` (its own calendar day),
    /// or `None` for a date its offset cannot place.
    pub fn day(
        &self,
        date: chrono::NaiveDate,
    ) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
        use chrono::TimeZone;
        let local = |time| {
            self.utc_offset
                .from_local_datetime(&date.and_time(time))
                .single()
                .map(|moment| moment.with_timezone(&chrono::Utc))
        };
        Some((local(self.opens)?, local(self.closes)?))
    }
}

/// What the businesses sell and when, all of it: configuration the use cases price
/// and check with, and the read side offers from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// Credit packs and plans.
    pub catalogue: Catalogue,
    /// The salon's services and the shop's products.
    pub shopfront: Shopfront,
    /// The salon's working day.
    pub salon: SalonHours,
    /// The salon's booking rules: refunds of customers' cancellations, how long an
    /// unpaid booking holds its slot, how many a customer may hold.
    pub booking_rules: crate::order::BookingRules,
}
