//! Booking the salon: service → master → day → a free slot → confirm, each choice a
//! button and the draft kept in the dialogue; moving a booking goes through the same
//! day and slot choice. A master's `/today` and `/tomorrow`. The slot's freedom and
//! the booking rules are the core's: a slot taken meanwhile is refused in words.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::permissions::Caller;
use domain::use_cases::order_actions::OrderAction;
use domain::use_cases::placing::NewOrder;
use projections::read_models::bookings::SlotLength;
use serde_json::Value;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::{BotContext, HandlerResult, now, orders};
use crate::dialogue::{self, BookingDraft, Step};
use crate::html::escape;
use crate::notices::status_name;
use crate::texts::{self, Lang, fill};

/// Days offered ahead, from today.
const DAYS_AHEAD: i64 = 7;
const SLOTS_SHOWN: usize = 24;

/// `/book`: the salon's services.
pub async fn begin(context: &BotContext, chat: i64, lang: Lang) -> HandlerResult {
    let services = &context.core.offer.shopfront.services;
    if services.is_empty() {
        return context.say(chat, texts::book_no_services(lang)).await;
    }
    dialogue::enter(
        context.pool(),
        chat,
        &Step::Booking(BookingDraft::default()),
    )
    .await?;
    let rows = services
        .iter()
        .map(|service| {
            vec![InlineKeyboardButton::callback(
                format!("{} — {} ₽", service.name, service.price),
                format!("bk:s:{}", service.id),
            )]
        })
        .collect::<Vec<_>>();
    context
        .say_with(
            chat,
            texts::book_services(lang),
            InlineKeyboardMarkup::new(rows),
        )
        .await
}

/// A booking's "reschedule": the same service and master, a new day and slot.
pub async fn reschedule(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    order_id: Uuid,
    lang: Lang,
) -> HandlerResult {
    let Some(order) = context
        .reads
        .order(caller, &order_id.to_string(), None)
        .await?
    else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    let detail = |key: &str| {
        order
            .order
            .details
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let draft = BookingDraft {
        service_id: detail("service_id"),
        master_id: detail("master_id").and_then(|id| id.parse().ok()),
        date: None,
        moving: Some(order_id),
    };
    dialogue::enter(context.pool(), chat, &Step::Booking(draft)).await?;
    ask_day(context, chat, lang).await
}

/// `bk:s:<service>`, `bk:m:<master>`, `bk:d:<date>`, `bk:t:<start>`, `bk:ok:<start>`.
pub async fn button(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some(Step::Booking(mut draft)) = dialogue::current(context.pool(), chat).await? else {
        return context.say(chat, texts::brief_not_now(lang)).await;
    };
    let (kind, value) = what.split_once(':').unwrap_or((what, ""));
    match kind {
        "s" => {
            draft.service_id = Some(value.to_owned());
            dialogue::enter(context.pool(), chat, &Step::Booking(draft)).await?;
            ask_master(context, chat, lang).await
        }
        "m" => {
            let Ok(master) = value.parse() else {
                return Ok(());
            };
            draft.master_id = Some(master);
            dialogue::enter(context.pool(), chat, &Step::Booking(draft)).await?;
            ask_day(context, chat, lang).await
        }
        "d" => {
            let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") else {
                return Ok(());
            };
            draft.date = Some(date);
            dialogue::enter(context.pool(), chat, &Step::Booking(draft.clone())).await?;
            ask_slot(context, chat, &draft, date, lang).await
        }
        "t" => match start_of(value) {
            Some(start) => confirm(context, chat, &draft, start, lang).await,
            None => Ok(()),
        },
        "ok" => match start_of(value) {
            Some(start) => book(context, caller, chat, draft, start, lang).await,
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

async fn ask_master(context: &BotContext, chat: i64, lang: Lang) -> HandlerResult {
    let masters = context.reads.masters().await?;
    if masters.is_empty() {
        return context.say(chat, texts::book_no_masters(lang)).await;
    }
    let rows: Vec<Vec<InlineKeyboardButton>> = masters
        .iter()
        .map(|master| {
            vec![InlineKeyboardButton::callback(
                master.first_name.clone(),
                format!("bk:m:{}", master.master_id),
            )]
        })
        .collect();
    context
        .say_with(
            chat,
            texts::book_masters(lang),
            InlineKeyboardMarkup::new(rows),
        )
        .await
}

async fn ask_day(context: &BotContext, chat: i64, lang: Lang) -> HandlerResult {
    let today = Utc::now()
        .with_timezone(&context.core.offer.salon.utc_offset)
        .date_naive();
    let days: Vec<InlineKeyboardButton> = (0..DAYS_AHEAD)
        .map(|ahead| today + Duration::days(ahead))
        .map(|day| {
            InlineKeyboardButton::callback(
                day.format("%d.%m").to_string(),
                format!("bk:d:{}", day.format("%Y-%m-%d")),
            )
        })
        .collect();
    let rows: Vec<Vec<InlineKeyboardButton>> = days.chunks(4).map(<[_]>::to_vec).collect();
    context
        .say_with(
            chat,
            texts::book_days(lang),
            InlineKeyboardMarkup::new(rows),
        )
        .await
}

async fn ask_slot(
    context: &BotContext,
    chat: i64,
    draft: &BookingDraft,
    date: NaiveDate,
    lang: Lang,
) -> HandlerResult {
    let (Some(service), Some(master)) = (draft.service_id.clone(), draft.master_id) else {
        return begin(context, chat, lang).await;
    };
    let offer = &context.core.offer;
    let free = match context
        .reads
        .free_slots(
            offer,
            master,
            date,
            SlotLength::Service(service),
            None,
            now(),
        )
        .await
    {
        Ok(free) => free,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let shown_date = date.format("%d.%m").to_string();
    if free.slots.is_empty() {
        let text = fill(texts::book_no_slots(lang), &[("date", shown_date)]);
        context.say(chat, &text).await?;
        return ask_day(context, chat, lang).await;
    }
    let buttons: Vec<InlineKeyboardButton> = free
        .slots
        .iter()
        .take(SLOTS_SHOWN)
        .map(|slot| {
            InlineKeyboardButton::callback(
                local(context, slot.start).format("%H:%M").to_string(),
                format!("bk:t:{}", slot.start.timestamp()),
            )
        })
        .collect();
    let rows: Vec<Vec<InlineKeyboardButton>> = buttons.chunks(4).map(<[_]>::to_vec).collect();
    let text = fill(texts::book_slots(lang), &[("date", shown_date)]);
    context
        .say_with(chat, &text, InlineKeyboardMarkup::new(rows))
        .await
}

async fn confirm(
    context: &BotContext,
    chat: i64,
    draft: &BookingDraft,
    start: DateTime<Utc>,
    lang: Lang,
) -> HandlerResult {
    let service = draft
        .service_id
        .as_deref()
        .and_then(|id| context.core.offer.shopfront.service(id))
        .map(|service| service.name.clone())
        .unwrap_or_default();
    let master = match draft.master_id {
        Some(id) => context
            .reads
            .masters()
            .await?
            .into_iter()
            .find(|master| master.master_id == id)
            .map(|master| master.first_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let text = fill(
        texts::book_confirm(lang),
        &[
            ("service", escape(&service)),
            ("master", escape(&master)),
            ("when", when(context, start)),
        ],
    );
    let rows = vec![vec![InlineKeyboardButton::callback(
        texts::book_yes(lang),
        format!("bk:ok:{}", start.timestamp()),
    )]];
    context
        .say_with(chat, &text, InlineKeyboardMarkup::new(rows))
        .await
}

async fn book(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    draft: BookingDraft,
    start: DateTime<Utc>,
    lang: Lang,
) -> HandlerResult {
    let (Some(service_id), Some(master_id)) = (draft.service_id.clone(), draft.master_id) else {
        return begin(context, chat, lang).await;
    };
    if let Some(order_id) = draft.moving {
        let minutes = context
            .core
            .offer
            .shopfront
            .service(&service_id)
            .map_or(60, |service| i64::from(service.duration_minutes));
        let action = OrderAction::Reschedule {
            start,
            end: start + Duration::minutes(minutes),
            reason: None,
        };
        return match context
            .core
            .act_on_order(caller, order_id, action, now())
            .await
        {
            Ok(_) => {
                dialogue::leave(context.pool(), chat).await?;
                let text = fill(texts::book_moved(lang), &[("when", when(context, start))]);
                context.say(chat, &text).await
            }
            Err(error) => context.refused(chat, lang, error).await,
        };
    }
    let order = NewOrder::Booking {
        service_id: service_id.clone(),
        master_id,
        start,
    };
    let written = match context.core.place_order(caller, order, now()).await {
        Ok(written) => written,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    dialogue::leave(context.pool(), chat).await?;
    let service = context
        .core
        .offer
        .shopfront
        .service(&service_id)
        .map(|service| service.name.clone())
        .unwrap_or_default();
    let text = fill(
        texts::book_done(lang),
        &[
            ("service", escape(&service)),
            ("when", when(context, start)),
        ],
    );
    context.say(chat, &text).await?;
    let shown = context
        .reads
        .order(caller, &written.aggregate_id, Some(&written))
        .await?;
    match shown {
        Some(_) => orders::card(context, caller, chat, &written.aggregate_id, lang).await,
        None => Ok(()),
    }
}

/// `/today` or `/tomorrow` (`ahead` days from today): a master's bookings.
pub async fn day(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    ahead: i64,
    lang: Lang,
) -> HandlerResult {
    let offer = &context.core.offer;
    let date = Utc::now()
        .with_timezone(&offer.salon.utc_offset)
        .date_naive()
        + Duration::days(ahead);
    let bookings = match context.reads.master_day(caller, offer, date).await {
        Ok(bookings) => bookings,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let shown_date = date.format("%d.%m.%Y").to_string();
    if bookings.is_empty() {
        let text = fill(texts::day_none(lang), &[("date", shown_date)]);
        return context.say(chat, &text).await;
    }
    let mut text = fill(texts::day_title(lang), &[("date", shown_date)]);
    let mut rows = Vec::new();
    for booking in &bookings {
        let time = local(context, booking.starts_at)
            .format("%H:%M")
            .to_string();
        text.push_str(&fill(
            texts::day_line(lang),
            &[
                ("time", time.clone()),
                ("service", escape(&booking.service_name)),
                ("status", escape(status_name(&booking.status, lang))),
            ],
        ));
        rows.push(vec![InlineKeyboardButton::callback(
            format!("{time} {}", booking.service_name),
            format!("order:{}", booking.order_id),
        )]);
    }
    context
        .say_with(chat, &text, InlineKeyboardMarkup::new(rows))
        .await
}

fn start_of(value: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(value.parse().ok()?, 0)
}

fn local(context: &BotContext, at: DateTime<Utc>) -> DateTime<chrono::FixedOffset> {
    at.with_timezone(&context.core.offer.salon.utc_offset)
}

fn when(context: &BotContext, at: DateTime<Utc>) -> String {
    local(context, at).format("%d.%m %H:%M").to_string()
}
