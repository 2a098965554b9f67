//! The dptree schema: private messages (commands, then the dialogue step) and
//! button presses. Each handler translates: it reads the update, makes one call to a
//! use case or a query, and answers. Refusals of the core are answered to the user
//! as words; anything unexpected is returned as an error for the runner to apologise
//! for and report.

mod admin;
mod applications;
mod assign;
mod assistant;
mod booking;
mod brief;
mod broadcast;
mod credits;
mod desk;
mod faq;
mod generate;
mod login;
mod menu;
mod order_lists;
mod orders;
mod paying;
mod reviews;
mod staff_group;
mod start;
mod support;
mod telegram_files;

use std::sync::Arc;

use chrono::Utc;
use domain::command::{CommandError, ErrorKind};
use domain::permissions::Caller;
use domain::use_cases::Core;
use domain::use_cases::assistant::AssistantKind;
use domain::use_cases::identity::{Standing, TelegramProfile};
use projections::ReadModels;
use teloxide::dispatching::{DpHandlerDescription, UpdateFilterExt};
use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, Message, User};

use crate::dialogue::{self, Step};
use crate::html::escape;
use crate::outgoing::{Outgoing, Pace};
use crate::runner::BotError;
use crate::settings::BotSettings;
use crate::texts::{self, Lang, fill};
use crate::topics::Topics;
use order_lists::List;

pub type HandlerResult = Result<(), BotError>;
pub type Schema = teloxide::dptree::Handler<'static, HandlerResult, DpHandlerDescription>;

/// What every handler gets: the core, the read models, the way out, the settings.
#[derive(Clone)]
pub struct BotContext {
    pub core: Arc<Core>,
    pub reads: ReadModels,
    pub out: Outgoing,
    pub settings: Arc<BotSettings>,
    /// The bot's own @username, as Telegram says (commands may carry it).
    pub username: Arc<str>,
    /// The tickets' topics in the staff group.
    pub topics: Topics,
}

impl BotContext {
    pub fn pool(&self) -> &sqlx::PgPool {
        self.core.pool()
    }

    /// Sends `html` in answer to what the person did.
    pub async fn say(&self, chat: i64, html: &str) -> HandlerResult {
        self.out.html(chat, html, None, Pace::Reply).await?;
        Ok(())
    }

    /// Sends `html` with `keyboard` under it, in answer to what the person did.
    pub async fn say_with(
        &self,
        chat: i64,
        html: &str,
        keyboard: teloxide::types::InlineKeyboardMarkup,
    ) -> HandlerResult {
        self.out
            .html(chat, html, Some(keyboard), Pace::Reply)
            .await?;
        Ok(())
    }

    /// Answers a refusal of the core in words, or passes an unexpected error on.
    pub async fn refused(&self, chat: i64, lang: Lang, error: CommandError) -> HandlerResult {
        match error.kind {
            ErrorKind::Internal | ErrorKind::Unavailable => Err(error.into()),
            _ => {
                let text = fill(texts::refused(lang), &[("reason", escape(&error.message))]);
                self.say(chat, &text).await
            }
        }
    }
}

/// The whole schema.
pub fn schema() -> Schema {
    teloxide::dptree::entry()
        .branch(
            Update::filter_message()
                .filter(|message: Message| message.chat.is_private())
                .endpoint(private_message),
        )
        .branch(
            Update::filter_message()
                .filter(|message: Message| !message.chat.is_private())
                .endpoint(staff_group::message),
        )
        .branch(Update::filter_callback_query().endpoint(button))
}

/// Who a Telegram user is to the product.
pub enum Who {
    Stranger,
    Blocked,
    Active(Caller),
}

pub async fn who(context: &BotContext, telegram_id: i64) -> Result<Who, CommandError> {
    let Some(user_id) = context.core.user_of_telegram(telegram_id).await? else {
        return Ok(Who::Stranger);
    };
    context.core.seen_on_telegram(telegram_id, now()).await?;
    Ok(match context.core.standing_of(user_id).await? {
        Standing::Active { caller, .. } => Who::Active(caller),
        Standing::Blocked => Who::Blocked,
        Standing::Unknown => Who::Stranger,
    })
}

pub fn profile_of(user: &User) -> TelegramProfile {
    TelegramProfile {
        id: user.id.0 as i64,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        username: user.username.clone(),
        language_code: user.language_code.clone(),
        photo_url: None,
    }
}

/// `/name rest` → (`name`, `rest`); `None` for text that is no command or one
/// addressed to another bot.
fn command_of<'a>(text: &'a str, username: &str) -> Option<(&'a str, &'a str)> {
    let text = text.strip_prefix('/')?;
    let (head, rest) = text.split_once([' ', '\n']).unwrap_or((text, ""));
    let (name, addressee) = head.split_once('@').unwrap_or((head, ""));
    if !addressee.is_empty() && !addressee.eq_ignore_ascii_case(username) {
        return None;
    }
    Some((name, rest.trim()))
}

async fn private_message(context: BotContext, message: Message) -> HandlerResult {
    let Some(user) = message.from.as_ref() else {
        return Ok(());
    };
    let chat = message.chat.id.0;
    context.out.unblocked(chat).await?;
    let lang = Lang::of(user.language_code.as_deref());
    let text = message.text().or(message.caption()).unwrap_or_default();
    if let Some(("start", payload)) = command_of(text, &context.username) {
        return start::start(&context, user, chat, payload, lang).await;
    }
    let caller = match who(&context, user.id.0 as i64).await? {
        Who::Stranger => return context.say(chat, texts::not_registered(lang)).await,
        Who::Blocked => return context.say(chat, texts::blocked(lang)).await,
        Who::Active(caller) => caller,
    };
    if let Some((name, argument)) = command_of(text, &context.username) {
        return match name {
            "help" => menu::help(&context, caller, chat, lang).await,
            "menu" => menu::main(&context, caller, chat, &user.first_name, lang).await,
            "neworder" => brief::begin(&context, chat, lang).await,
            "orders" => order_lists::list(&context, caller, chat, List::Mine, lang).await,
            "pool" => order_lists::list(&context, caller, chat, List::Pool, lang).await,
            "mywork" => order_lists::list(&context, caller, chat, List::Assigned, lang).await,
            "order" => orders::card(&context, caller, chat, argument, lang).await,
            "balance" => credits::balance(&context, caller, chat, lang).await,
            "statement" => credits::statement(&context, caller, chat, lang).await,
            "buy" => paying::catalogue(&context, chat, lang).await,
            "referral" => menu::referral(&context, caller, chat, lang).await,
            "support" => support::begin(&context, caller, chat, lang).await,
            "ticket" => support::status(&context, caller, chat, lang).await,
            "note" => support::note(&context, caller, chat, argument, lang).await,
            "admin" => admin::menu(&context, caller, chat, lang).await,
            "stats" => admin::stats(&context, caller, chat, lang).await,
            "find_user" => admin::find(&context, caller, chat, argument, lang).await,
            "users" => admin::users(&context, caller, chat, argument, lang).await,
            "role" => admin::role(&context, caller, chat, argument, lang).await,
            "broadcast" => broadcast::begin(&context, caller, chat, argument, lang).await,
            "queue" => desk::queue(&context, caller, chat, lang).await,
            "book" => booking::begin(&context, chat, lang).await,
            "faq" => faq::categories(&context, chat, lang).await,
            "ask" => assistant::begin_study(&context, caller, chat, lang).await,
            "reviews" => reviews::list(&context, caller, chat, lang).await,
            "apply" => applications::begin(&context, chat, lang).await,
            "applications" => applications::pending(&context, caller, chat, lang).await,
            "faq_add" => faq::add(&context, caller, chat, argument, lang).await,
            "today" => booking::day(&context, caller, chat, 0, lang).await,
            "tomorrow" => booking::day(&context, caller, chat, 1, lang).await,
            "cancel" => {
                dialogue::leave(context.pool(), chat).await?;
                context.say(chat, texts::cancelled(lang)).await
            }
            _ => context.say(chat, texts::unknown_command(lang)).await,
        };
    }
    let attachment = telegram_files::Incoming::of(&message);
    if text.trim().is_empty() && attachment.is_none() {
        return context.say(chat, texts::just_text(lang)).await;
    }
    let step = dialogue::current(context.pool(), chat).await?;
    if let Some(photo) = telegram_files::photo_of(&message)
        && matches!(
            step,
            None | Some(
                Step::GenerationPhoto { .. }
                    | Step::FittingGarment { .. }
                    | Step::EditingPrompt { .. }
            )
        )
    {
        return generate::photo(&context, caller, chat, &photo, text, step, lang).await;
    }
    if attachment.is_some()
        && matches!(
            step,
            Some(Step::EditingAssistant { .. } | Step::StudyAssistant { .. })
        )
    {
        return context.say(chat, texts::assistant_text_only(lang)).await;
    }
    if let (Some(Step::InTicket { ticket_id }), Some(file)) = (&step, &attachment) {
        return support::follow_up_with_file(&context, caller, chat, *ticket_id, text, file, lang)
            .await;
    }
    match step {
        Some(Step::Brief(draft)) => {
            brief::answer(&context, caller, chat, draft, text, attachment, lang).await
        }
        Some(Step::SubmitResult {
            order_id,
            files,
            attachments,
        }) => {
            let collected = orders::Collected { files, attachments };
            orders::result_file(
                &context, caller, chat, order_id, collected, attachment, lang,
            )
            .await
        }
        Some(Step::BroadcastText { audience }) => {
            let photo = telegram_files::photo_of(&message);
            broadcast::message(&context, caller, chat, audience, text, photo, lang).await
        }
        _ if text.trim().is_empty() => context.say(chat, texts::just_text(lang)).await,
        Some(Step::QuotePrice { order_id }) => {
            orders::price(&context, caller, chat, order_id, text, lang).await
        }
        Some(Step::Application) => applications::submit(&context, caller, chat, text, lang).await,
        Some(Step::RevisionReason { order_id }) => {
            orders::revision(&context, caller, chat, order_id, text, lang).await
        }
        Some(Step::TicketQuestion { category }) => {
            support::question(&context, caller, chat, &category, text, lang).await
        }
        Some(Step::InTicket { ticket_id }) => {
            support::follow_up(&context, caller, chat, ticket_id, text, lang).await
        }
        Some(Step::EditingAssistant { session, .. }) => {
            let chat_of = (AssistantKind::Editing, session);
            assistant::message(&context, caller, chat, chat_of, text, lang).await
        }
        Some(Step::StudyAssistant { session }) => {
            let chat_of = (AssistantKind::Study, session);
            assistant::message(&context, caller, chat, chat_of, text, lang).await
        }
        Some(Step::EditingPrompt { photo }) => {
            generate::prompt(&context, caller, chat, photo, text, lang).await
        }
        Some(Step::FittingGarment { .. }) => {
            context
                .say(chat, texts::generation_send_garment(lang))
                .await
        }
        Some(Step::UserList { .. } | Step::Booking(_) | Step::GenerationPhoto { .. }) | None => {
            context.say(chat, texts::just_text(lang)).await
        }
    }
}

async fn button(context: BotContext, query: CallbackQuery) -> HandlerResult {
    context.out.answer_button(query.id.clone()).await;
    let user = &query.from;
    let lang = Lang::of(user.language_code.as_deref());
    let Some(message) = query.message.as_ref() else {
        return Ok(());
    };
    let message_id = message.id();
    // A press in a group (a staff card) is answered in the presser's private chat.
    let chat = if message.chat().is_private() {
        message.chat().id.0
    } else {
        user.id.0 as i64
    };
    let data = query.data.as_deref().unwrap_or_default();
    if let Some(payload) = data.strip_prefix("consent:") {
        return start::accept(&context, user, chat, message_id, payload, lang).await;
    }
    if let Some(code) = data.strip_prefix("login:ok:") {
        return login::confirm(&context, user, chat, message_id, code, lang).await;
    }
    if let Some(code) = data.strip_prefix("login:no:") {
        return login::decline(&context, chat, message_id, code, lang).await;
    }
    let caller = match who(&context, user.id.0 as i64).await? {
        Who::Stranger => return context.say(chat, texts::not_registered(lang)).await,
        Who::Blocked => return context.say(chat, texts::blocked(lang)).await,
        Who::Active(caller) => caller,
    };
    match data.split_once(':').unwrap_or((data, "")) {
        ("menu", "orders") => order_lists::list(&context, caller, chat, List::Mine, lang).await,
        ("menu", "pool") => order_lists::list(&context, caller, chat, List::Pool, lang).await,
        ("menu", "new_order") => brief::begin(&context, chat, lang).await,
        ("menu", "balance") => credits::balance(&context, caller, chat, lang).await,
        ("menu", "statement") => credits::statement(&context, caller, chat, lang).await,
        ("menu", "buy") => paying::catalogue(&context, chat, lang).await,
        ("buy", what) => paying::buy(&context, caller, chat, message_id.0, what, lang).await,
        ("menu", "referral") => menu::referral(&context, caller, chat, lang).await,
        ("menu", "support") => support::begin(&context, caller, chat, lang).await,
        ("menu", "help") => menu::help(&context, caller, chat, lang).await,
        ("order", id) => orders::card(&context, caller, chat, id, lang).await,
        ("ticket", id) => support::open_existing(&context, caller, chat, id, lang).await,
        ("act", what) => orders::act(&context, caller, chat, what, lang).await,
        ("pay", order) => paying::order(&context, caller, chat, message_id.0, order, lang).await,
        ("submit", _) => orders::submit(&context, caller, chat, lang).await,
        ("review", what) => orders::review(&context, caller, chat, what, lang).await,
        ("brief", what) => brief::button(&context, caller, chat, what, lang).await,
        ("admin", "stats") => admin::stats(&context, caller, chat, lang).await,
        ("admin", "users") => admin::users(&context, caller, chat, "", lang).await,
        ("admin", "to_price") => {
            order_lists::list(&context, caller, chat, List::ToPrice, lang).await
        }
        ("users", "more") => admin::more(&context, caller, chat, lang).await,
        ("user", id) => admin::card(&context, caller, chat, id, lang).await,
        ("ua", what) => admin::act(&context, caller, chat, what, lang).await,
        ("admin", "broadcast") => broadcast::begin(&context, caller, chat, "", lang).await,
        ("bc", what) => broadcast::button(&context, caller, chat, what, lang).await,
        ("tk", what) => desk::act(&context, caller, chat, what, lang).await,
        ("asg", what) => assign::act(&context, caller, chat, what, lang).await,
        ("tr", what) => support::rate(&context, caller, chat, what, lang).await,
        ("menu", "queue") => desk::queue(&context, caller, chat, lang).await,
        ("menu", "admin") => admin::menu(&context, caller, chat, lang).await,
        ("menu", "book") => booking::begin(&context, chat, lang).await,
        ("bk", what) => booking::button(&context, caller, chat, what, lang).await,
        ("menu", "faq") => faq::categories(&context, chat, lang).await,
        ("faq", what) => faq::button(&context, caller, chat, what, lang).await,
        ("rv", what) => reviews::moderate(&context, caller, chat, what, lang).await,
        ("ap", what) => applications::decide(&context, caller, chat, what, lang).await,
        ("admin", "applications") => applications::pending(&context, caller, chat, lang).await,
        ("support", category) => support::pick(&context, chat, category, lang).await,
        ("gen", what) => generate::button(&context, caller, chat, what, lang).await,
        ("ai", what) => assistant::button(&context, caller, chat, what, lang).await,
        _ => Ok(()),
    }
}

/// The current time, for the use cases.
fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}

#[cfg(test)]
mod tests {
    use super::command_of;

    #[test]
    fn commands_are_read_with_their_argument_and_addressee() {
        assert_eq!(
            command_of("/start ref_ab", "shop_bot"),
            Some(("start", "ref_ab"))
        );
        assert_eq!(command_of("/help@Shop_Bot", "shop_bot"), Some(("help", "")));
        assert_eq!(command_of("/help@other_bot", "shop_bot"), None);
        assert_eq!(command_of("hello", "shop_bot"), None);
    }
}
