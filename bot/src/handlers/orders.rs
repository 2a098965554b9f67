//! One order in the bot: its card with the buttons of the steps the domain offers
//! the viewer (lists are in `order_lists.rs`), and those steps: accept a
//! quote, pay (`paying.rs`), take, start, submit with files,
//! accept, ask for a revision, review, and staff setting the price.

use domain::files::FilePurpose;
use domain::order::transitions::Step as OrderStep;
use domain::permissions::Caller;
use domain::use_cases::order_actions::OrderAction;
use projections::read_models::orders::OrderView;
use projections::read_models::users::assignees::Work;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::telegram_files::{self, Incoming};
use super::{BotContext, HandlerResult, booking, now};
use crate::callback::assign_button;
use crate::dialogue::{self, Step};
use crate::html::escape;
use crate::notices::status_name;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

const TIMELINE_LINES: usize = 10;
const MAX_RESULT_FILES: usize = domain::order::Coursework::MAX_FILES;

/// One order: its card, its history and the buttons of what the viewer may do.
pub async fn card(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    order_id: &str,
    lang: Lang,
) -> HandlerResult {
    let found = match context.reads.order(caller, order_id.trim(), None).await {
        Ok(found) => found,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let Some(order) = found else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    let timeline: Vec<String> = order
        .timeline
        .iter()
        .rev()
        .take(TIMELINE_LINES)
        .rev()
        .map(|line| {
            format!(
                "{} — {}",
                line.at.format("%d.%m %H:%M"),
                escape(&line.summary)
            )
        })
        .collect();
    let text = fill(
        texts::order_card(lang),
        &[
            ("title", escape(&order.order.title)),
            ("status", escape(status_name(&order.order.status, lang))),
            ("price", escape(order.order.price.as_deref().unwrap_or("—"))),
            ("paid", escape(&order.order.paid_amount)),
            ("timeline", timeline.join("\n")),
        ],
    );
    let keyboard = step_buttons(caller, &order.order, lang);
    context.out.html(chat, &text, keyboard, Pace::Reply).await?;
    Ok(())
}

/// The buttons of the steps the domain offers `caller` on `order`.
fn step_buttons(caller: Caller, order: &OrderView, lang: Lang) -> Option<InlineKeyboardMarkup> {
    let id = &order.order_id;
    let rows: Vec<Vec<InlineKeyboardButton>> = order
        .offered_steps(caller)
        .into_iter()
        .filter_map(|step| {
            let (label, data) = match step {
                OrderStep::Quote => (texts::act_quote(lang), format!("act:{id}:quote")),
                OrderStep::AcceptQuote => (
                    texts::act_accept_quote(lang),
                    format!("act:{id}:accept_quote"),
                ),
                OrderStep::MarkPaid => (texts::act_pay(lang), format!("pay:{id}")),
                OrderStep::AssignExecutor => {
                    let order = id.parse().ok()?;
                    return Some(vec![assign_button(Work::Orders, order, lang)]);
                }
                OrderStep::TakeOrder => (texts::act_take(lang), format!("act:{id}:take")),
                OrderStep::Start => (texts::act_start(lang), format!("act:{id}:start")),
                OrderStep::SubmitResult => (texts::act_submit(lang), format!("act:{id}:submit")),
                OrderStep::Accept => (texts::act_accept(lang), format!("act:{id}:accept")),
                OrderStep::RequestRevision => {
                    (texts::act_revision(lang), format!("act:{id}:revision"))
                }
                OrderStep::Review => (texts::act_review(lang), format!("act:{id}:review")),
                OrderStep::Complete => (texts::act_complete(lang), format!("act:{id}:complete")),
                OrderStep::MarkNoShow => (texts::act_no_show(lang), format!("act:{id}:no_show")),
                OrderStep::Reschedule => {
                    (texts::act_reschedule(lang), format!("act:{id}:reschedule"))
                }
                OrderStep::Cancel => (texts::act_cancel(lang), format!("act:{id}:cancel")),
                _ => return None,
            };
            Some(vec![InlineKeyboardButton::callback(label, data)])
        })
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// A step's button (`act:<order>:<step>`).
pub async fn act(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some((order, step)) = what.split_once(':') else {
        return Ok(());
    };
    let Ok(order_id) = order.parse::<Uuid>() else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    let action = match step {
        "accept_quote" => OrderAction::AcceptQuote,
        "take" => OrderAction::Take,
        "start" => OrderAction::Start,
        "accept" => OrderAction::Accept,
        "complete" => OrderAction::Complete,
        "no_show" => OrderAction::NoShow,
        "cancel_yes" => OrderAction::Cancel {
            reason: texts::cancelled_by_customer(lang).to_owned(),
            refund: None,
        },
        "cancel" => {
            let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
                texts::act_cancel_yes(lang),
                format!("act:{order_id}:cancel_yes"),
            )]]);
            context
                .out
                .html(chat, texts::cancel_ask(lang), Some(keyboard), Pace::Reply)
                .await?;
            return Ok(());
        }
        "reschedule" => return booking::reschedule(context, caller, chat, order_id, lang).await,
        "quote" | "revision" | "submit" | "review"
            if !offered(context, caller, order_id, step).await? =>
        {
            return context.say(chat, texts::brief_not_now(lang)).await;
        }
        "quote" => {
            dialogue::enter(context.pool(), chat, &Step::QuotePrice { order_id }).await?;
            return context.say(chat, texts::quote_ask(lang)).await;
        }
        "revision" => {
            dialogue::enter(context.pool(), chat, &Step::RevisionReason { order_id }).await?;
            return context.say(chat, texts::revision_ask(lang)).await;
        }
        "submit" => {
            let step = Step::SubmitResult {
                order_id,
                files: Vec::new(),
                attachments: Vec::new(),
            };
            dialogue::enter(context.pool(), chat, &step).await?;
            return say_submit(context, chat, texts::submit_ask(lang), lang).await;
        }
        "review" => return ask_review(context, chat, order_id, lang).await,
        _ => return Ok(()),
    };
    take_step(context, caller, chat, order_id, action, lang).await
}

/// Whether the domain offers `caller` the step named `step` on the order now (before
/// a dialogue step is entered for it).
async fn offered(
    context: &BotContext,
    caller: Caller,
    order_id: Uuid,
    step: &str,
) -> Result<bool, crate::runner::BotError> {
    let Some(order) = context
        .reads
        .order(caller, &order_id.to_string(), None)
        .await?
    else {
        return Ok(false);
    };
    let wanted = match step {
        "quote" => OrderStep::Quote,
        "revision" => OrderStep::RequestRevision,
        "submit" => OrderStep::SubmitResult,
        _ => OrderStep::Review,
    };
    Ok(order.order.offered_steps(caller).contains(&wanted))
}

/// Takes `action` and shows the order as it is then.
async fn take_step(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    order_id: Uuid,
    action: OrderAction,
    lang: Lang,
) -> HandlerResult {
    let written = match context
        .core
        .act_on_order(caller, order_id, action, now())
        .await
    {
        Ok(written) => written,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    say_done(context, caller, chat, order_id, &written, lang).await
}

/// Says the step is taken, with the order's status once the read model shows it.
async fn say_done(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    order_id: Uuid,
    written: &domain::use_cases::Written,
    lang: Lang,
) -> HandlerResult {
    let shown = context
        .reads
        .order(caller, &order_id.to_string(), Some(written))
        .await?;
    match shown {
        Some(order) => {
            let status = escape(status_name(&order.order.status, lang));
            context
                .say(chat, &fill(texts::act_done(lang), &[("status", status)]))
                .await
        }
        None => Ok(()),
    }
}

/// Staff wrote the price of the order they chose to quote.
pub async fn price(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    order_id: Uuid,
    text: &str,
    lang: Lang,
) -> HandlerResult {
    let Ok(price) = text.trim().replace(',', ".").parse() else {
        return context.say(chat, texts::quote_bad(lang)).await;
    };
    dialogue::leave(context.pool(), chat).await?;
    let action = OrderAction::Quote { price };
    take_step(context, caller, chat, order_id, action, lang).await
}

/// The customer wrote what to revise.
pub async fn revision(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    order_id: Uuid,
    text: &str,
    lang: Lang,
) -> HandlerResult {
    dialogue::leave(context.pool(), chat).await?;
    let action = OrderAction::RequestRevision {
        reason: text.trim().to_owned(),
    };
    take_step(context, caller, chat, order_id, action, lang).await
}

/// A result's files collected so far: Telegram file ids (a dialogue begun before
/// files were kept) and kept files.
pub struct Collected {
    pub files: Vec<String>,
    pub attachments: Vec<Uuid>,
}

impl Collected {
    fn count(&self) -> usize {
        self.files.len() + self.attachments.len()
    }
}

/// A file of the result while submitting (kept at once, for coursework, so a type
/// or size a result does not take is said now), or any other message (`file` none).
pub async fn result_file(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    order_id: Uuid,
    mut collected: Collected,
    file: Option<Incoming>,
    lang: Lang,
) -> HandlerResult {
    let Some(file) = file else {
        return say_submit(context, chat, texts::submit_ask(lang), lang).await;
    };
    if collected.count() >= MAX_RESULT_FILES {
        return say_submit(context, chat, texts::brief_files_full(lang), lang).await;
    }
    let kept = match telegram_files::keep(context, caller, &file, FilePurpose::Coursework).await {
        Ok(kept) => kept,
        Err(error) => return telegram_files::refused(context, chat, lang, error).await,
    };
    if !collected.attachments.contains(&kept.file_id) {
        collected.attachments.push(kept.file_id);
    }
    let count = collected.count();
    let step = Step::SubmitResult {
        order_id,
        files: collected.files,
        attachments: collected.attachments,
    };
    dialogue::enter(context.pool(), chat, &step).await?;
    let added = fill(
        texts::brief_file_added(lang),
        &[("count", count.to_string())],
    );
    say_submit(context, chat, &added, lang).await
}

/// `submit:<order>`: hands in the files collected so far.
pub async fn submit(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let Some(Step::SubmitResult {
        order_id,
        files,
        attachments,
    }) = dialogue::current(context.pool(), chat).await?
    else {
        return context.say(chat, texts::brief_not_now(lang)).await;
    };
    if files.is_empty() && attachments.is_empty() {
        return context.say(chat, texts::submit_no_files(lang)).await;
    }
    let action = OrderAction::Submit {
        files,
        attachments,
        note: None,
    };
    // The dialogue (with the files collected) ends only once the result is handed
    // in: refused, the executor can fix what was said and press "submit" again.
    match context
        .core
        .act_on_order(caller, order_id, action, now())
        .await
    {
        Ok(written) => {
            dialogue::leave(context.pool(), chat).await?;
            say_done(context, caller, chat, order_id, &written, lang).await
        }
        Err(error) => context.refused(chat, lang, error).await,
    }
}

async fn say_submit(context: &BotContext, chat: i64, text: &str, lang: Lang) -> HandlerResult {
    let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        texts::submit_button(lang),
        "submit:",
    )]]);
    context.say_with(chat, text, keyboard).await
}

async fn ask_review(context: &BotContext, chat: i64, order_id: Uuid, lang: Lang) -> HandlerResult {
    let stars: Vec<InlineKeyboardButton> = (1..=5)
        .map(|stars| {
            InlineKeyboardButton::callback("⭐".repeat(stars), format!("review:{order_id}:{stars}"))
        })
        .collect();
    let keyboard = InlineKeyboardMarkup::new([stars]);
    context
        .say_with(chat, texts::review_ask(lang), keyboard)
        .await
}

/// `review:<order>:<stars>`.
pub async fn review(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some((order, stars)) = what.split_once(':') else {
        return Ok(());
    };
    let (Ok(order_id), Ok(stars)) = (order.parse::<Uuid>(), stars.parse::<u8>()) else {
        return Ok(());
    };
    let action = OrderAction::Review { stars, text: None };
    match context
        .core
        .act_on_order(caller, order_id, action, now())
        .await
    {
        Ok(_) => context.say(chat, texts::review_thanks(lang)).await,
        Err(error) => context.refused(chat, lang, error).await,
    }
}
