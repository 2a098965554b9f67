//! `/start`: the consent step before registration, then the deep link's payload
//! (`ref_<code>` at registration, `login_<code>`, `order_<id>`, `ticket_<id>`) or the
//! main menu.

use domain::use_cases::consent::{Arrival, Terms};
use domain::use_cases::login_codes::START_PREFIX;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, User};

use super::{BotContext, HandlerResult, Who, login, menu, now, orders, profile_of, support, who};
use crate::html::escape;
use crate::texts::{self, Lang, fill};

/// Callback data holds at most 64 bytes; a longer payload is dropped from it.
const CALLBACK_LIMIT: usize = 64;

pub async fn start(
    context: &BotContext,
    user: &User,
    chat: i64,
    payload: &str,
    lang: Lang,
) -> HandlerResult {
    if let Some(code) = payload.strip_prefix(START_PREFIX) {
        return login::ask(context, user, chat, code, lang).await;
    }
    if let Who::Blocked = who(context, user.id.0 as i64).await? {
        return context.say(chat, texts::blocked(lang)).await;
    }
    arrive(context, user, chat, None, payload, false, lang).await
}

/// The consent button was pressed.
pub async fn accept(
    context: &BotContext,
    user: &User,
    chat: i64,
    message: MessageId,
    payload: &str,
    lang: Lang,
) -> HandlerResult {
    arrive(context, user, chat, Some(message), payload, true, lang).await
}

async fn arrive(
    context: &BotContext,
    user: &User,
    chat: i64,
    consent_message: Option<MessageId>,
    payload: &str,
    accepted: bool,
    lang: Lang,
) -> HandlerResult {
    let terms = Terms {
        version: &context.settings.terms_version,
        accepted,
    };
    let referral = payload.starts_with("ref_").then_some(payload);
    let arrival = context
        .core
        .arrive_by_bot(&profile_of(user), referral, terms, now())
        .await;
    match arrival {
        Ok(Arrival::NeedsConsent) => ask_consent(context, chat, payload, lang).await,
        Ok(Arrival::Welcomed(signed_in)) => {
            if let Some(message) = consent_message {
                let welcome = fill(texts::welcome(lang), &[("name", escape(&user.first_name))]);
                context.out.edit_html(chat, message, &welcome, None).await?;
            }
            let caller = signed_in.caller();
            if let Some(order) = payload.strip_prefix("order_") {
                return orders::card(context, caller, chat, order, lang).await;
            }
            if let Some(ticket) = payload.strip_prefix("ticket_") {
                return support::open_existing(context, caller, chat, ticket, lang).await;
            }
            menu::main(context, caller, chat, &user.first_name, lang).await
        }
        Err(error) => context.refused(chat, lang, error).await,
    }
}

async fn ask_consent(context: &BotContext, chat: i64, payload: &str, lang: Lang) -> HandlerResult {
    let link = match &context.settings.terms_url {
        Some(url) => fill(texts::terms_link(lang), &[("url", escape(url))]),
        None => String::new(),
    };
    let text = fill(
        texts::consent(lang),
        &[
            ("version", escape(&context.settings.terms_version)),
            ("link", link),
        ],
    );
    let mut data = format!("consent:{payload}");
    if data.len() > CALLBACK_LIMIT {
        data = "consent:".to_owned();
    }
    let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        texts::consent_button(lang),
        data,
    )]]);
    context.say_with(chat, &text, keyboard).await
}
