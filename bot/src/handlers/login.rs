//! Staff desktop sign-in: `/start login_<code>` shows who asks (the device, escaped)
//! with Confirm and "Not me"; the core decides who may confirm.

use domain::use_cases::login_codes::LoginCodeError;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, User};

use super::{BotContext, HandlerResult, now};
use crate::html::escape;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

pub async fn ask(
    context: &BotContext,
    user: &User,
    chat: i64,
    code: &str,
    lang: Lang,
) -> HandlerResult {
    match context
        .core
        .login_code_request(code, user.id.0 as i64, now())
        .await
    {
        Ok(requested_from) => {
            let text = fill(
                texts::login_request(lang),
                &[("from", escape(&requested_from))],
            );
            let keyboard = InlineKeyboardMarkup::new([[
                InlineKeyboardButton::callback(
                    texts::login_confirm(lang),
                    format!("login:ok:{code}"),
                ),
                InlineKeyboardButton::callback(
                    texts::login_decline(lang),
                    format!("login:no:{code}"),
                ),
            ]]);
            context.say_with(chat, &text, keyboard).await
        }
        Err(error) => refused(context, chat, None, error, lang).await,
    }
}

pub async fn confirm(
    context: &BotContext,
    user: &User,
    chat: i64,
    message: MessageId,
    code: &str,
    lang: Lang,
) -> HandlerResult {
    match context
        .core
        .confirm_login_code(code, user.id.0 as i64, now())
        .await
    {
        Ok(confirmed) => {
            let text = fill(
                texts::login_confirmed(lang),
                &[("from", escape(&confirmed.requested_from))],
            );
            context.out.edit_html(chat, message, &text, None).await?;
            Ok(())
        }
        Err(error) => refused(context, chat, Some(message), error, lang).await,
    }
}

pub async fn decline(
    context: &BotContext,
    chat: i64,
    message: MessageId,
    code: &str,
    lang: Lang,
) -> HandlerResult {
    match context.core.decline_login_code(code, now()).await {
        Ok(declined) => {
            // Too late: it was confirmed (or ran out) before "not me" was pressed.
            let text = if declined {
                texts::login_declined(lang)
            } else {
                texts::login_decline_late(lang)
            };
            context.out.edit_html(chat, message, text, None).await?;
            Ok(())
        }
        Err(error) => refused(context, chat, Some(message), error, lang).await,
    }
}

async fn refused(
    context: &BotContext,
    chat: i64,
    message: Option<MessageId>,
    error: LoginCodeError,
    lang: Lang,
) -> HandlerResult {
    let reason = match &error {
        LoginCodeError::Unavailable(_) => return Err(error.into()),
        LoginCodeError::Unknown => lang.pick(
            "ссылка неизвестна; откройте новую с компьютера",
            "this login link is unknown; open the newest one from your computer",
        ),
        LoginCodeError::Expired => lang.pick(
            "ссылка устарела; запросите новую на компьютере",
            "this login link expired; ask your computer for a new one",
        ),
        LoginCodeError::Used => lang.pick(
            "код уже использован; запросите новый",
            "this login code was used; ask for a new one",
        ),
        LoginCodeError::AlreadyConfirmed => {
            lang.pick("вход уже подтверждён", "this sign-in was already confirmed")
        }
        LoginCodeError::NotRegistered => lang.pick(
            "сначала нажмите /start, чтобы мы вас узнали",
            "press /start first so we know you",
        ),
        LoginCodeError::NotStaff => lang.pick(
            "вход с компьютера — только для сотрудников",
            "desktop sign-in is for staff only",
        ),
        LoginCodeError::Blocked => lang.pick("аккаунт заблокирован", "this account is blocked"),
    };
    let text = fill(texts::login_refused(lang), &[("reason", escape(reason))]);
    match message {
        Some(message) => context.out.edit_html(chat, message, &text, None).await?,
        None => {
            context.out.html(chat, &text, None, Pace::Reply).await?;
        }
    }
    Ok(())
}
