//! Support from the customer's side: pick a category, write the question (the
//! ticket opens), then just keep writing — every message goes to the ticket, and
//! staff replies come back as notifications.

use domain::files::FilePurpose;
use domain::permissions::{Action, Caller};
use domain::use_cases::tickets::{NewTicket, TicketChange};
use projections::read_models::paging::Page;
use projections::read_models::tickets::TicketFilter;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::telegram_files::{self, Incoming};
use super::{BotContext, HandlerResult, desk, now};
use crate::dialogue::{self, Step};
use crate::html::escape;
use crate::notices::status_name;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

/// The category of tickets when the business has set none up.
const GENERAL: &str = "general";
const TITLE_LENGTH: usize = 80;

pub async fn begin(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let categories = match context.reads.ticket_categories(caller, false).await {
        Ok(categories) => categories.items,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let offered: Vec<_> = categories
        .into_iter()
        .filter(|category| category.active)
        .collect();
    if offered.is_empty() {
        return pick(context, chat, GENERAL, lang).await;
    }
    let rows: Vec<Vec<InlineKeyboardButton>> = offered
        .iter()
        .map(|category| {
            let label = match &category.icon {
                Some(icon) => format!("{icon} {}", category.name),
                None => category.name.clone(),
            };
            vec![InlineKeyboardButton::callback(
                label,
                format!("support:{}", category.code),
            )]
        })
        .collect();
    context
        .out
        .html(
            chat,
            texts::support_pick_category(lang),
            Some(InlineKeyboardMarkup::new(rows)),
            Pace::Reply,
        )
        .await?;
    Ok(())
}

pub async fn pick(context: &BotContext, chat: i64, category: &str, lang: Lang) -> HandlerResult {
    let step = Step::TicketQuestion {
        category: category.to_owned(),
    };
    dialogue::enter(context.pool(), chat, &step).await?;
    context.say(chat, texts::support_ask(lang)).await
}

pub async fn question(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    category: &str,
    text: &str,
    lang: Lang,
) -> HandlerResult {
    let first_line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or(text);
    let mut title: String = first_line.trim().chars().take(TITLE_LENGTH).collect();
    if first_line.trim().chars().count() > TITLE_LENGTH {
        title.push('…');
    }
    let ticket = NewTicket {
        category: category.to_owned(),
        title: title.clone(),
        description: text.to_owned(),
        priority: None,
    };
    let written = match context.core.open_ticket(caller, ticket, now()).await {
        Ok(written) => written,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    if let Ok(ticket_id) = written.aggregate_id.parse::<Uuid>() {
        dialogue::enter(context.pool(), chat, &Step::InTicket { ticket_id }).await?;
    }
    let reply = fill(texts::ticket_opened(lang), &[("title", escape(&title))]);
    context.say(chat, &reply).await
}

pub async fn follow_up(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    ticket_id: Uuid,
    text: &str,
    lang: Lang,
) -> HandlerResult {
    let posted = context
        .core
        .post_ticket_message(caller, ticket_id, text.to_owned(), false, now())
        .await;
    said_in_ticket(context, caller, chat, posted, lang).await
}

/// A document or photo sent while in a ticket: kept for tickets and posted as a
/// message with it (its caption, or the file's name, as the text).
pub async fn follow_up_with_file(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    ticket_id: Uuid,
    caption: &str,
    file: &Incoming,
    lang: Lang,
) -> HandlerResult {
    let kept = match telegram_files::keep(context, caller, file, FilePurpose::Ticket).await {
        Ok(kept) => kept,
        Err(error) => return telegram_files::refused(context, chat, lang, error).await,
    };
    let text = match caption.trim() {
        "" => format!("📎 {}", kept.name.as_deref().unwrap_or("file")),
        caption => caption.to_owned(),
    };
    let posted = context
        .core
        .post_ticket_message_with_files(caller, ticket_id, text, false, &[kept.file_id], now())
        .await;
    said_in_ticket(context, caller, chat, posted, lang).await
}

async fn said_in_ticket(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    posted: Result<domain::use_cases::Written, domain::command::CommandError>,
    lang: Lang,
) -> HandlerResult {
    match posted {
        Ok(_) if caller.may(Action::ViewAllTickets) => {
            context.say(chat, texts::topic_reply_sent(lang)).await
        }
        Ok(_) => context.say(chat, texts::ticket_message_sent(lang)).await,
        Err(error) => {
            dialogue::leave(context.pool(), chat).await?;
            context.refused(chat, lang, error).await
        }
    }
}

/// `/note …` while in a ticket: an internal note (staff only; the core refuses
/// others).
pub async fn note(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    text: &str,
    lang: Lang,
) -> HandlerResult {
    let Some(Step::InTicket { ticket_id }) = dialogue::current(context.pool(), chat).await? else {
        return context.say(chat, texts::note_outside_ticket(lang)).await;
    };
    if text.trim().is_empty() {
        return context.say(chat, texts::note_empty(lang)).await;
    }
    match context
        .core
        .post_ticket_message(caller, ticket_id, text.to_owned(), true, now())
        .await
    {
        Ok(_) => context.say(chat, texts::topic_note_kept(lang)).await,
        Err(error) => context.refused(chat, lang, error).await,
    }
}

/// A ticket link (`ticket_<id>`): show it and keep writing into it.
pub async fn open_existing(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    ticket_id: &str,
    lang: Lang,
) -> HandlerResult {
    let found = match context.reads.ticket(caller, ticket_id, None).await {
        Ok(found) => found,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let (Some(ticket), Ok(id)) = (found, ticket_id.parse::<Uuid>()) else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    if ticket.ticket.customer_id != caller.user_id && caller.may(Action::ViewAllTickets) {
        return desk::card(context, chat, &ticket, lang).await;
    }
    dialogue::enter(context.pool(), chat, &Step::InTicket { ticket_id: id }).await?;
    say_status(context, chat, &ticket.ticket, lang).await
}

/// `tr:<ticket>:<stars>`: the customer rates a resolved ticket.
pub async fn rate(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some((ticket, stars)) = what.split_once(':') else {
        return Ok(());
    };
    let (Ok(ticket_id), Ok(stars)) = (ticket.parse::<Uuid>(), stars.parse::<u8>()) else {
        return Ok(());
    };
    let change = TicketChange::Rate {
        stars,
        comment: None,
    };
    match context
        .core
        .change_ticket(caller, ticket_id, change, now())
        .await
    {
        Ok(_) => context.say(chat, texts::review_thanks(lang)).await,
        Err(error) => context.refused(chat, lang, error).await,
    }
}

pub async fn status(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    if let Some(Step::InTicket { ticket_id }) = dialogue::current(context.pool(), chat).await? {
        let id = ticket_id.to_string();
        if let Some(ticket) = context.reads.ticket(caller, &id, None).await? {
            return say_status(context, chat, &ticket.ticket, lang).await;
        }
    }
    let page = Page::new(Some(1), None)?;
    let latest = context
        .reads
        .tickets(caller, &TicketFilter::default(), &page)
        .await?;
    match latest.items.first() {
        Some(ticket) => say_status(context, chat, ticket, lang).await,
        None => context.say(chat, texts::ticket_none(lang)).await,
    }
}

async fn say_status(
    context: &BotContext,
    chat: i64,
    ticket: &projections::read_models::tickets::TicketView,
    lang: Lang,
) -> HandlerResult {
    let text = fill(
        texts::ticket_status(lang),
        &[
            ("title", escape(&ticket.title)),
            ("status", escape(status_name(&ticket.status, lang))),
            ("messages", ticket.message_count.to_string()),
        ],
    );
    let keyboard = (ticket.status == "resolved" && ticket.rating.is_none()).then(|| {
        let stars: Vec<InlineKeyboardButton> = (1..=5)
            .map(|stars| {
                InlineKeyboardButton::callback(
                    "⭐".repeat(stars),
                    format!("tr:{}:{stars}", ticket.ticket_id),
                )
            })
            .collect();
        InlineKeyboardMarkup::new([stars])
    });
    context.out.html(chat, &text, keyboard, Pace::Reply).await?;
    Ok(())
}
