//! The customer's credits: the balance with what lapses soon, the statement, and
//! the way to the catalogue (`paying.rs`).

use domain::permissions::Caller;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::{BotContext, HandlerResult};
use crate::html::escape;
use crate::texts::{self, Lang, fill};

const STATEMENT_LINES: i64 = 15;

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
    let keyboard = InlineKeyboardMarkup::new([vec![
        InlineKeyboardButton::callback(texts::button_statement(lang), "menu:statement"),
        InlineKeyboardButton::callback(texts::button_buy(lang), "menu:buy"),
    ]]);
    context.say_with(chat, &text, keyboard).await
}

/// The latest lines of the caller's statement, newest first.
pub async fn statement(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    lang: Lang,
) -> HandlerResult {
    let page = match context
        .reads
        .statement(caller, Some(STATEMENT_LINES), None)
        .await
    {
        Ok(page) => page,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    if page.items.is_empty() {
        return context.say(chat, texts::statement_empty(lang)).await;
    }
    let mut text = texts::statement_title(lang).to_owned();
    for line in &page.items {
        let change = if line.change > 0 {
            format!("+{}", line.change)
        } else {
            line.change.to_string()
        };
        text.push_str(&fill(
            texts::statement_line(lang),
            &[
                ("date", line.recorded_at.format("%d.%m").to_string()),
                ("change", change),
                ("reason", escape(&line.reason)),
            ],
        ));
    }
    context.say(chat, &text).await
}
