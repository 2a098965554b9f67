//! Messages in the staff group's ticket topics: what a staff member writes in a
//! ticket's topic is the ticket's reply and reaches the customer; `/note …` is an
//! internal note the customer never sees. Everything else in the group is not the
//! bot's business and is left alone.

use teloxide::types::{Message, ThreadId};

use super::{BotContext, HandlerResult, Who, command_of, now, who};
use crate::html::escape;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

pub async fn message(context: BotContext, message: Message) -> HandlerResult {
    let chat = message.chat.id.0;
    if context.settings.staff_chat_id != Some(chat) {
        return Ok(());
    }
    let (Some(thread), Some(user)) = (message.thread_id, message.from.as_ref()) else {
        return Ok(());
    };
    let text = message.text().or(message.caption()).unwrap_or_default();
    if user.is_bot || text.trim().is_empty() {
        return Ok(());
    }
    let Some(ticket_id) = context.topics.ticket_of(chat, thread).await? else {
        return Ok(());
    };
    let lang = Lang::of(user.language_code.as_deref());
    let caller = match who(&context, user.id.0 as i64).await? {
        Who::Active(caller) if caller.role.is_staff() => caller,
        _ => return say(&context, chat, thread, texts::topic_not_staff(lang)).await,
    };
    let (internal, body) = match command_of(text, &context.username) {
        Some(("note", note)) => (true, note),
        Some(_) => return Ok(()),
        None => (false, text),
    };
    if body.trim().is_empty() {
        return say(&context, chat, thread, texts::note_empty(lang)).await;
    }
    let posted = context
        .core
        .post_ticket_message(caller, ticket_id, body.to_owned(), internal, now())
        .await;
    let answer = match posted {
        Ok(_) if internal => texts::topic_note_kept(lang).to_owned(),
        Ok(_) => texts::topic_reply_sent(lang).to_owned(),
        Err(error) => match error.kind {
            domain::command::ErrorKind::Internal | domain::command::ErrorKind::Unavailable => {
                return Err(error.into());
            }
            _ => fill(texts::refused(lang), &[("reason", escape(&error.message))]),
        },
    };
    say(&context, chat, thread, &answer).await
}

async fn say(context: &BotContext, chat: i64, thread: ThreadId, html: &str) -> HandlerResult {
    context
        .out
        .html_in(chat, Some(thread), html, None, Pace::Reply)
        .await?;
    Ok(())
}
