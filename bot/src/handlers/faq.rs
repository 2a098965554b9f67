//! The FAQ in the bot: `/faq` → a category → its questions → the answer. Admins add
//! or change one with `/faq_add Category | Question | Answer` and delete one from its
//! answer. The content is the API's `/api/v1/faq`.

use domain::permissions::{Action, Caller};
use domain::use_cases::faq::FaqEntry;
use projections::read_models::faq::FaqItem;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::{BotContext, HandlerResult, now};
use crate::html::escape;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

/// `/faq`: the categories (each button names its first entry, the data stays short).
pub async fn categories(context: &BotContext, chat: i64, lang: Lang) -> HandlerResult {
    let items = context.reads.faq().await?;
    if items.is_empty() {
        return context.say(chat, texts::faq_empty(lang)).await;
    }
    let mut rows: Vec<Vec<InlineKeyboardButton>> = Vec::new();
    let mut last: Option<&str> = None;
    for item in &items {
        if last != Some(item.category.as_str()) {
            last = Some(item.category.as_str());
            rows.push(vec![InlineKeyboardButton::callback(
                item.category.clone(),
                format!("faq:c:{}", item.entry_id),
            )]);
        }
    }
    context
        .say_with(
            chat,
            texts::faq_categories(lang),
            InlineKeyboardMarkup::new(rows),
        )
        .await
}

/// `faq:c:<entry>`, `faq:q:<entry>`, `faq:d:<entry>`.
pub async fn button(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some((kind, entry_id)) = crate::callback::choice_and_id(what) else {
        return Ok(());
    };
    if kind == "d" {
        return match context.core.delete_faq_entry(caller, entry_id).await {
            Ok(true) => context.say(chat, texts::faq_deleted(lang)).await,
            Ok(false) => context.say(chat, texts::not_found(lang)).await,
            Err(error) => context.refused(chat, lang, error).await,
        };
    }
    let Some(entry) = context.reads.faq_entry(entry_id).await? else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    match kind {
        "c" => questions(context, chat, &entry.category, lang).await,
        "q" => answer(context, caller, chat, &entry, lang).await,
        _ => Ok(()),
    }
}

async fn questions(context: &BotContext, chat: i64, category: &str, lang: Lang) -> HandlerResult {
    let rows: Vec<Vec<InlineKeyboardButton>> = context
        .reads
        .faq()
        .await?
        .into_iter()
        .filter(|item| item.category == category)
        .map(|item| {
            vec![InlineKeyboardButton::callback(
                item.question.chars().take(60).collect::<String>(),
                format!("faq:q:{}", item.entry_id),
            )]
        })
        .collect();
    let title = fill(
        texts::faq_questions(lang),
        &[("category", escape(category))],
    );
    context
        .say_with(chat, &title, InlineKeyboardMarkup::new(rows))
        .await
}

async fn answer(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    entry: &FaqItem,
    lang: Lang,
) -> HandlerResult {
    let text = fill(
        texts::faq_answer(lang),
        &[
            ("question", escape(&entry.question)),
            ("answer", escape(&entry.answer)),
        ],
    );
    let keyboard = caller.may(Action::ManageFaq).then(|| {
        InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
            texts::faq_delete(lang),
            format!("faq:d:{}", entry.entry_id),
        )]])
    });
    context.out.html(chat, &text, keyboard, Pace::Reply).await?;
    Ok(())
}

/// `/faq_add Category | Question | Answer`.
pub async fn add(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    argument: &str,
    lang: Lang,
) -> HandlerResult {
    let parts: Vec<&str> = argument.splitn(3, '|').map(str::trim).collect();
    let [category, question, answer] = parts[..] else {
        return context.say(chat, texts::faq_add_how(lang)).await;
    };
    let entry = FaqEntry {
        category: category.to_owned(),
        question: question.to_owned(),
        answer: answer.to_owned(),
    };
    match context.core.put_faq_entry(caller, None, entry, now()).await {
        Ok(_) => context.say(chat, texts::faq_saved(lang)).await,
        Err(error) => context.refused(chat, lang, error).await,
    }
}
