//! Placing an order of any of the three kinds. Bookings and shop orders are priced
//! from the configured shopfront (the salon's services, the shop's products), never
//! from the client. A booking is made under the configured booking rules (its
//! terms: the unpaid hold, refunds, the unpaid-bookings limit). That a booking's
//! master is an executor, that the slot is free and that the customer does not hold
//! too many unpaid bookings, the store decides with the booking's event.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Core, Written};
use crate::command::CommandError;
use crate::files::FilePurpose;
use crate::money::Money;
use crate::order::{Coursework, Delivery, LineItem, OrderCommand, OrderDetails, Slot};
use crate::permissions::{Action, Caller};
use crate::use_cases::files::AttachedTo;

/// One line of a shop order: a product of the shop and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopItem {
    pub product_id: String,
    pub quantity: u32,
}

/// What a customer orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewOrder {
    /// A brief: subject, type of work, volume, deadline, materials, revisions.
    Coursework(Coursework),
    /// A salon service with a master, from `start`; the service gives the duration
    /// and the price.
    Booking {
        service_id: String,
        master_id: Uuid,
        start: DateTime<Utc>,
    },
    /// Products at the shop's prices, and where to deliver them.
    Shop {
        items: Vec<ShopItem>,
        delivery: Delivery,
    },
}

impl Core {
    /// Places `order` for `caller`; the new order's id is the written aggregate's.
    pub async fn place_order(
        &self,
        caller: Caller,
        order: NewOrder,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::PlaceOrder)?;
        let (details, terms) = match order {
            NewOrder::Coursework(brief) => (coursework(brief, now)?, None),
            NewOrder::Booking {
                service_id,
                master_id,
                start,
            } => (
                self.booking(&service_id, master_id, start, now)?,
                Some(self.offer.booking_rules.terms(now, start)),
            ),
            NewOrder::Shop { items, delivery } => (self.shop(items, delivery)?, None),
        };
        let order_id = crate::command::new_id();
        let id = order_id.to_string();
        // A brief's materials from the file store become the order's with its event
        // (the store attaches them); checked first so a refusal names the file.
        if let OrderDetails::Coursework(brief) = &details {
            self.check_attachable(
                caller,
                &brief.attachments,
                FilePurpose::Coursework,
                (AttachedTo::Order, &id),
                Coursework::MAX_FILES,
            )
            .await?;
        }
        let placed = self
            .commands
            .orders
            .execute(
                &id,
                OrderCommand::Place {
                    order_id,
                    customer_id: caller.user_id,
                    details,
                    terms,
                },
                &caller.context().at(now),
            )
            .await?;
        Ok(Written::new(id, placed.sequence))
    }

    fn booking(
        &self,
        service_id: &str,
        master_id: Uuid,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<OrderDetails, CommandError> {
        let service = self.offer.shopfront.service(service_id).ok_or_else(|| {
            CommandError::invalid(
                "service_id",
                "not one of the salon's services; GET /api/v1/bookings/services lists them",
            )
        })?;
        if start <= now {
            return Err(CommandError::invalid("start", "a time in the future"));
        }
        let end = start + Duration::minutes(i64::from(service.duration_minutes));
        if !self.offer.salon.contains(start, end) {
            return Err(CommandError::invalid(
                "start",
                "the service must fit within the salon's working hours",
            ));
        }
        Ok(OrderDetails::Booking {
            service_id: service.id.clone(),
            service_name: service.name.clone(),
            master_id,
            slot: Slot { start, end },
            price: service.price,
        })
    }

    fn shop(&self, items: Vec<ShopItem>, delivery: Delivery) -> Result<OrderDetails, CommandError> {
        if items.is_empty() || items.len() > 100 {
            return Err(CommandError::invalid("items", "1 to 100 lines"));
        }
        let mut lines = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let product = self
                .offer
                .shopfront
                .product(&item.product_id)
                .ok_or_else(|| {
                    CommandError::invalid(
                        format!("items[{index}].product_id"),
                        "not one of the shop's products; GET /api/v1/shop/products lists them",
                    )
                })?;
            if !(1..=99).contains(&item.quantity) {
                return Err(CommandError::invalid(
                    format!("items[{index}].quantity"),
                    "1 to 99",
                ));
            }
            lines.push(LineItem {
                product_id: product.id.clone(),
                name: product.name.clone(),
                quantity: item.quantity,
                unit_price: product.price,
            });
        }
        let total = lines
            .iter()
            .try_fold(Money::ZERO, |total, line| {
                total.checked_add(line.unit_price.times(line.quantity)?)
            })
            .map_err(|_| CommandError::invalid("items", "a total within range"))?;
        Ok(OrderDetails::Shop {
            lines,
            total,
            delivery,
        })
    }
}

fn coursework(brief: Coursework, now: DateTime<Utc>) -> Result<OrderDetails, CommandError> {
    if brief.deadline <= now {
        return Err(CommandError::invalid(
            "deadline",
            "the deadline must be in the future",
        ));
    }
    Ok(OrderDetails::Coursework(brief))
}
