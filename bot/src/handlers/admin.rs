//! Admins in the bot: the `/admin` menu, `/stats` from the analytics read model,
//! finding users (`/find_user`, `/users` with filters, page by page), a user's card
//! with block, unblock and role buttons, and `/role @user ROLE`. Who may do what the
//! core decides; a refusal is answered in words.

use chrono::{Duration, Utc};
use domain::permissions::{Action, Caller, Role};
use domain::use_cases::users::UserChange;
use projections::read_models::paging::Page;
use projections::read_models::users::{UserFilter, UserView};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::{BotContext, HandlerResult, now};
use crate::dialogue::{self, Step};
use crate::html::escape;
use crate::notices::role_name;
use crate::texts::{self, Lang, fill};

const PAGE_LENGTH: i64 = 10;
/// The roles an admin hands out from a user's card.
const ROLES: [Role; 4] = [Role::Client, Role::Executor, Role::Support, Role::Admin];

pub async fn menu(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    if !caller.may(Action::ViewUsers) {
        return context.say(chat, texts::admin_only(lang)).await;
    }
    let button = |label: &str, data: &str| InlineKeyboardButton::callback(label, data);
    let mut rows = vec![
        vec![button(texts::button_stats(lang), "admin:stats")],
        vec![button(texts::button_users(lang), "admin:users")],
        vec![button(texts::button_to_price(lang), "admin:to_price")],
        vec![button(
            texts::button_applications(lang),
            "admin:applications",
        )],
    ];
    if caller.may(Action::SendBroadcast) {
        rows.push(vec![button(
            texts::button_broadcast(lang),
            "admin:broadcast",
        )]);
    }
    let keyboard = InlineKeyboardMarkup::new(rows);
    context
        .say_with(chat, texts::admin_menu(lang), keyboard)
        .await
}

/// `/stats`: today, the last 7 and the last 30 days (UTC days, as the read model).
pub async fn stats(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let today = Utc::now().date_naive();
    let mut text = texts::stats_title(lang).to_owned();
    for (label, days) in [
        (texts::stats_today(lang), 0),
        (texts::stats_week(lang), 6),
        (texts::stats_month(lang), 29),
    ] {
        let from = today - Duration::days(days);
        let summary = match context.reads.analytics(caller, from, today).await {
            Ok(summary) => summary,
            Err(error) => return context.refused(chat, lang, error).await,
        };
        text.push_str(&fill(
            texts::stats_block(lang),
            &[
                ("label", label.to_owned()),
                ("placed", summary.orders_placed.to_string()),
                ("paid", summary.orders_paid.to_string()),
                ("completed", summary.orders_completed.to_string()),
                ("cancelled", summary.orders_cancelled.to_string()),
                ("revenue", format!("{:.2}", summary.revenue)),
                ("refunds", format!("{:.2}", summary.refunds)),
                ("tickets", summary.tickets_opened.to_string()),
                ("resolved", summary.tickets_resolved.to_string()),
                ("users", summary.new_users.to_string()),
            ],
        ));
    }
    context.say(chat, &text).await
}

/// `/find_user <name, @username or Telegram id>`.
pub async fn find(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    query: &str,
    lang: Lang,
) -> HandlerResult {
    let query = query.trim().trim_start_matches('@');
    if query.is_empty() {
        return context.say(chat, texts::find_user_how(lang)).await;
    }
    let filter = UserFilter {
        text: Some(query.to_owned()),
        ..UserFilter::default()
    };
    list(context, caller, chat, filter, None, lang).await
}

/// `/users [role=…] [tier=…] [blocked|active]`.
pub async fn users(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    arguments: &str,
    lang: Lang,
) -> HandlerResult {
    let mut filter = UserFilter::default();
    for word in arguments.split_whitespace() {
        match word.split_once('=') {
            Some(("role", role)) => filter.role = Some(role.to_owned()),
            Some(("tier", tier)) => filter.loyalty_tier = Some(tier.to_owned()),
            None if word == "blocked" => filter.blocked = Some(true),
            None if word == "active" => filter.blocked = Some(false),
            _ => return context.say(chat, texts::users_how(lang)).await,
        }
    }
    list(context, caller, chat, filter, None, lang).await
}

/// "More" under a list: the next page of the list kept in the dialogue.
pub async fn more(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    match dialogue::current(context.pool(), chat).await? {
        Some(Step::UserList { filter, next }) => {
            list(context, caller, chat, filter, Some(next), lang).await
        }
        _ => context.say(chat, texts::brief_not_now(lang)).await,
    }
}

async fn list(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    filter: UserFilter,
    before: Option<String>,
    lang: Lang,
) -> HandlerResult {
    let page = Page::new(Some(PAGE_LENGTH), before.as_deref())?;
    let found = match context.reads.users(caller, &filter, &page).await {
        Ok(found) => found,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    if found.items.is_empty() {
        return context.say(chat, texts::users_none(lang)).await;
    }
    let mut text = texts::users_title(lang).to_owned();
    let mut rows = Vec::new();
    for user in &found.items {
        text.push('\n');
        text.push_str(&line(user, lang));
        let label: String = user.first_name.chars().take(30).collect();
        rows.push(vec![InlineKeyboardButton::callback(
            label,
            format!("user:{}", user.user_id),
        )]);
    }
    match found.next_cursor {
        Some(next) => {
            dialogue::enter(context.pool(), chat, &Step::UserList { filter, next }).await?;
            rows.push(vec![InlineKeyboardButton::callback(
                texts::button_more(lang),
                "users:more",
            )]);
        }
        None => dialogue::leave(context.pool(), chat).await?,
    }
    let keyboard = InlineKeyboardMarkup::new(rows);
    context.say_with(chat, &text, keyboard).await
}

fn line(user: &UserView, lang: Lang) -> String {
    let username = user
        .username
        .as_ref()
        .map(|name| format!(" @{}", escape(name)))
        .unwrap_or_default();
    let blocked = if user.blocked {
        texts::user_blocked_mark(lang)
    } else {
        ""
    };
    format!(
        "• {}{username} — {}{blocked}",
        escape(&user.first_name),
        escape(role_name(&user.role, lang))
    )
}

/// `user:<id>`: the card with what an admin can do.
pub async fn card(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    user_id: &str,
    lang: Lang,
) -> HandlerResult {
    let found = match context.reads.user(caller, user_id, None).await {
        Ok(found) => found,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let Some(user) = found else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    let text = fill(
        texts::user_card(lang),
        &[
            ("line", line(&user, lang)),
            ("telegram_id", user.telegram_id.to_string()),
            ("paid", escape(&user.total_paid)),
            ("tier", escape(user.loyalty_tier.as_deref().unwrap_or("—"))),
            ("since", user.registered_at.format("%d.%m.%Y").to_string()),
        ],
    );
    let id = &user.user_id;
    let block = if user.blocked {
        InlineKeyboardButton::callback(texts::button_unblock(lang), format!("ua:{id}:unblock"))
    } else {
        InlineKeyboardButton::callback(texts::button_block(lang), format!("ua:{id}:block"))
    };
    let roles: Vec<InlineKeyboardButton> = ROLES
        .iter()
        .filter(|role| domain::wire::wire_name(*role) != user.role)
        .map(|role| {
            let name = domain::wire::wire_name(role);
            InlineKeyboardButton::callback(
                role_name(&name, lang).to_owned(),
                format!("ua:{id}:role:{name}"),
            )
        })
        .collect();
    let keyboard = InlineKeyboardMarkup::new([vec![block], roles]);
    context.say_with(chat, &text, keyboard).await
}

/// `ua:<user>:block`, `ua:<user>:unblock`, `ua:<user>:role:<role>`.
pub async fn act(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some((user, change)) = what.split_once(':') else {
        return Ok(());
    };
    let Ok(user_id) = user.parse::<Uuid>() else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    let change = match change.split_once(':').unwrap_or((change, "")) {
        ("block", _) => UserChange::Block {
            reason: texts::blocked_from_bot(lang).to_owned(),
        },
        ("unblock", _) => UserChange::Unblock,
        ("role", role) => match Role::named(role) {
            Some(role) => UserChange::Role(role),
            None => return context.say(chat, texts::role_how(lang)).await,
        },
        _ => return Ok(()),
    };
    change_user(context, caller, chat, user_id, change, lang).await
}

/// `/role @username ROLE`.
pub async fn role(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    arguments: &str,
    lang: Lang,
) -> HandlerResult {
    let mut words = arguments.split_whitespace();
    let (Some(who), Some(role), None) = (words.next(), words.next(), words.next()) else {
        return context.say(chat, texts::role_how(lang)).await;
    };
    let Some(role) = Role::named(&role.to_ascii_lowercase()) else {
        return context.say(chat, texts::role_how(lang)).await;
    };
    let found = match context.reads.user_by_handle(caller, who).await {
        Ok(found) => found,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let Some(user_id) = found.and_then(|user| user.user_id.parse::<Uuid>().ok()) else {
        return context.say(chat, texts::users_none(lang)).await;
    };
    change_user(context, caller, chat, user_id, UserChange::Role(role), lang).await
}

async fn change_user(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    user_id: Uuid,
    change: UserChange,
    lang: Lang,
) -> HandlerResult {
    let written = match context
        .core
        .change_user(caller, user_id, change, now())
        .await
    {
        Ok(written) => written,
        Err(error) => return context.refused(chat, lang, error).await,
    };
    let id = user_id.to_string();
    match context.reads.user(caller, &id, Some(&written)).await? {
        Some(user) => {
            let text = fill(texts::user_changed(lang), &[("line", line(&user, lang))]);
            context.say(chat, &text).await
        }
        None => Ok(()),
    }
}
