//! The shop's cart, kept per user on the server (`shop_carts`, `shop_cart_lines`):
//! lines of the shop's products, priced from the shopfront when read, and the
//! checkout that places a shop order from it.
//!
//! Every change and every checkout takes the cart's row lock, so they take turns.
//! A checkout names the revision the customer saw (a cart changed meanwhile is
//! refused: nobody buys what they did not see) and marks the cart "checking out
//! this revision, to this delivery" in a short transaction; then it places the
//! order under a key of that revision (`once_under`: the same order id on every
//! run, and a run that finds the order places nothing) without holding the lock;
//! then it empties the cart and clears the mark. Whoever finds the mark still set
//! (a change, another checkout, after a crash, a timeout or a dropped client)
//! finishes that checkout first under the same key (placing it, or finding the
//! order it placed) and closes the cart. So a cart is bought at most once,
//! whatever fails when, and a change never carries bought lines.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::placing::{NewOrder, ShopItem};
use sqlx::PgConnection;

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
        let mut connection = self.pool().acquire().await?;
        self.read_cart(&mut connection, caller.user_id).await
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
        if quantity > MAX_QUANTITY {
            return Err(CommandError::invalid("quantity", "0 (remove) to 99"));
        }
        if quantity > 0 && self.offer.shopfront.product(product_id).is_none() {
            return Err(CommandError::invalid(
                "product_id",
                "not one of the shop's products; GET /api/v1/shop/products lists them",
            ));
        }
        let mut transaction = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO shop_carts (user_id, revision, updated_at) VALUES ($1, 0, $2) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(caller.user_id)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let state = locked(&mut transaction, caller.user_id).await?;
        if let Some(state) = state {
            self.settle_interrupted(&mut transaction, caller, &state, now)
                .await?;
        }
        // Lines of products the shop no longer sells go with any change.
        let sold: Vec<String> = self
            .offer
            .shopfront
            .products
            .iter()
            .map(|product| product.id.clone())
            .collect();
        sqlx::query(
            "DELETE FROM shop_cart_lines WHERE user_id = $1 AND NOT (product_id = ANY($2))",
        )
        .bind(caller.user_id)
        .bind(&sold)
        .execute(&mut *transaction)
        .await?;
        if quantity == 0 {
            sqlx::query("DELETE FROM shop_cart_lines WHERE user_id = $1 AND product_id = $2")
                .bind(caller.user_id)
                .bind(product_id)
                .execute(&mut *transaction)
                .await?;
        } else {
            let others: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM shop_cart_lines WHERE user_id = $1 AND product_id <> $2",
            )
            .bind(caller.user_id)
            .bind(product_id)
            .fetch_one(&mut *transaction)
            .await?;
            if others >= MAX_LINES as i64 {
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
        sqlx::query(
            "UPDATE shop_carts SET revision = revision + 1, updated_at = $2 WHERE user_id = $1",
        )
        .bind(caller.user_id)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let cart = self.read_cart(&mut transaction, caller.user_id).await?;
        transaction.commit().await?;
        Ok(cart)
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
        let mut transaction = self.pool().begin().await?;
        let Some(state) = locked(&mut transaction, caller.user_id).await? else {
            return Err(empty_cart());
        };
        let state = self
            .settle_interrupted(&mut transaction, caller, &state, now)
            .await?;
        if let (Some(bought), Some(order)) = (state.bought, state.bought_order)
            && bought == revision
        {
            // Checked out already (the answer was lost, or the run was cut short
            // and settling has just finished it): the same order.
            transaction.commit().await?;
            return Ok(Written::new(order.to_string(), 1));
        }
        if state.revision != revision {
            transaction.commit().await?;
            return Err(CommandError::new(
                ErrorKind::Conflict,
                "the cart changed since it was shown; look at it again and check out",
            )
            .with_code("cart_changed"));
        }
        let items = self.items(&mut transaction, caller.user_id).await?;
        if items.is_empty() {
            transaction.commit().await?;
            return Err(empty_cart());
        }
        sqlx::query(
            "UPDATE shop_carts SET pending_revision = $2, pending_delivery = $3 WHERE user_id = $1",
        )
        .bind(caller.user_id)
        .bind(revision)
        .bind(sqlx::types::Json(&delivery))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        // No lock is held while the order is placed: the mark says what is under way.
        let placed = self
            .place_checkout(caller, revision, state.changed_at, items, delivery, now)
            .await;
        let mut transaction = self.pool().begin().await?;
        let Some(state) = locked(&mut transaction, caller.user_id).await? else {
            return Err(empty_cart());
        };
        match placed {
            Ok(placed) => {
                // Someone who found the mark may have closed it already.
                if state.pending == Some(revision) && state.bought != Some(revision) {
                    close(
                        &mut transaction,
                        caller.user_id,
                        revision,
                        order_of(&placed)?,
                    )
                    .await?;
                }
                transaction.commit().await?;
                Ok(placed)
            }
            Err(error) => {
                if gives_up(&error) && state.pending == Some(revision) {
                    unmark(&mut transaction, caller.user_id).await?;
                }
                transaction.commit().await?;
                Err(error)
            }
        }
    }

    /// The order of a checkout of `revision`, placed under its key.
    async fn place_checkout(
        &self,
        caller: Caller,
        revision: i64,
        changed_at: DateTime<Utc>,
        items: Vec<ShopItem>,
        delivery: Delivery,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        once_under(
            checkout_key(caller.user_id, revision),
            changed_at,
            self.place_order(caller, NewOrder::Shop { items, delivery }, now),
        )
        .await
    }

    /// Finishes what a checkout cut short left: a marked checkout is placed (or its
    /// order found) under its key and the cart closed. Every checkout marks the cart
    /// before it places anything, and the mark goes only with the close or with a
    /// refusal that placed nothing, so an unmarked cart has nothing to finish.
    /// Called under the cart's lock.
    async fn settle_interrupted(
        &self,
        connection: &mut PgConnection,
        caller: Caller,
        state: &CartState,
        now: DateTime<Utc>,
    ) -> Result<CartState, CommandError> {
        let Some(sqlx::types::Json(delivery)) = state.pending_delivery.clone() else {
            return Ok(state.clone());
        };
        if state.pending != Some(state.revision) || state.bought == Some(state.revision) {
            return Ok(state.clone());
        }
        let items = self.items(connection, caller.user_id).await?;
        let order = match self
            .place_checkout(
                caller,
                state.revision,
                state.changed_at,
                items,
                delivery,
                now,
            )
            .await
        {
            Ok(placed) => order_of(&placed)?,
            Err(error) if gives_up(&error) => {
                unmark(connection, caller.user_id).await?;
                return Ok(CartState {
                    pending: None,
                    pending_delivery: None,
                    ..state.clone()
                });
            }
            Err(error) => return Err(error),
        };
        close(connection, caller.user_id, state.revision, order).await?;
        Ok(CartState {
            bought: Some(state.revision),
            bought_order: Some(order),
            pending: None,
            pending_delivery: None,
            ..state.clone()
        })
    }

    /// The cart's lines as a shop order's items.
    async fn items(
        &self,
        connection: &mut PgConnection,
        user_id: Uuid,
    ) -> Result<Vec<ShopItem>, CommandError> {
        Ok(self
            .read_cart(connection, user_id)
            .await?
            .items
            .into_iter()
            .map(|line| ShopItem {
                product_id: line.product_id,
                quantity: line.quantity,
            })
            .collect())
    }

    /// The cart's lines at the shop's prices.
    async fn read_cart(
        &self,
        connection: &mut PgConnection,
        user_id: Uuid,
    ) -> Result<Cart, CommandError> {
        let revision: Option<i64> =
            sqlx::query_scalar("SELECT revision FROM shop_carts WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *connection)
                .await?;
        let lines: Vec<(String, i32)> = sqlx::query_as(
            "SELECT product_id, quantity FROM shop_cart_lines WHERE user_id = $1 \
             ORDER BY added_at, product_id",
        )
        .bind(user_id)
        .fetch_all(&mut *connection)
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
}

/// A cart's row, read under its lock.
#[derive(Debug, Clone, sqlx::FromRow)]
struct CartState {
    revision: i64,
    changed_at: DateTime<Utc>,
    /// The revision the last checkout bought, and its order.
    bought: Option<i64>,
    bought_order: Option<Uuid>,
    /// A checkout under way: its revision and delivery.
    pending: Option<i64>,
    pending_delivery: Option<sqlx::types::Json<Delivery>>,
}

/// The cart's row, locked until the transaction ends; `None` for a user without one.
async fn locked(
    connection: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<CartState>, CommandError> {
    Ok(sqlx::query_as(
        "SELECT revision, updated_at AS changed_at, checked_out_revision AS bought, \
                checked_out_order AS bought_order, pending_revision AS pending, pending_delivery \
         FROM shop_carts WHERE user_id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *connection)
    .await?)
}

/// Records that `revision` became `order` and empties the cart.
async fn close(
    connection: &mut PgConnection,
    user_id: Uuid,
    revision: i64,
    order: Uuid,
) -> Result<(), CommandError> {
    sqlx::query(
        "UPDATE shop_carts SET checked_out_revision = $2, checked_out_order = $3, \
         pending_revision = NULL, pending_delivery = NULL WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(revision)
    .bind(order)
    .execute(&mut *connection)
    .await?;
    sqlx::query("DELETE FROM shop_cart_lines WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Clears the mark of a checkout that will never place its order.
async fn unmark(connection: &mut PgConnection, user_id: Uuid) -> Result<(), CommandError> {
    sqlx::query(
        "UPDATE shop_carts SET pending_revision = NULL, pending_delivery = NULL WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Whether a checkout that failed so can never place its order (bad input, a state
/// or permission that refuses it); an outage or a conflict may pass.
fn gives_up(error: &CommandError) -> bool {
    matches!(
        error.kind,
        ErrorKind::InvalidInput
            | ErrorKind::InvalidState
            | ErrorKind::Forbidden
            | ErrorKind::NotFound
    )
}

fn order_of(placed: &Written) -> Result<Uuid, CommandError> {
    placed
        .aggregate_id
        .parse()
        .map_err(|_| CommandError::new(ErrorKind::Internal, "an order id is a UUID"))
}

/// The key a checkout of `revision` places its order under.
fn checkout_key(user_id: Uuid, revision: i64) -> String {
    format!("cart-checkout:{user_id}:{revision}")
}

fn empty_cart() -> CommandError {
    CommandError::invalid("items", "the cart is empty: add products first")
}

fn too_much(_: crate::money::MoneyError) -> CommandError {
    CommandError::invalid("quantity", "the cart's total is too large")
}
