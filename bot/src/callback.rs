//! Button data that more than one part of the bot writes: the "assign" button (under
//! an order's or a ticket's card, and under the staff group's notices), with ids
//! written short (base64 of the UUID's bytes, 22 characters) so that
//! `asg:<o|t>:<id>:<user>` fits Telegram's 64 bytes of callback data.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use projections::read_models::users::assignees::Work;
use teloxide::types::InlineKeyboardButton;
use uuid::Uuid;

use crate::texts::{self, Lang};

/// The button that asks who takes `work` `id`.
pub fn assign_button(work: Work, id: Uuid, lang: Lang) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(
        texts::act_assign(lang),
        format!("asg:{}", work_id(work, id)),
    )
}

/// The button that gives `work` `id` to `user`, labelled `label`.
pub fn give_button(work: Work, id: Uuid, user: Uuid, label: String) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(label, format!("asg:{}:{}", work_id(work, id), short(user)))
}

/// Reads `<o|t>:<id>[:<user>]` (after `asg:`): `None` for data this version did not
/// write.
pub fn read_assign(data: &str) -> Option<(Work, Uuid, Option<Uuid>)> {
    let mut parts = data.split(':');
    let work = match parts.next()? {
        "o" => Work::Orders,
        "t" => Work::Tickets,
        _ => return None,
    };
    let id = from_short(parts.next()?)?;
    let user = match parts.next() {
        None => None,
        Some(user) => Some(from_short(user)?),
    };
    Some((work, id, user))
}

/// Reads `<choice>:<uuid>` (the moderation, application and FAQ buttons); `None`
/// for data this version did not write.
pub fn choice_and_id(data: &str) -> Option<(&str, Uuid)> {
    let (choice, id) = data.split_once(':')?;
    Some((choice, id.parse().ok()?))
}

fn work_id(work: Work, id: Uuid) -> String {
    let letter = match work {
        Work::Orders => "o",
        Work::Tickets => "t",
    };
    format!("{letter}:{}", short(id))
}

/// A UUID in 22 characters.
fn short(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn from_short(text: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    Uuid::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(button: &InlineKeyboardButton) -> String {
        match &button.kind {
            teloxide::types::InlineKeyboardButtonKind::CallbackData(data) => data.clone(),
            other => panic!("not a callback button: {other:?}"),
        }
    }

    #[test]
    fn assign_data_fits_the_limit_and_reads_back() {
        let (order, user) = (Uuid::now_v7(), Uuid::now_v7());
        let give = data(&give_button(Work::Orders, order, user, "Вера".into()));
        assert!(give.len() <= 64, "{} bytes", give.len());
        let read = give.strip_prefix("asg:").and_then(read_assign);
        assert_eq!(read, Some((Work::Orders, order, Some(user))));
        let ask = data(&assign_button(Work::Tickets, order, Lang::Ru));
        let read = ask.strip_prefix("asg:").and_then(read_assign);
        assert_eq!(read, Some((Work::Tickets, order, None)));
        assert_eq!(read_assign("o:not base64!"), None);
        assert_eq!(read_assign("o:AAAA"), None);
        assert_eq!(read_assign("x:AAAA"), None);
    }
}
