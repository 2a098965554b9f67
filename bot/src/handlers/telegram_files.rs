//! Files sent to the bot: fetched from Telegram with `getFile` and streamed into the
//! file store through the same use case as an HTTP upload (typed by their bytes,
//! limited by purpose, scanned where a scanner is configured), so what they are
//! attached to (a generation, a brief, a result, a ticket's message) holds a kept
//! file, not a Telegram file id.

use domain::command::{CommandError, ErrorKind};
use domain::files::FilePurpose;
use domain::permissions::Caller;
use domain::use_cases::files::{ChunkFuture, ChunkSource, FileError, StoredFile, Upload};
use futures_util::StreamExt;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::Message;

use super::{BotContext, HandlerResult, now};
use crate::html::escape;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

/// A file a message carries: a document (with the name it was sent with) or the
/// largest size of a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub file_id: String,
    pub name: Option<String>,
    /// The size Telegram gives, in bytes.
    pub size: u64,
}

/// A size Telegram gave; teloxide reads one Telegram left out as `u32::MAX`, and
/// that is unknown (0), not 4 GiB.
fn known_size(size: u32) -> u64 {
    if size == u32::MAX { 0 } else { u64::from(size) }
}

/// The largest file a bot may fetch from Telegram (`getFile`).
const LARGEST_FETCHED: u64 = 20 * 1024 * 1024;

impl Incoming {
    /// The file `message` carries, if any.
    pub fn of(message: &Message) -> Option<Self> {
        match message.document() {
            Some(document) => Some(Self {
                file_id: document.file.id.to_string(),
                name: document.file_name.clone(),
                size: known_size(document.file.size),
            }),
            None => message
                .photo()
                .and_then(|sizes| sizes.iter().max_by_key(|size| size.width * size.height))
                .map(|photo| Self {
                    file_id: photo.file.id.to_string(),
                    name: Some("telegram-photo.jpg".into()),
                    size: known_size(photo.file.size),
                }),
        }
    }
}

/// The Telegram file id of the largest size of the photo in `message`.
pub fn photo_of(message: &Message) -> Option<String> {
    message
        .photo()
        .and_then(|sizes| sizes.iter().max_by_key(|size| size.width * size.height))
        .map(|size| size.file.id.to_string())
}

/// A file in Telegram, a chunk at a time.
pub struct TelegramFile(<Bot as Download>::Stream);

impl ChunkSource for TelegramFile {
    fn next_chunk(&mut self) -> ChunkFuture<'_> {
        Box::pin(async move {
            self.0
                .next()
                .await
                .transpose()
                .map_err(std::io::Error::other)
        })
    }
}

/// The file `file_id` from Telegram, as an upload's source, with the size Telegram
/// gives.
pub async fn fetch(
    context: &BotContext,
    file_id: &str,
) -> Result<(TelegramFile, u64), CommandError> {
    let bot = context.out.bot();
    let file = bot
        .get_file(teloxide::types::FileId(file_id.to_owned()))
        .await
        .map_err(|error| match error {
            // Telegram refused it for good (too large, unknown): said, not retried.
            teloxide::RequestError::Api(refusal) => CommandError::invalid(
                "file",
                format!("Telegram would not hand the file over ({refusal}); send it again or send another"),
            ),
            other => {
                tracing::warn!(error = %other, "getFile failed");
                CommandError::unavailable("the file could not be fetched from Telegram")
            }
        })?;
    Ok((
        TelegramFile(bot.download_file_stream(&file.path)),
        known_size(file.size),
    ))
}

/// Keeps `incoming` in the file store as `caller`'s, for `purpose`. A download cut
/// off midway is an outage (the update is handled again), not a broken upload.
pub async fn keep(
    context: &BotContext,
    caller: Caller,
    incoming: &Incoming,
    purpose: FilePurpose,
) -> Result<StoredFile, FileError> {
    if incoming.size > LARGEST_FETCHED {
        return Err(FileError::Refused(CommandError::invalid(
            "file",
            "bots can fetch files of up to 20 MB from Telegram: send a smaller one",
        )));
    }
    let (mut source, size) = fetch(context, &incoming.file_id).await?;
    let upload = Upload {
        purpose,
        name: incoming.name.clone(),
        announced_size: Some(size),
    };
    match context
        .core
        .upload_file(caller, upload, &mut source, now())
        .await
    {
        Err(FileError::Upload(reason)) => {
            tracing::warn!(%reason, "a download from Telegram broke off");
            Err(FileError::Unavailable(
                "the file could not be fetched from Telegram".into(),
            ))
        }
        kept => kept,
    }
}

/// Says why a file was not taken, in words the sender can act on (a type or size
/// the purpose does not take, no credits); an outage is the handler's error, so
/// the update is tried again.
pub async fn refused(
    context: &BotContext,
    chat: i64,
    lang: Lang,
    error: FileError,
) -> HandlerResult {
    match error {
        FileError::Refused(refused) if refused.code == Some("insufficient_credits") => {
            context.say(chat, texts::generation_no_credits(lang)).await
        }
        FileError::Refused(refused) => context.refused(chat, lang, refused).await,
        FileError::Unavailable(message) => {
            Err(CommandError::new(ErrorKind::Unavailable, message).into())
        }
        other => {
            let text = fill(
                texts::refused(lang),
                &[("reason", escape(&other.to_string()))],
            );
            context.out.html(chat, &text, None, Pace::Reply).await?;
            Ok(())
        }
    }
}
