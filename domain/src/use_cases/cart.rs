//! The shop's cart, kept per user on the server (`shop_carts`, `shop_cart_lines`):
//! lines of the shop's products, priced from the shopfront when read, and the
//! checkout that places a shop order from it. A checkout names the cart revision
//! the customer saw (a cart changed meanwhile is refused, so nobody buys what they
//! did not see) and runs under a key of that revision, so a checkout repeated after
//! a lost answer or a crash finds the order it placed instead of placing another.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::placing::{NewOrder, ShopItem};
use super::{Core, Written};
use crate::command::{CommandError, ErrorKind, once_under};
use crate::money::Money;
use crate::order::Delivery;
use crate::permissions::{Action, Caller};

/// Most lines a cart holds, as a shop order does.
pub const MAX_LINES: usize = 100;
/// Most of one product in a cart.
pub const MAX_QUANTITY: u32 = 99;

/// One line of a cart, at the shop's price now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CartLine {
    pub product_id: String,
    pub name: String,
    pub price: Money,
    pub quantity: u32,
    pub line_total: Money,
}

/// A customer's cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cart {
    /// Oldest line first.
    pub items: Vec<CartLine>,
    pub total: Money,
    /// Grows with every change; a checkout names the one the customer saw.
    pub revision: i64,
}

impl Core {
    /// `caller`'s cart, priced from the shopfront. A product the shop no longer sells
    /// is left out (and removed at the next change).
    pub async fn cart(&self, caller: Caller) -> Result<Cart, CommandError> {
        caller.require(Action::PlaceOrder)?;
        let revision: Option<i64> =
            sqlx::query_scalar("SELECT revision FROM shop_carts WHERE user_id = $1")
                .bind(caller.user_id)
                .fetch_optional(self.pool())
                .await?;
        let lines: Vec<(String, i32)> = sqlx::query_as(
            "SELECT product_id, quantity FROM shop_cart_lines WHERE user_id = $1 \
             ORDER BY added_at, product_id",
        )
        .bind(caller.user_id)
        .fetch_all(self.pool())
        .await?;
        let mut items = Vec::with_capacity(lines.len());
        let mut total = Money::ZERO;
        for (product_id, quantity) in lines {
            let Some(product) = self.offer.shopfront.product(&product_id) else {
                continue;
            };
            let quantity = u32::try_from(quantity).unwrap_or_default();
            let line_total = product.price.times(quantity).map_err(too_much)?;
            total = total.checked_add(line_total).map_err(too_much)?;
            items.push(CartLine {
                product_id,
                name: product.name.clone(),
                price: product.price,
                quantity,
                line_total,
            });
        }
        Ok(Cart {
            items,
            total,
            revision: revision.unwrap_or(0),
        })
    }

    /// Sets how many of `product_id` the cart holds (0 removes the line).
    pub async fn set_cart_quantity(
        &self,
        caller: Caller,
        product_id: &str,
        quantity: u32,
        now: DateTime<Utc>,
    ) -> Result<Cart, CommandError> {
        caller.require(Action::PlaceOrder)?;
        if self.offer.shopfront.product(product_id).is_none() {
            return Err(CommandError::invalid(
                "product_id",
                "not one of the shop's products; GET /api/v1/shop/products lists them",
            ));
        }
        if quantity > MAX_QUANTITY {
            return Err(CommandError::invalid("quantity", "0 (remove) to 99"));
        }
        let mut transaction = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO shop_carts (user_id, revision, updated_at) VALUES ($1, 1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET revision = shop_carts.revision + 1, updated_at = $2",
        )
        .bind(caller.user_id)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        if quantity == 0 {
            sqlx::query("DELETE FROM shop_cart_lines WHERE user_id = $1 AND product_id = $2")
                .bind(caller.user_id)
                .bind(product_id)
                .execute(&mut *transaction)
                .await?;
        } else {
            let lines: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM shop_cart_lines WHERE user_id = $1 AND product_id <> $2",
            )
            .bind(caller.user_id)
            .bind(product_id)
            .fetch_one(&mut *transaction)
            .await?;
            if lines >= MAX_LINES as i64 {
                return Err(CommandError::invalid(
                    "product_id",
                    "a cart holds at most 100 different products",
                ));
            }
            sqlx::query(
                "INSERT INTO shop_cart_lines (user_id, product_id, quantity, added_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity",
            )
            .bind(caller.user_id)
            .bind(product_id)
            .bind(i32::try_from(quantity).unwrap_or(i32::MAX))
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        self.cart(caller).await
    }

    /// Places a shop order of the cart at `revision` (what the customer saw) with
    /// `delivery`, then empties the cart. Repeated with the same revision, it answers
    /// the order the first placed.
    pub async fn check_out_cart(
        &self,
        caller: Caller,
        revision: i64,
        delivery: Delivery,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::PlaceOrder)?;
        let state: Option<(i64, DateTime<Utc>, Option<i64>, Option<Uuid>)> = sqlx::query_as(
            "SELECT revision, updated_at, checked_out_revision, checked_out_order \
             FROM shop_carts WHERE user_id = $1",
        )
        .bind(caller.user_id)
        .fetch_optional(self.pool())
        .await?;
        let Some((current, changed_at, bought, order)) = state else {
            return Err(empty_cart());
        };
        if let (Some(bought), Some(order)) = (bought, order)
            && bought == revision
        {
            // Checked out already (the answer was lost): the same order.
            return Ok(Written::new(order.to_string(), 1));
        }
        if current != revision {
            return Err(CommandError::new(
                ErrorKind::Conflict,
                "the cart changed since it was shown; look at it again and check out",
            )
            .with_code("cart_changed"));
        }
        let cart = self.cart(caller).await?;
        if cart.items.is_empty() {
            return Err(empty_cart());
        }
        let items: Vec<ShopItem> = cart
            .items
            .iter()
            .map(|line| ShopItem {
                product_id: line.product_id.clone(),
                quantity: line.quantity,
            })
            .collect();
        // Under a key of this revision: a run cut short before the cart was emptied
        // is found by the next, which gets the same order id and places nothing new.
        let key = format!("cart-checkout:{}:{revision}", caller.user_id);
        let placed = once_under(
            key,
            changed_at,
            self.place_order(caller, NewOrder::Shop { items, delivery }, now),
        )
        .await?;
        self.close_cart(caller.user_id, revision, &placed.aggregate_id)
            .await?;
        Ok(placed)
    }

    /// Empties the cart bought at `revision` and remembers the order it became.
    async fn close_cart(
        &self,
        user_id: Uuid,
        revision: i64,
        order_id: &str,
    ) -> Result<(), CommandError> {
        let order: Uuid = order_id
            .parse()
            .map_err(|_| CommandError::new(ErrorKind::Internal, "an order id is a UUID"))?;
        let mut transaction = self.pool().begin().await?;
        let closed = sqlx::query(
            "UPDATE shop_carts SET checked_out_revision = $2, checked_out_order = $3 \
             WHERE user_id = $1 AND revision = $2",
        )
        .bind(user_id)
        .bind(revision)
        .bind(order)
        .execute(&mut *transaction)
        .await?;
        if closed.rows_affected() == 1 {
            sqlx::query("DELETE FROM shop_cart_lines WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }
}

fn empty_cart() -> CommandError {
    CommandError::invalid("items", "the cart is empty: add products first")
}

fn too_much(_: crate::money::MoneyError) -> CommandError {
    CommandError::invalid("quantity", "the cart's total is too large")
}
