//! Paying from the bot: an order waiting for its money, a credit pack or a plan of
//! the catalogue. Each starts a payment through the payments use case (priced there,
//! never here) and sends its confirmation link. The key is what is paid for and the
//! message whose button was pressed, so pressing again gives the same payment and a
//! new card may start a new one after a failed attempt.

use domain::permissions::Caller;
use domain::use_cases::payments::{PaymentOrder, PurposeRequest, StartedPayment};
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use uuid::Uuid;

use super::{BotContext, HandlerResult};
use crate::html::escape;
use crate::outgoing::Pace;
use crate::texts::{self, Lang, fill};

/// `pay:<order>`.
pub async fn order(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    card_message: i32,
    order: &str,
    lang: Lang,
) -> HandlerResult {
    let Ok(order_id) = order.parse::<Uuid>() else {
        return context.say(chat, texts::not_found(lang)).await;
    };
    let purpose = PurposeRequest::Order { order_id };
    let key = format!("bot:{order_id}:{card_message}");
    let Some(started) = start(context, caller, chat, purpose, key, lang).await? else {
        return Ok(());
    };
    let shown = context.reads.order(caller, order, None).await?;
    let (title, amount) = shown
        .map(|order| (order.order.title, order.order.price.unwrap_or_default()))
        .unwrap_or_default();
    send_link(context, chat, started, &title, &amount, lang).await
}

/// The catalogue: a button per credit pack and plan.
pub async fn catalogue(context: &BotContext, chat: i64, lang: Lang) -> HandlerResult {
    let catalogue = &context.core.offer.catalogue;
    let mut rows: Vec<Vec<InlineKeyboardButton>> = catalogue
        .packs
        .iter()
        .map(|pack| {
            let label = fill(
                texts::pack_button(lang),
                &[
                    ("credits", pack.credits.to_string()),
                    ("price", pack.price.to_string()),
                ],
            );
            vec![InlineKeyboardButton::callback(
                label,
                format!("buy:pack:{}", pack.id),
            )]
        })
        .collect();
    rows.extend(catalogue.plans.iter().map(|plan| {
        let label = fill(
            texts::plan_button(lang),
            &[
                ("credits", plan.credits_per_period.to_string()),
                ("days", plan.period_days.to_string()),
                ("price", plan.price.to_string()),
            ],
        );
        vec![InlineKeyboardButton::callback(
            label,
            format!("buy:plan:{}", plan.id),
        )]
    }));
    if rows.is_empty() {
        return context.say(chat, texts::catalogue_empty(lang)).await;
    }
    context
        .out
        .html(
            chat,
            texts::catalogue_title(lang),
            Some(InlineKeyboardMarkup::new(rows)),
            Pace::Reply,
        )
        .await?;
    Ok(())
}

/// `buy:pack:<id>` or `buy:plan:<id>`.
pub async fn buy(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    message: i32,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let catalogue = &context.core.offer.catalogue;
    let (purpose, title, amount) = match what.split_once(':') {
        Some(("pack", id)) => {
            let Some(pack) = catalogue.pack(id) else {
                return context.say(chat, texts::not_found(lang)).await;
            };
            let title = fill(
                texts::pack_title(lang),
                &[("credits", pack.credits.to_string())],
            );
            let purpose = PurposeRequest::CreditPack {
                pack: pack.id.clone(),
            };
            (purpose, title, pack.price.to_string())
        }
        Some(("plan", id)) => {
            let Some(plan) = catalogue.plan(id) else {
                return context.say(chat, texts::not_found(lang)).await;
            };
            let title = fill(texts::plan_title(lang), &[("plan", plan.id.clone())]);
            let purpose = PurposeRequest::Subscription {
                plan: plan.id.clone(),
            };
            (purpose, title, plan.price.to_string())
        }
        _ => return Ok(()),
    };
    let key = format!("bot:{what}:{message}");
    let Some(started) = start(context, caller, chat, purpose, key, lang).await? else {
        return Ok(());
    };
    send_link(context, chat, started, &title, &amount, lang).await
}

/// The payment, or `None` when the core refused it (the user was told why).
async fn start(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    purpose: PurposeRequest,
    idempotence_key: String,
    lang: Lang,
) -> Result<Option<StartedPayment>, crate::runner::BotError> {
    let request = PaymentOrder {
        purpose,
        idempotence_key,
        payer_kind: None,
        customer_email: None,
        customer_phone: None,
    };
    match context.core.start_payment(caller, request).await {
        Ok(started) => Ok(Some(started)),
        Err(error) => {
            context.refused(chat, lang, error).await?;
            Ok(None)
        }
    }
}

async fn send_link(
    context: &BotContext,
    chat: i64,
    started: StartedPayment,
    title: &str,
    amount: &str,
    lang: Lang,
) -> HandlerResult {
    let Some(url) = started.confirmation_url.and_then(|url| url.parse().ok()) else {
        return context.say(chat, texts::pay_no_link(lang)).await;
    };
    let sandbox = if started.sandbox {
        texts::pay_sandbox(lang)
    } else {
        ""
    };
    let text = fill(
        texts::pay_link(lang),
        &[
            ("title", escape(title)),
            ("amount", escape(amount)),
            ("sandbox", sandbox.to_owned()),
        ],
    );
    let keyboard =
        InlineKeyboardMarkup::new([[InlineKeyboardButton::url(texts::pay_button(lang), url)]]);
    context.say_with(chat, &text, keyboard).await
}
