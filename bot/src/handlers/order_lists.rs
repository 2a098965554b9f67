//! Lists of orders: the customer's own, the pool of paid orders nobody has taken
//! (executors), those assigned to me, and briefs waiting for a price (staff); each
//! line opens the order's card.

use domain::permissions::Caller;
use projections::read_models::orders::{OrderFilter, OrderScope};
use projections::read_models::paging::Page;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::{BotContext, HandlerResult};
use crate::html::escape;
use crate::notices::status_name;
use crate::texts::{self, Lang, fill};

const LIST_LENGTH: i64 = 10;

/// Which list to show.
#[derive(Debug, Clone, Copy)]
pub enum List {
    Mine,
    Pool,
    Assigned,
    /// Briefs waiting for a price (staff).
    ToPrice,
}

pub async fn list(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    which: List,
    lang: Lang,
) -> HandlerResult {
    let status = matches!(which, List::ToPrice).then(|| "placed".to_owned());
    let (scope, title, none) = match which {
        List::Mine => (
            OrderScope::Mine,
            texts::orders_title(lang),
            texts::orders_none(lang),
        ),
        List::Pool => (
            OrderScope::Pool,
            texts::pool_title(lang),
            texts::pool_none(lang),
        ),
        List::Assigned => (
            OrderScope::Assigned,
            texts::assigned_title(lang),
            texts::assigned_none(lang),
        ),
        List::ToPrice => (
            OrderScope::All,
            texts::to_price_title(lang),
            texts::to_price_none(lang),
        ),
    };
    let filter = OrderFilter {
        scope,
        status,
        kind: None,
    };
    let page = Page::new(Some(LIST_LENGTH), None)?;
    let orders = match context.reads.orders(caller, &filter, &page).await {
        Ok(orders) => orders,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    if orders.items.is_empty() {
        return context.say(chat, none).await;
    }
    let mut text = title.to_owned();
    let mut rows = Vec::new();
    for order in &orders.items {
        let price = order
            .price
            .as_ref()
            .map(|price| format!(", {} ₽", escape(price)))
            .unwrap_or_default();
        text.push('\n');
        text.push_str(&fill(
            texts::order_line(lang),
            &[
                ("title", escape(&order.title)),
                ("status", escape(status_name(&order.status, lang))),
                ("price", price),
            ],
        ));
        let label: String = order.title.chars().take(40).collect();
        rows.push(vec![InlineKeyboardButton::callback(
            label,
            format!("order:{}", order.order_id),
        )]);
    }
    let keyboard = InlineKeyboardMarkup::new(rows);
    context.say_with(chat, &text, keyboard).await
}
