//! `/broadcast`: choose the audience (everyone, a role, people active lately; or
//! `/broadcast tier=<name>` / `active=<days>`), send the text or a photo with a
//! caption, see it as recipients will, and confirm. The broadcaster sends it and
//! reports here when it is done.

use chrono::Utc;
use domain::permissions::{Action, Caller, Role};
use domain::use_cases::broadcasts::{Audience, BroadcastDraft};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::{BotContext, HandlerResult, now};
use crate::dialogue::{self, Step};
use crate::html::escape;
use crate::notices::role_name;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

const ROLES: [Role; 4] = [Role::Client, Role::Executor, Role::Support, Role::Admin];

pub async fn begin(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    argument: &str,
    lang: Lang,
) -> HandlerResult {
    if !caller.may(Action::SendBroadcast) {
        return context.say(chat, texts::admin_only(lang)).await;
    }
    let audience = match argument.trim().split_once('=') {
        Some(("tier", tier)) => Some(Audience::LoyaltyTier {
            tier: tier.trim().to_owned(),
        }),
        Some(("active", days)) => match days.trim().parse() {
            Ok(days) => Some(Audience::ActiveWithin { days }),
            Err(_) => return context.say(chat, texts::broadcast_how(lang)).await,
        },
        Some(_) => return context.say(chat, texts::broadcast_how(lang)).await,
        None if argument.trim().is_empty() => None,
        None => return context.say(chat, texts::broadcast_how(lang)).await,
    };
    if let Some(audience) = audience {
        return ask_text(context, chat, audience, lang).await;
    }
    let button = |label: String, data: String| vec![InlineKeyboardButton::callback(label, data)];
    let mut rows = vec![button(
        texts::audience_everyone(lang).to_owned(),
        "bc:aud:everyone".to_owned(),
    )];
    for role in ROLES {
        let name = domain::wire::wire_name(&role);
        let label = fill(
            texts::audience_role(lang),
            &[("role", role_name(&name, lang).to_owned())],
        );
        rows.push(button(label, format!("bc:aud:role:{name}")));
    }
    for days in [7, 30] {
        let label = fill(texts::audience_active(lang), &[("days", days.to_string())]);
        rows.push(button(label, format!("bc:aud:active:{days}")));
    }
    context
        .out
        .html(
            chat,
            texts::broadcast_pick(lang),
            Some(InlineKeyboardMarkup::new(rows)),
            Pace::Reply,
        )
        .await?;
    Ok(())
}

async fn ask_text(
    context: &BotContext,
    chat: i64,
    audience: Audience,
    lang: Lang,
) -> HandlerResult {
    dialogue::enter(context.pool(), chat, &Step::BroadcastText { audience }).await?;
    context.say(chat, texts::broadcast_ask(lang)).await
}

/// The text (or a photo with its caption) of the broadcast: kept as a draft and
/// shown as recipients will see it, with the audience's size and a confirmation.
pub async fn message(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    audience: Audience,
    text: &str,
    photo: Option<String>,
    lang: Lang,
) -> HandlerResult {
    let draft = BroadcastDraft {
        text: text.to_owned(),
        photo: photo.clone(),
        audience: audience.clone(),
        report_chat: Some(chat),
    };
    let broadcast_id = match context.core.plan_broadcast(caller, draft, now()).await {
        Ok(id) => id,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    dialogue::leave(context.pool(), chat).await?;
    let size = context
        .reads
        .audience_size(caller, &audience, Utc::now())
        .await?;
    let shown = escape(text);
    match &photo {
        Some(photo) => {
            context
                .out
                .photo(chat, photo, &shown, None, Pace::Reply)
                .await?
        }
        None => context.out.html(chat, &shown, None, Pace::Reply).await?,
    };
    let question = fill(
        texts::broadcast_confirm(lang),
        &[("count", size.to_string())],
    );
    let keyboard = InlineKeyboardMarkup::new([vec![
        InlineKeyboardButton::callback(
            texts::broadcast_send_button(lang),
            format!("bc:send:{broadcast_id}"),
        ),
        InlineKeyboardButton::callback(
            texts::brief_cancel_button(lang),
            format!("bc:drop:{broadcast_id}"),
        ),
    ]]);
    context.say_with(chat, &question, keyboard).await
}

/// `bc:aud:…`, `bc:send:<id>`, `bc:drop:<id>`.
pub async fn button(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    if !caller.may(Action::SendBroadcast) {
        return context.say(chat, texts::admin_only(lang)).await;
    }
    let (kind, rest) = what.split_once(':').unwrap_or((what, ""));
    match kind {
        "aud" => {
            let audience = match rest.split_once(':').unwrap_or((rest, "")) {
                ("everyone", _) => Audience::Everyone,
                ("role", role) => match Role::named(role) {
                    Some(role) => Audience::Role { role },
                    None => return Ok(()),
                },
                ("active", days) => match days.parse() {
                    Ok(days) => Audience::ActiveWithin { days },
                    Err(_) => return Ok(()),
                },
                _ => return Ok(()),
            };
            ask_text(context, chat, audience, lang).await
        }
        "send" | "drop" => {
            let Ok(broadcast_id) = rest.parse::<Uuid>() else {
                return Ok(());
            };
            let decided = if kind == "send" {
                context
                    .core
                    .confirm_broadcast(caller, broadcast_id, now())
                    .await
            } else {
                context
                    .core
                    .cancel_broadcast(caller, broadcast_id, now())
                    .await
            };
            match decided {
                Ok(true) if kind == "send" => {
                    context.say(chat, texts::broadcast_started(lang)).await
                }
                Ok(true) => context.say(chat, texts::cancelled(lang)).await,
                Ok(false) => context.say(chat, texts::broadcast_decided(lang)).await,
                Err(error) => context.refused(chat, lang, error).await,
            }
        }
        _ => Ok(()),
    }
}
