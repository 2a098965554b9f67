//! Image generations from the chat: a photo sent outside any dialogue is kept (a
//! `generation_input` upload, fetched from Telegram with `getFile`) and the bot asks
//! what to make of it: a fitting (the next photo is the garment) or an editing (the
//! next text, or the photo's caption, says what to change). The result is announced
//! by the notices when the runner is done.

use domain::generation::GenerationKind;
use domain::permissions::Caller;
use domain::use_cases::files::Upload;
use domain::use_cases::generation::WithNewPhoto;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::{BotContext, HandlerResult, assistant, now, telegram_files};
use crate::dialogue::{self, Step};
use crate::texts::{self, Lang, fill};

fn upload(size: u64) -> Upload {
    Upload {
        purpose: domain::files::FilePurpose::GenerationInput,
        name: Some("telegram-photo.jpg".into()),
        announced_size: Some(size),
    }
}

/// A photo arrived: with a caption it is an editing at once; after "fitting" it is
/// the garment; otherwise it is kept and the bot asks what to do.
pub async fn photo(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    file_id: &str,
    caption: &str,
    step: Option<Step>,
    lang: Lang,
) -> HandlerResult {
    let (mut source, size) = match telegram_files::fetch(context, file_id).await {
        Ok(fetched) => fetched,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let (kind, earlier, prompt) = match step {
        Some(Step::FittingGarment { person }) => (GenerationKind::Fitting, vec![person], None),
        _ if !caption.trim().is_empty() => (
            GenerationKind::Editing,
            vec![],
            Some(caption.trim().to_owned()),
        ),
        _ => {
            let stored = context
                .core
                .upload_file(caller, upload(size), &mut source, now())
                .await;
            return match stored {
                Ok(stored) => {
                    dialogue::enter(
                        context.pool(),
                        chat,
                        &Step::GenerationPhoto {
                            photo: stored.file_id,
                        },
                    )
                    .await?;
                    let keyboard = InlineKeyboardMarkup::new(vec![vec![
                        InlineKeyboardButton::callback(
                            lang.pick("👗 Примерка", "👗 Fitting"),
                            "gen:fit",
                        ),
                        InlineKeyboardButton::callback(
                            lang.pick("✏️ Редактирование", "✏️ Editing"),
                            "gen:edit",
                        ),
                    ]]);
                    context
                        .say_with(chat, texts::generation_what(lang), keyboard)
                        .await
                }
                Err(error) => telegram_files::refused(context, chat, lang, error).await,
            };
        }
    };
    let written = context
        .core
        .generate_with_new_photo(
            caller,
            WithNewPhoto {
                kind,
                earlier,
                photo: upload(size),
                prompt,
            },
            &mut source,
            now(),
        )
        .await;
    dialogue::leave(context.pool(), chat).await?;
    match written {
        Ok(_) => {
            let price = context.core.ai.rules.price(kind);
            let text = fill(
                texts::generation_started(lang),
                &[("credits", price.to_string())],
            );
            context.say(chat, &text).await
        }
        Err(error) => telegram_files::refused(context, chat, lang, error).await,
    }
}

/// "Fitting" or "editing" pressed for the kept photo, or "the assistant" while
/// editing.
pub async fn button(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let step = dialogue::current(context.pool(), chat).await?;
    if let (Some(Step::EditingPrompt { photo }), "assist") = (&step, what) {
        return assistant::begin_editing(context, caller, chat, *photo, lang).await;
    }
    let Some(Step::GenerationPhoto { photo }) = step else {
        return context.say(chat, texts::generation_send_photo(lang)).await;
    };
    match what {
        "fit" => {
            dialogue::enter(
                context.pool(),
                chat,
                &Step::FittingGarment { person: photo },
            )
            .await?;
            context
                .say(chat, texts::generation_send_garment(lang))
                .await
        }
        "edit" => {
            dialogue::enter(context.pool(), chat, &Step::EditingPrompt { photo }).await?;
            if !context.core.ai.chat.configured() {
                return context.say(chat, texts::generation_say_change(lang)).await;
            }
            let keyboard = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback(
                texts::assistant_button(lang),
                "gen:assist",
            )]]);
            context
                .say_with(chat, texts::generation_say_change(lang), keyboard)
                .await
        }
        _ => Ok(()),
    }
}

/// The text of an editing: what to change in `photo`.
pub async fn prompt(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    photo: Uuid,
    text: &str,
    lang: Lang,
) -> HandlerResult {
    let request = domain::use_cases::generation::GenerationRequest {
        kind: GenerationKind::Editing,
        input_files: vec![photo],
        prompt: Some(text.to_owned()),
    };
    let written = context
        .core
        .request_generation(caller, request, now())
        .await;
    match written {
        Ok(_) => {
            dialogue::leave(context.pool(), chat).await?;
            let price = context.core.ai.rules.price(GenerationKind::Editing);
            let text = fill(
                texts::generation_started(lang),
                &[("credits", price.to_string())],
            );
            context.say(chat, &text).await
        }
        // Refused, the dialogue stays (a chat with the assistant is kept, to press
        // again once credits are bought).
        Err(error) if error.code == Some("insufficient_credits") => {
            context.say(chat, texts::generation_no_credits(lang)).await
        }
        Err(error) => context.refused(chat, lang, error).await,
    }
}
