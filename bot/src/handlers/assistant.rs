//! The assistants in the chat, through the same use cases as the API. Editing: from
//! a photo's "editing", "🤖 the assistant" opens a chat whose answers come with three
//! suggested prompts as buttons; pressing one generates with it (the suggestion is
//! read back from the chat by number). Students: `/ask` opens a chat with the FAQ's
//! assistant, and "a person" hands the last question over to support as a ticket.
//! "New chat" starts over with no history; `/cancel` leaves.

use domain::command::CommandError;
use domain::permissions::Caller;
use domain::use_cases::assistant::AssistantKind;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::{BotContext, HandlerResult, generate, now};
use crate::dialogue::{self, Step};
use crate::html::escape;
use crate::texts::{self, Lang, fill};

/// The longest a suggestion's button shows (Telegram cuts longer labels anyway).
const LABEL_CHARS: usize = 60;

/// "🤖 the assistant" pressed while editing `photo`.
pub async fn begin_editing(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    photo: Uuid,
    lang: Lang,
) -> HandlerResult {
    let price = context.core.ai.rules.assistant_price;
    let hello = fill(
        texts::assistant_editing_hello(lang),
        &[("credits", price.to_string())],
    );
    let step = |session| Step::EditingAssistant { photo, session };
    begin(
        context,
        caller,
        chat,
        (AssistantKind::Editing, step),
        &hello,
        lang,
    )
    .await
}

/// `/ask`: a chat with the students' assistant.
pub async fn begin_study(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    lang: Lang,
) -> HandlerResult {
    let hello = texts::assistant_study_hello(lang);
    let step = |session| Step::StudyAssistant { session };
    begin(
        context,
        caller,
        chat,
        (AssistantKind::Study, step),
        hello,
        lang,
    )
    .await
}

/// Opens a `kind` chat (where a model is set up), enters its dialogue `step` and
/// says `hello`.
async fn begin(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    (kind, step): (AssistantKind, impl FnOnce(Uuid) -> Step),
    hello: &str,
    lang: Lang,
) -> HandlerResult {
    if !context.core.ai.chat.configured() {
        return context.say(chat, texts::assistant_not_offered(lang)).await;
    }
    let session = match context
        .core
        .start_assistant_session(caller, kind, now())
        .await
    {
        Ok(session) => session,
        Err(error) => return refused(context, chat, lang, error).await,
    };
    dialogue::enter(context.pool(), chat, &step(session)).await?;
    context.say(chat, hello).await
}

/// A message in a `kind` assistant's chat (`session`): its answer, with the
/// suggestions (editing) or the hand-over (students) as buttons.
pub async fn message(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    (kind, session): (AssistantKind, Uuid),
    text: &str,
    lang: Lang,
) -> HandlerResult {
    let reply = match context
        .core
        .ask_assistant(caller, session, text, now())
        .await
    {
        Ok(reply) => reply,
        Err(error) => return refused(context, chat, lang, error).await,
    };
    let mut rows: Vec<Vec<InlineKeyboardButton>> = reply
        .variants
        .iter()
        .enumerate()
        .map(|(index, variant)| {
            vec![InlineKeyboardButton::callback(
                format!("🎨 {}", label(variant)),
                format!("ai:v:{}:{}:{index}", session.simple(), reply.position),
            )]
        })
        .collect();
    let mut last = Vec::new();
    if kind == AssistantKind::Study {
        last.push(InlineKeyboardButton::callback(
            texts::assistant_person_button(lang),
            "ai:human",
        ));
    }
    last.push(InlineKeyboardButton::callback(
        texts::assistant_reset_button(lang),
        "ai:reset",
    ));
    rows.push(last);
    context
        .say_with(chat, &escape(&reply.reply), InlineKeyboardMarkup::new(rows))
        .await
}

/// A button under an answer: a suggestion (`v:<n>`), `reset` or `human`.
pub async fn button(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let step = dialogue::current(context.pool(), chat).await?;
    match (what, step) {
        (pick, Some(Step::EditingAssistant { photo, session })) if pick.starts_with("v:") => {
            // v:<chat>:<answer's position>:<suggestion>; a button of another chat
            // (one started over, or over) picks nothing.
            let mut parts = pick[2..].split(':');
            let picked = match (parts.next(), parts.next(), parts.next()) {
                (Some(chat_id), Some(position), Some(index)) => Uuid::parse_str(chat_id)
                    .ok()
                    .filter(|chat_id| *chat_id == session)
                    .zip(position.parse::<i32>().ok())
                    .zip(index.parse::<usize>().ok()),
                _ => None,
            };
            let Some(((_, position), index)) = picked else {
                return context.say(chat, texts::assistant_gone(lang)).await;
            };
            match context
                .core
                .assistant_variant(caller, session, position, index)
                .await
            {
                Ok(prompt) => generate::prompt(context, caller, chat, photo, &prompt, lang).await,
                Err(error) => refused(context, chat, lang, error).await,
            }
        }
        ("reset", Some(step @ (Step::EditingAssistant { .. } | Step::StudyAssistant { .. }))) => {
            let (session, restarted) = match step {
                Step::EditingAssistant { photo, session } => (session, Some(photo)),
                Step::StudyAssistant { session } => (session, None),
                _ => return Ok(()),
            };
            let fresh = match context
                .core
                .reset_assistant_session(caller, session, now())
                .await
            {
                Ok(fresh) => fresh,
                Err(error) => return refused(context, chat, lang, error).await,
            };
            let step = match restarted {
                Some(photo) => Step::EditingAssistant {
                    photo,
                    session: fresh,
                },
                None => Step::StudyAssistant { session: fresh },
            };
            dialogue::enter(context.pool(), chat, &step).await?;
            context.say(chat, texts::assistant_reset_done(lang)).await
        }
        ("human", Some(Step::StudyAssistant { session })) => {
            match context
                .core
                .hand_over_to_support(caller, session, None, now())
                .await
            {
                Ok(written) => {
                    // The chat goes on in the ticket, as after /support.
                    match written.aggregate_id.parse::<Uuid>() {
                        Ok(ticket_id) => {
                            dialogue::enter(context.pool(), chat, &Step::InTicket { ticket_id })
                                .await?
                        }
                        Err(_) => dialogue::leave(context.pool(), chat).await?,
                    }
                    context.say(chat, texts::assistant_handed_over(lang)).await
                }
                Err(error) => refused(context, chat, lang, error).await,
            }
        }
        _ => context.say(chat, texts::assistant_gone(lang)).await,
    }
}

/// A suggestion as a button's label: its first `LABEL_CHARS` characters.
fn label(variant: &str) -> String {
    let mut label: String = variant.chars().take(LABEL_CHARS).collect();
    if variant.chars().count() > LABEL_CHARS {
        label.push('…');
    }
    label
}

async fn refused(
    context: &BotContext,
    chat: i64,
    lang: Lang,
    error: CommandError,
) -> HandlerResult {
    if error.code == Some("insufficient_credits") {
        return context.say(chat, texts::generation_no_credits(lang)).await;
    }
    context.refused(chat, lang, error).await
}
