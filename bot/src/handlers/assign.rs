//! Giving an order to an executor or a ticket to a member of the desk: the
//! "assign" button lists who may take it (least busy first), and a press on a name
//! gives it to them. `asg:o:<order>` / `asg:t:<ticket>` ask, and
//! `asg:o:<order>:<user>` / `asg:t:<ticket>:<user>` give; the ids are written
//! short (base64 of the UUID's bytes) so both fit Telegram's 64 bytes of button data.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::permissions::Caller;
use domain::use_cases::order_actions::OrderAction;
use domain::use_cases::tickets::TicketChange;
use projections::read_models::users::assignees::Work;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::{BotContext, HandlerResult, desk, now};
use crate::html::escape;
use crate::texts::{self, Lang, fill};

/// The button that asks who takes `work` `id`.
pub fn button(work: Work, id: Uuid, lang: Lang) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(
        texts::act_assign(lang),
        format!("asg:{}:{}", letter(work), short(id)),
    )
}

/// `asg:<o|t>:<id>[:<user>]`.
pub async fn act(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let mut parts = what.split(':');
    let work = match parts.next() {
        Some("o") => Work::Orders,
        Some("t") => Work::Tickets,
        _ => return Ok(()),
    };
    let Some(id) = parts.next().and_then(from_short) else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    match parts.next().map(from_short) {
        None => ask(context, caller, chat, work, id, lang).await,
        Some(Some(assignee)) => give(context, caller, chat, work, id, assignee, lang).await,
        Some(None) => context.say(chat, texts::not_found(lang)).await,
    }
}

async fn ask(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    work: Work,
    id: Uuid,
    lang: Lang,
) -> HandlerResult {
    let people = match context.reads.assignees(caller, work).await {
        Ok(people) => people,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let rows: Vec<Vec<InlineKeyboardButton>> = people
        .iter()
        .filter_map(|person| {
            let user = person.user_id.parse::<Uuid>().ok()?;
            let handle = person
                .username
                .as_deref()
                .map(|name| format!(" @{name}"))
                .unwrap_or_default();
            let label = format!("{}{handle} ({})", person.first_name, person.active);
            let data = format!("asg:{}:{}:{}", letter(work), short(id), short(user));
            Some(vec![InlineKeyboardButton::callback(label, data)])
        })
        .collect();
    if rows.is_empty() {
        return context.say(chat, texts::assign_nobody(lang)).await;
    }
    context
        .say_with(
            chat,
            texts::assign_ask(lang),
            InlineKeyboardMarkup::new(rows),
        )
        .await
}

async fn give(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    work: Work,
    id: Uuid,
    assignee: Uuid,
    lang: Lang,
) -> HandlerResult {
    let given = match work {
        Work::Orders => {
            let action = OrderAction::Assign {
                executor_id: assignee,
            };
            context.core.act_on_order(caller, id, action, now()).await
        }
        Work::Tickets => {
            let change = TicketChange::Assign {
                assignee_id: assignee,
            };
            context.core.change_ticket(caller, id, change, now()).await
        }
    };
    let written = match given {
        Ok(written) => written,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let id = id.to_string();
    let ticket = match work {
        // Waits until the order's read model shows the executor.
        Work::Orders => {
            context.reads.order(caller, &id, Some(&written)).await?;
            None
        }
        Work::Tickets => context.reads.ticket(caller, &id, Some(&written)).await?,
    };
    let name = match context.reads.me(assignee, None).await? {
        Some(me) => escape(&me.first_name),
        None => assignee.to_string(),
    };
    context
        .say(chat, &fill(texts::assign_done(lang), &[("name", name)]))
        .await?;
    match ticket {
        Some(ticket) => desk::card(context, chat, &ticket, lang).await,
        None => Ok(()),
    }
}

fn letter(work: Work) -> &'static str {
    match work {
        Work::Orders => "o",
        Work::Tickets => "t",
    }
}

/// A UUID in 22 characters.
fn short(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn from_short(text: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    Uuid::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_the_button_data_and_read_back() {
        let (order, user) = (Uuid::now_v7(), Uuid::now_v7());
        let data = format!("asg:o:{}:{}", short(order), short(user));
        assert!(data.len() <= 64, "{} bytes", data.len());
        assert_eq!(from_short(&short(order)), Some(order));
        assert_eq!(from_short("not base64!"), None);
        assert_eq!(from_short("AAAA"), None);
    }
}
