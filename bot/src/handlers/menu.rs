//! The main menu, help, and the customer's own things: orders, balance, referral link.

use domain::permissions::Caller;
use projections::read_models::orders::{OrderFilter, OrderScope};
use projections::read_models::paging::Page;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::{BotContext, HandlerResult};
use crate::html::escape;
use crate::notices::status_name;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

const LIST_LENGTH: i64 = 10;
const TIMELINE_LINES: usize = 10;

pub async fn main(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    first_name: &str,
    lang: Lang,
) -> HandlerResult {
    let mut text = fill(texts::welcome(lang), &[("name", escape(first_name))]);
    if caller.role.is_staff() {
        text.push_str(texts::staff_help(lang));
    }
    let button = |label: &str, data: &str| InlineKeyboardButton::callback(label, data);
    let keyboard = InlineKeyboardMarkup::new([
        vec![
            button(texts::button_orders(lang), "menu:orders"),
            button(texts::button_balance(lang), "menu:balance"),
        ],
        vec![
            button(texts::button_referral(lang), "menu:referral"),
            button(texts::button_support(lang), "menu:support"),
        ],
        vec![button(texts::button_help(lang), "menu:help")],
    ]);
    context
        .out
        .html(chat, &text, Some(keyboard), Pace::Reply)
        .await?;
    Ok(())
}

pub async fn help(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let mut text = texts::help(lang).to_owned();
    if caller.role.is_staff() {
        text.push_str(texts::staff_help(lang));
    }
    context.say(chat, &text).await
}

pub async fn orders(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let filter = OrderFilter {
        scope: OrderScope::Mine,
        status: None,
        kind: None,
    };
    let page = Page::new(Some(LIST_LENGTH), None)?;
    let orders = match context.reads.orders(caller, &filter, &page).await {
        Ok(orders) => orders,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    if orders.items.is_empty() {
        return context.say(chat, texts::orders_none(lang)).await;
    }
    let mut text = texts::orders_title(lang).to_owned();
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
    context
        .out
        .html(
            chat,
            &text,
            Some(InlineKeyboardMarkup::new(rows)),
            Pace::Reply,
        )
        .await?;
    Ok(())
}

pub async fn order(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    order_id: &str,
    lang: Lang,
) -> HandlerResult {
    let found = match context.reads.order(caller, order_id.trim(), None).await {
        Ok(found) => found,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let Some(order) = found else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    let timeline: Vec<String> = order
        .timeline
        .iter()
        .rev()
        .take(TIMELINE_LINES)
        .rev()
        .map(|line| {
            format!(
                "{} — {}",
                line.at.format("%d.%m %H:%M"),
                escape(&line.summary)
            )
        })
        .collect();
    let text = fill(
        texts::order_card(lang),
        &[
            ("title", escape(&order.order.title)),
            ("status", escape(status_name(&order.order.status, lang))),
            ("price", escape(order.order.price.as_deref().unwrap_or("—"))),
            ("paid", escape(&order.order.paid_amount)),
            ("timeline", timeline.join("\n")),
        ],
    );
    context.say(chat, &text).await
}

pub async fn balance(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let balance = match context.reads.balance(caller, None).await {
        Ok(balance) => balance,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let expiring: String = balance
        .expiring_soon
        .iter()
        .map(|lot| {
            fill(
                texts::expiring(lang),
                &[
                    ("amount", lot.remaining.to_string()),
                    ("date", lot.expires_at.format("%d.%m.%Y").to_string()),
                ],
            )
        })
        .collect();
    let text = fill(
        texts::balance(lang),
        &[
            ("balance", balance.balance.to_string()),
            ("granted", balance.granted.to_string()),
            ("spent", balance.spent.to_string()),
            ("expiring", expiring),
        ],
    );
    context.say(chat, &text).await
}

pub async fn referral(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    lang: Lang,
) -> HandlerResult {
    let referrals = match context.reads.referrals(caller, None).await {
        Ok(referrals) => referrals,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let text = match &context.settings.username {
        Some(username) => fill(
            texts::referral(lang),
            &[
                (
                    "link",
                    escape(&format!(
                        "https://t.me/{username}?start=ref_{}",
                        referrals.code
                    )),
                ),
                ("count", referrals.referrals.len().to_string()),
                ("earned", referrals.earned_credits.to_string()),
            ],
        ),
        None => fill(
            texts::referral_code_only(lang),
            &[("code", escape(&referrals.code))],
        ),
    };
    context.say(chat, &text).await
}
