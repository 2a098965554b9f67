//! The main menu, help, and the customer's referral link.

use domain::permissions::{Action, Caller};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo};

use super::{BotContext, HandlerResult};
use crate::html::escape;
use crate::texts::{self, Lang, fill};

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
    let mut rows = vec![
        vec![
            button(texts::button_new_order(lang), "menu:new_order"),
            button(texts::button_orders(lang), "menu:orders"),
        ],
        vec![
            button(texts::button_book(lang), "menu:book"),
            button(texts::button_balance(lang), "menu:balance"),
        ],
        vec![
            button(texts::button_referral(lang), "menu:referral"),
            button(texts::button_support(lang), "menu:support"),
        ],
        vec![
            button(texts::button_faq(lang), "menu:faq"),
            button(texts::button_help(lang), "menu:help"),
        ],
    ];
    let mut staff_row = Vec::new();
    if caller.may(Action::TakeOrderFromPool) {
        staff_row.push(button(texts::button_work(lang), "menu:pool"));
    }
    if caller.may(Action::ViewAllTickets) {
        staff_row.push(button(texts::button_queue(lang), "menu:queue"));
    }
    if caller.may(Action::ViewUsers) {
        staff_row.push(button(texts::button_admin(lang), "menu:admin"));
    }
    if !staff_row.is_empty() {
        rows.insert(1, staff_row);
    }
    if let Some(url) = context.settings.app_url.clone() {
        rows.insert(
            0,
            vec![InlineKeyboardButton::web_app(
                texts::button_app(lang),
                WebAppInfo { url },
            )],
        );
    }
    let keyboard = InlineKeyboardMarkup::new(rows);
    context.say_with(chat, &text, keyboard).await
}

pub async fn help(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let mut text = texts::help(lang).to_owned();
    if caller.role.is_staff() {
        text.push_str(texts::staff_help(lang));
    }
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
