//! Applying to become an executor from the bot (`/apply`: a few words about
//! oneself) and admins deciding (`/applications`: approve or decline each). An
//! approval's new role reaches the applicant as the role-change notice; a decline is
//! told here.

use domain::permissions::Caller;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::{BotContext, HandlerResult, now};
use crate::dialogue::{self, Step};
use crate::html::escape;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

pub async fn begin(context: &BotContext, chat: i64, lang: Lang) -> HandlerResult {
    dialogue::enter(context.pool(), chat, &Step::Application).await?;
    context.say(chat, texts::apply_ask(lang)).await
}

/// The form's text.
pub async fn submit(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    about: &str,
    lang: Lang,
) -> HandlerResult {
    dialogue::leave(context.pool(), chat).await?;
    match context.core.apply_as_executor(caller, about, now()).await {
        Ok(_) => context.say(chat, texts::apply_sent(lang)).await,
        Err(error) => context.refused(chat, lang, error).await,
    }
}

/// `/applications`: one message per pending application, with its buttons.
pub async fn pending(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let applications = match context.reads.pending_applications(caller).await {
        Ok(applications) => applications,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    if applications.is_empty() {
        return context.say(chat, texts::applications_none(lang)).await;
    }
    for application in applications {
        let username = application
            .username
            .as_ref()
            .map(|name| format!(" @{}", escape(name)))
            .unwrap_or_default();
        let text = fill(
            texts::application_card(lang),
            &[
                ("name", escape(&application.first_name)),
                ("username", username),
                ("about", escape(&application.about)),
                (
                    "since",
                    application.created_at.format("%d.%m.%Y").to_string(),
                ),
            ],
        );
        let id = application.application_id;
        let keyboard = InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback(texts::application_approve(lang), format!("ap:y:{id}")),
            InlineKeyboardButton::callback(texts::application_decline(lang), format!("ap:n:{id}")),
        ]]);
        context
            .out
            .html(chat, &text, Some(keyboard), Pace::Reply)
            .await?;
    }
    Ok(())
}

/// `ap:y:<id>` or `ap:n:<id>`.
pub async fn decide(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some((choice, id)) = crate::callback::choice_and_id(what) else {
        return Ok(());
    };
    let approve = choice == "y";
    let decided = match context
        .core
        .decide_application(caller, id, approve, now())
        .await
    {
        Ok(decided) => decided,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    if !decided.approved
        && let Some(applicant) = context.core.telegram_of_user(decided.user_id).await?
    {
        let me = context.reads.me(decided.user_id, None).await?;
        let their = Lang::of(me.and_then(|me| me.language).as_deref());
        if let Err(error) = context
            .out
            .html(
                applicant,
                texts::application_declined(their),
                None,
                Pace::Bulk,
            )
            .await
        {
            tracing::info!(%error, "a declined applicant could not be told");
        }
    }
    let done = if approve {
        texts::application_approved_done(lang)
    } else {
        texts::application_declined_done(lang)
    };
    context.say(chat, done).await
}
