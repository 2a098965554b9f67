//! `/reviews`: the latest published reviews of completed orders. Admins see the
//! hidden ones too and hide or publish each.

use domain::permissions::{Action, Caller};
use projections::read_models::reviews::ReviewView;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::{BotContext, HandlerResult, now};
use crate::html::escape;
use crate::texts::{self, Lang, fill};

const SHOWN: i64 = 10;
const TEXT_SHOWN: usize = 300;

pub async fn list(context: &BotContext, caller: Caller, chat: i64, lang: Lang) -> HandlerResult {
    let reviews = context.reads.reviews(caller, SHOWN).await?;
    if reviews.is_empty() {
        return context.say(chat, texts::reviews_none(lang)).await;
    }
    if !caller.may(Action::ModerateReviews) {
        let lines: String = reviews.iter().map(|review| line(review, lang)).collect();
        let text = fill(texts::reviews_title(lang), &[("reviews", lines)]);
        return context.say(chat, &text).await;
    }
    // For moderators: one message per review, with its button.
    for review in &reviews {
        let (label, data) = if review.hidden {
            (
                texts::review_publish(lang),
                format!("rv:p:{}", review.order_id),
            )
        } else {
            (
                texts::review_hide(lang),
                format!("rv:h:{}", review.order_id),
            )
        };
        let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(label, data)]]);
        context
            .say_with(chat, &line(review, lang), keyboard)
            .await?;
    }
    Ok(())
}

fn line(review: &ReviewView, lang: Lang) -> String {
    let hidden = if review.hidden {
        texts::review_hidden_mark(lang)
    } else {
        ""
    };
    fill(
        texts::review_line(lang),
        &[
            (
                "stars",
                "⭐".repeat(usize::try_from(review.stars).unwrap_or(0)),
            ),
            ("title", escape(&review.title)),
            (
                "text",
                escape(&shortened(review.text.as_deref().unwrap_or(""))),
            ),
            ("hidden", hidden.to_owned()),
        ],
    )
}

/// At most `TEXT_SHOWN` characters of a review's text, so ten fit in one message.
fn shortened(text: &str) -> String {
    if text.chars().count() <= TEXT_SHOWN {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(TEXT_SHOWN).collect();
    short.push('…');
    short
}

/// `rv:h:<order>` (hide) or `rv:p:<order>` (publish again).
pub async fn moderate(
    context: &BotContext,
    caller: Caller,
    chat: i64,
    what: &str,
    lang: Lang,
) -> HandlerResult {
    let Some((choice, order_id)) = crate::callback::choice_and_id(what) else {
        return Ok(());
    };
    let hidden = choice == "h";
    match context
        .core
        .moderate_review(caller, order_id, hidden, now())
        .await
    {
        Ok(()) if hidden => context.say(chat, texts::review_hidden(lang)).await,
        Ok(()) => context.say(chat, texts::review_published(lang)).await,
        Err(error) => context.refused(chat, lang, error).await,
    }
}
