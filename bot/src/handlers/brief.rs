//! Placing a coursework order as a dialogue: type of work → subject → volume →
//! deadline → files → confirm. The draft lives in the chat's dialogue state, so a
//! restart continues it; the order is placed once, through the same use case as the
//! API, and a field the core refuses is asked again.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use domain::command::CommandError;
use domain::files::FilePurpose;
use domain::order::Coursework;
use domain::permissions::Caller;
use domain::use_cases::placing::NewOrder;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::telegram_files::{self, Incoming};
use super::{BotContext, HandlerResult, now};
use crate::dialogue::{self, BriefDraft, Step};
use crate::html::escape;
use crate::texts::{self, Lang, fill};

/// The Order aggregate's limits, so the dialogue asks within them.
const MAX_FILES: usize = Coursework::MAX_FILES;
const MAX_VOLUME: u32 = Coursework::MAX_VOLUME;

/// `/neworder`: a fresh draft.
pub async fn begin(context: &BotContext, chat: i64, lang: Lang) -> HandlerResult {
    let draft = BriefDraft::default();
    dialogue::enter(context.pool(), chat, &Step::Brief(draft.clone())).await?;
    ask_next(context, chat, &draft, lang).await
}

/// A message while writing the brief: the answer to the field asked, or a file.
pub async fn answer(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    mut draft: BriefDraft,
    text: &str,
    attachment: Option<Incoming>,
    lang: Lang,
) -> HandlerResult {
    let text = text.trim();
    if draft.work_type.is_none() {
        draft.work_type = Some(text.to_owned());
    } else if draft.subject.is_none() {
        draft.subject = Some(text.to_owned());
    } else if draft.volume.is_none() {
        match text.parse::<u32>() {
            Ok(volume) if (1..=MAX_VOLUME).contains(&volume) => draft.volume = Some(volume),
            _ => return context.say(chat, texts::brief_volume_bad(lang)).await,
        }
    } else if draft.deadline.is_none() {
        match deadline_of(context, text) {
            Some(deadline) => draft.deadline = Some(deadline),
            None => return context.say(chat, texts::brief_deadline_bad(lang)).await,
        }
    } else if !draft.files_done {
        let Some(file) = attachment else {
            return ask_next(context, chat, &draft, lang).await;
        };
        if draft.files.len() + draft.attachments.len() >= MAX_FILES {
            return context.say(chat, texts::brief_files_full(lang)).await;
        }
        // Kept now, so a type or size the brief does not take is said at once.
        let kept = match telegram_files::keep(context, caller, &file, FilePurpose::Coursework).await
        {
            Ok(kept) => kept,
            Err(error) => return telegram_files::refused(context, chat, lang, error).await,
        };
        if !draft.attachments.contains(&kept.file_id) {
            draft.attachments.push(kept.file_id);
        }
        dialogue::enter(context.pool(), chat, &Step::Brief(draft.clone())).await?;
        let added = fill(
            texts::brief_file_added(lang),
            &[(
                "count",
                (draft.files.len() + draft.attachments.len()).to_string(),
            )],
        );
        return context
            .say_with(chat, &added, files_done_keyboard(lang))
            .await;
    } else {
        return ask_next(context, chat, &draft, lang).await;
    }
    dialogue::enter(context.pool(), chat, &Step::Brief(draft.clone())).await?;
    ask_next(context, chat, &draft, lang).await
}

/// A button of the brief (`brief:<what>`).
pub async fn button(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some(Step::Brief(mut draft)) = dialogue::current(context.pool(), chat).await? else {
        return context.say(chat, texts::brief_not_now(lang)).await;
    };
    match what.split_once(':').unwrap_or((what, "")) {
        ("type", index) if draft.work_type.is_none() => {
            let types: Vec<&str> = texts::work_types(lang).split('|').collect();
            let Some(chosen) = index.parse::<usize>().ok().and_then(|i| types.get(i)) else {
                return ask_next(context, chat, &draft, lang).await;
            };
            draft.work_type = Some((*chosen).to_owned());
        }
        ("files_done", _) if draft.deadline.is_some() => draft.files_done = true,
        ("place", _) if draft.files_done => return place(context, caller, chat, draft, lang).await,
        ("cancel", _) => {
            dialogue::leave(context.pool(), chat).await?;
            return context.say(chat, texts::cancelled(lang)).await;
        }
        _ => return ask_next(context, chat, &draft, lang).await,
    }
    dialogue::enter(context.pool(), chat, &Step::Brief(draft.clone())).await?;
    ask_next(context, chat, &draft, lang).await
}

async fn place(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    mut draft: BriefDraft,
    lang: Lang,
) -> HandlerResult {
    let (Some(work_type), Some(subject), Some(volume), Some(deadline)) = (
        draft.work_type.clone(),
        draft.subject.clone(),
        draft.volume,
        draft.deadline,
    ) else {
        return ask_next(context, chat, &draft, lang).await;
    };
    let brief = Coursework {
        subject: subject.clone(),
        work_type: work_type.clone(),
        volume,
        deadline,
        files: draft.files.clone(),
        attachments: draft.attachments.clone(),
        max_revisions: Coursework::DEFAULT_REVISIONS,
    };
    match context
        .core
        .place_order(caller, NewOrder::Coursework(brief), now())
        .await
    {
        Ok(_) => {
            dialogue::leave(context.pool(), chat).await?;
            let title = format!("{work_type}: {subject}");
            let placed = fill(texts::brief_placed(lang), &[("title", escape(&title))]);
            context.say(chat, &placed).await
        }
        Err(error) if forget_refused_field(&mut draft, &error) => {
            dialogue::enter(context.pool(), chat, &Step::Brief(draft.clone())).await?;
            context.refused(chat, lang, error).await?;
            ask_next(context, chat, &draft, lang).await
        }
        Err(error) => context.refused(chat, lang, error).await,
    }
}

/// Clears the field the core refused so it is asked again; false when the refusal
/// names no field of the draft.
fn forget_refused_field(draft: &mut BriefDraft, error: &CommandError) -> bool {
    match error.field.as_deref() {
        Some("work_type") => draft.work_type = None,
        Some("subject") => draft.subject = None,
        Some("volume") => draft.volume = None,
        Some("deadline") => draft.deadline = None,
        // A kept material that can no longer be attached (erased meanwhile): the
        // materials are asked for again.
        Some(field) if field.starts_with("attachments") => draft.attachments.clear(),
        _ => return false,
    }
    draft.files_done = false;
    true
}

/// Asks for the first missing field, or shows the summary to confirm.
async fn ask_next(
    context: &BotContext,
    chat: i64,
    draft: &BriefDraft,
    lang: Lang,
) -> HandlerResult {
    if draft.work_type.is_none() {
        let rows: Vec<Vec<InlineKeyboardButton>> = texts::work_types(lang)
            .split('|')
            .enumerate()
            .map(|(index, name)| {
                vec![InlineKeyboardButton::callback(
                    name,
                    format!("brief:type:{index}"),
                )]
            })
            .collect();
        return context
            .say_with(
                chat,
                texts::brief_work_type(lang),
                InlineKeyboardMarkup::new(rows),
            )
            .await;
    }
    if draft.subject.is_none() {
        return context.say(chat, texts::brief_subject(lang)).await;
    }
    if draft.volume.is_none() {
        return context.say(chat, texts::brief_volume(lang)).await;
    }
    let Some(deadline) = draft.deadline else {
        return context.say(chat, texts::brief_deadline(lang)).await;
    };
    if !draft.files_done {
        return context
            .say_with(chat, texts::brief_files(lang), files_done_keyboard(lang))
            .await;
    }
    let local = deadline.with_timezone(&context.core.offer.salon.utc_offset);
    let summary = fill(
        texts::brief_summary(lang),
        &[
            (
                "work_type",
                escape(draft.work_type.as_deref().unwrap_or("")),
            ),
            ("subject", escape(draft.subject.as_deref().unwrap_or(""))),
            ("volume", draft.volume.unwrap_or(0).to_string()),
            ("deadline", local.format("%d.%m.%Y").to_string()),
            (
                "files",
                (draft.files.len() + draft.attachments.len()).to_string(),
            ),
        ],
    );
    let keyboard = InlineKeyboardMarkup::new([vec![
        InlineKeyboardButton::callback(texts::brief_place_button(lang), "brief:place"),
        InlineKeyboardButton::callback(texts::brief_cancel_button(lang), "brief:cancel"),
    ]]);
    context.say_with(chat, &summary, keyboard).await
}

fn files_done_keyboard(lang: Lang) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
        texts::brief_done_button(lang),
        "brief:files_done",
    )]])
}

/// `25.12.2026` (or `2026-12-25`) as the end of that day in the business's time
/// zone; `None` for text that is no date. Whether it is late enough the core decides.
fn deadline_of(context: &BotContext, text: &str) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(text, "%d.%m.%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()?;
    let end = day.and_time(NaiveTime::from_hms_opt(23, 59, 0)?);
    let offset = context.core.offer.salon.utc_offset;
    Some(
        offset
            .from_local_datetime(&end)
            .single()?
            .with_timezone(&Utc),
    )
}
