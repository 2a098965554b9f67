//! Giving an order to an executor or a ticket to a member of the desk: the
//! "assign" button (`crate::callback`) lists who may take it, least busy first, and
//! a press on a name gives it to them. Who may give what to whom the core decides.

use domain::permissions::Caller;
use domain::use_cases::order_actions::OrderAction;
use domain::use_cases::tickets::TicketChange;
use projections::read_models::users::assignees::Work;
use teloxide::types::InlineKeyboardMarkup;
use uuid::Uuid;

use super::{BotContext, HandlerResult, desk, now};
use crate::callback::{give_button, read_assign};
use crate::html::escape;
use crate::texts::{self, Lang, fill};

/// `asg:<o|t>:<id>[:<user>]`.
pub async fn act(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    match read_assign(what) {
        Some((work, id, None)) => ask(context, caller, chat, work, id, lang).await,
        Some((work, id, Some(assignee))) => {
            give(context, caller, chat, work, id, assignee, lang).await
        }
        None => context.say(chat, texts::not_found(lang)).await,
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
    let rows: Vec<_> = people
        .iter()
        .filter_map(|person| {
            let user = person.user_id.parse::<Uuid>().ok()?;
            let handle = person
                .username
                .as_deref()
                .map(|name| format!(" @{name}"))
                .unwrap_or_default();
            let label = format!("{}{handle} ({})", person.first_name, person.active);
            Some(vec![give_button(work, id, user, label)])
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
    // Waits until the read model shows the new holder.
    let ticket = match work {
        Work::Orders => {
            context.reads.order(caller, &id, Some(&written)).await?;
            None
        }
        Work::Tickets => context.reads.ticket(caller, &id, Some(&written)).await?,
    };
    let name = context
        .reads
        .assignee(caller, work, assignee)
        .await?
        .map_or_else(|| assignee.to_string(), |person| person.first_name);
    context
        .say(
            chat,
            &fill(texts::assign_done(lang), &[("name", escape(&name))]),
        )
        .await?;
    // Who took a ticket themselves gets its card (and writes into it); who gave it
    // to a colleague is done with it.
    match ticket {
        Some(ticket) if assignee == caller.user_id => {
            desk::card(context, chat, &ticket, lang).await
        }
        _ => Ok(()),
    }
}
