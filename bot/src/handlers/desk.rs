//! The support desk in the bot's private chat: `/queue` (most urgent first), a
//! ticket's card with its latest messages and the desk's buttons (take it, change
//! its status or priority), and then, as in a topic, every text is the reply and
//! `/note …` an internal note. Who may do what the core decides.

use domain::permissions::Caller;
use domain::ticket::{Priority, TicketStatus};
use domain::use_cases::tickets::TicketChange;
use projections::read_models::tickets::TicketWithMessages;
use projections::read_models::users::assignees::Work;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::{BotContext, HandlerResult, now};
use crate::dialogue::{self, Step};
use crate::html::escape;
use crate::notices::status_name;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

const QUEUE_LENGTH: i64 = 20;
const CARD_MESSAGES: usize = 5;
/// Statuses and priorities as the buttons spell them (callback data is short).
const STATUSES: [(&str, TicketStatus); 4] = [
    ("p", TicketStatus::InProgress),
    ("w", TicketStatus::WaitingForCustomer),
    ("r", TicketStatus::Resolved),
    ("c", TicketStatus::Closed),
];
const PRIORITIES: [(&str, Priority); 4] = [
    ("l", Priority::Low),
    ("n", Priority::Normal),
    ("h", Priority::High),
    ("c", Priority::Critical),
];

pub async fn queue(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let tickets = match context.reads.ticket_queue(caller, QUEUE_LENGTH).await {
        Ok(tickets) => tickets,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    if tickets.is_empty() {
        return context.say(chat, texts::queue_empty(lang)).await;
    }
    let mut text = texts::queue_title(lang).to_owned();
    let mut rows = Vec::new();
    for ticket in &tickets {
        text.push_str(&fill(
            texts::queue_line(lang),
            &[
                ("priority", priority_mark(&ticket.priority).to_owned()),
                ("title", escape(&ticket.title)),
                ("status", escape(status_name(&ticket.status, lang))),
                ("since", ticket.opened_at.format("%d.%m %H:%M").to_string()),
            ],
        ));
        let label: String = ticket.title.chars().take(40).collect();
        rows.push(vec![InlineKeyboardButton::callback(
            format!("{} {label}", priority_mark(&ticket.priority)),
            format!("ticket:{}", ticket.ticket_id),
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

/// A ticket's card for the desk; the chat then writes into the ticket.
pub async fn card(
    context: &BotContext,
    chat: i64,
    ticket: &TicketWithMessages,
    lang: Lang,
) -> HandlerResult {
    let view = &ticket.ticket;
    let Ok(ticket_id) = view.ticket_id.parse::<Uuid>() else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    dialogue::enter(context.pool(), chat, &Step::InTicket { ticket_id }).await?;
    let shown: Vec<_> = ticket
        .messages
        .iter()
        .filter(|message| message.deleted_at.is_none())
        .collect();
    let messages: Vec<String> = shown[shown.len().saturating_sub(CARD_MESSAGES)..]
        .iter()
        .map(|message| {
            let who = match (message.internal, message.by_staff) {
                (true, _) => texts::desk_note_mark(lang),
                (false, true) => texts::desk_staff_mark(lang),
                (false, false) => texts::desk_customer_mark(lang),
            };
            format!("{who} {}", escape(&message.text))
        })
        .collect();
    let text = fill(
        texts::desk_card(lang),
        &[
            ("priority", priority_mark(&view.priority).to_owned()),
            ("title", escape(&view.title)),
            ("category", escape(&view.category)),
            ("status", escape(status_name(&view.status, lang))),
            ("messages", messages.join("\n")),
        ],
    );
    let id = &view.ticket_id;
    let button = |label: &str, data: String| InlineKeyboardButton::callback(label, data);
    let keyboard = InlineKeyboardMarkup::new([
        vec![
            button(texts::desk_take(lang), format!("tk:{id}:t")),
            crate::callback::assign_button(Work::Tickets, ticket_id, lang),
        ],
        STATUSES
            .iter()
            .map(|(code, status)| {
                let name = domain::wire::wire_name(status);
                button(status_name(&name, lang), format!("tk:{id}:s:{code}"))
            })
            .collect(),
        PRIORITIES
            .iter()
            .map(|(code, priority)| {
                let name = domain::wire::wire_name(priority);
                button(priority_mark(&name), format!("tk:{id}:p:{code}"))
            })
            .collect(),
    ]);
    context.say_with(chat, &text, keyboard).await
}

/// `tk:<ticket>:t` (take it), `tk:<ticket>:s:<status>`, `tk:<ticket>:p:<priority>`.
pub async fn act(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let mut parts = what.split(':');
    let (Some(Ok(ticket_id)), Some(kind)) = (parts.next().map(str::parse::<Uuid>), parts.next())
    else {
        return Ok(());
    };
    let code = parts.next().unwrap_or_default();
    let change = match kind {
        "t" => TicketChange::Assign {
            assignee_id: caller.user_id,
        },
        "s" => match STATUSES.iter().find(|(short, _)| *short == code) {
            Some((_, status)) => TicketChange::Status(*status),
            None => return Ok(()),
        },
        "p" => match PRIORITIES.iter().find(|(short, _)| *short == code) {
            Some((_, priority)) => TicketChange::Priority(*priority),
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    let written = match context
        .core
        .change_ticket(caller, ticket_id, change, now())
        .await
    {
        Ok(written) => written,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let id = ticket_id.to_string();
    match context.reads.ticket(caller, &id, Some(&written)).await? {
        Some(ticket) => card(context, chat, &ticket, lang).await,
        None => Ok(()),
    }
}

/// A priority as a mark (tickets store it as `CRITICAL`, `HIGH`, …).
fn priority_mark(priority: &str) -> &'static str {
    match priority.to_ascii_uppercase().as_str() {
        "CRITICAL" => "🔴",
        "HIGH" => "🟠",
        "NORMAL" => "🟢",
        _ => "⚪",
    }
}
