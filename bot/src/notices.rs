//! Notifications rendered as Telegram HTML: one text per template of the
//! notifications read model, in the recipient's language, every parameter escaped.

use domain::order::transitions::{Step, next};
use domain::order::{Kind, OrderStatus};
use projections::read_models::users::assignees::Work;
use serde_json::Value;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::callback::assign_button;
use crate::html::escape;
use crate::texts::{Lang, fill};

/// The message for `template` with `params`, or `None` for a template this version
/// does not know (sent as a plain notice naming it).
pub fn render(template: &str, params: &Value, lang: Lang) -> String {
    let text = match text_of(template, lang) {
        Some(text) => text,
        None => lang.pick("🔔 Обновление: {template}", "🔔 Update: {template}"),
    };
    let mut values: Vec<(&str, String)> = vec![("template", escape(template))];
    if let Some(object) = params.as_object() {
        for (key, value) in object {
            let shown = match (key.as_str(), value) {
                ("status", Value::String(status)) => status_name(status, lang).to_owned(),
                ("role", Value::String(role)) => role_name(role, lang).to_owned(),
                (_, Value::String(text)) => within_limit(text),
                (_, Value::Null) => String::new(),
                (_, other) => other.to_string(),
            };
            values.push((key.as_str(), escape(&shown)));
        }
    }
    fill(text, &values)
}

/// A parameter of at most `PARAMETER_LIMIT` UTF-16 units (as Telegram counts), cut
/// with "…": a notice stays within Telegram's 4096 and the open button shows the rest.
fn within_limit(text: &str) -> String {
    if text.encode_utf16().count() <= PARAMETER_LIMIT {
        return text.to_owned();
    }
    let mut units = 0;
    let mut cut: String = text
        .chars()
        .take_while(|c| {
            units += c.len_utf16();
            units < PARAMETER_LIMIT
        })
        .collect();
    cut.push('…');
    cut
}

/// The longest parameter a notice shows.
const PARAMETER_LIMIT: usize = 3_500;

/// The buttons under a notice: open the order or the ticket it is about; in the
/// staff group (`to_staff_group`), also take it and assign it while it waits for
/// someone: a ticket nobody holds, or a paid order of a kind the state machine hands
/// to executors (`domain::order::transitions`). The card then comes to the
/// presser's private chat.
pub fn buttons(
    template: &str,
    params: &Value,
    to_staff_group: bool,
    lang: Lang,
) -> Option<InlineKeyboardMarkup> {
    let assigned = params.get("assigned").and_then(Value::as_bool) == Some(true);
    // Whether the step is next for a paid order of the notice's kind (a notice
    // without its kind, written before it carried one, offers it: the core decides).
    let paid_order_offers = |step: Step| {
        template == "staff_order_paid"
            && match params.get("kind").filter(|kind| !kind.is_null()) {
                Some(kind) => serde_json::from_value::<Kind>(kind.clone())
                    .is_ok_and(|kind| next(kind, OrderStatus::Paid, step).is_some()),
                None => true,
            }
    };
    let (open, take, assign) = if let Some(order) = params.get("order_id").and_then(Value::as_str) {
        let id = order.parse().ok();
        (
            InlineKeyboardButton::callback(
                lang.pick("Открыть заказ", "Open the order"),
                format!("order:{order}"),
            ),
            paid_order_offers(Step::TakeOrder).then(|| format!("act:{order}:take")),
            id.filter(|_| paid_order_offers(Step::AssignExecutor))
                .map(|id| assign_button(Work::Orders, id, lang)),
        )
    } else {
        let ticket = params.get("ticket_id").and_then(Value::as_str)?;
        let waits = matches!(
            template,
            "staff_ticket_opened" | "staff_ticket_customer_message"
        );
        (
            InlineKeyboardButton::callback(
                lang.pick("Открыть обращение", "Open the ticket"),
                format!("ticket:{ticket}"),
            ),
            waits.then(|| format!("tk:{ticket}:t")),
            ticket
                .parse()
                .ok()
                .filter(|_| waits)
                .map(|id| assign_button(Work::Tickets, id, lang)),
        )
    };
    let mut row = vec![open];
    if to_staff_group && !assigned {
        if let Some(take) = take {
            row.push(InlineKeyboardButton::callback(
                lang.pick("🙋 Взять", "🙋 Take"),
                take,
            ));
        }
        row.extend(assign);
    }
    Some(InlineKeyboardMarkup::new([row]))
}

fn text_of(template: &str, lang: Lang) -> Option<&'static str> {
    let (ru, en) = match template {
        "order_placed" => (
            "🆕 Заказ «{title}» принят. Мы сообщим, когда будет цена.",
            "🆕 Order “{title}” is placed. We will tell you the price.",
        ),
        "staff_new_order" => (
            "🆕 Новый заказ «{title}» ({kind}).",
            "🆕 New order “{title}” ({kind}).",
        ),
        "master_new_booking" => ("📅 Новая запись «{title}».", "📅 New booking “{title}”."),
        "order_quoted" => (
            "💰 Цена заказа «{title}»: {price} ₽. Откройте заказ, чтобы принять и оплатить.",
            "💰 The price of “{title}” is {price} ₽. Open the order to accept and pay.",
        ),
        "staff_quote_accepted" => (
            "👍 Клиент принял цену заказа «{title}».",
            "👍 The customer accepted the price of “{title}”.",
        ),
        "order_paid" => (
            "✅ Заказ «{title}» оплачен: {amount} ₽.",
            "✅ “{title}” is paid: {amount} ₽.",
        ),
        "staff_order_paid" => (
            "✅ Оплачен заказ «{title}»: {amount} ₽.",
            "✅ Order “{title}” was paid: {amount} ₽.",
        ),
        "executor_order_assigned" => (
            "🧑‍💻 Вам назначен заказ «{title}».",
            "🧑‍💻 Order “{title}” is assigned to you.",
        ),
        "order_executor_assigned" => (
            "🧑‍💻 У заказа «{title}» есть исполнитель.",
            "🧑‍💻 Order “{title}” has an executor.",
        ),
        "order_result_ready" => (
            "📦 Результат по заказу «{title}» готов (файлов: {files}). Примите или попросите доработку.",
            "📦 The result of “{title}” is ready ({files} files). Accept it or ask for a revision.",
        ),
        "executor_revision_requested" => (
            "✏️ Доработка №{revision} по заказу «{title}»: {reason}",
            "✏️ Revision {revision} of “{title}”: {reason}",
        ),
        "executor_result_accepted" => (
            "🎉 Клиент принял результат по заказу «{title}».",
            "🎉 The customer accepted the result of “{title}”.",
        ),
        "order_shipped" => (
            "🚚 Заказ «{title}» отправлен. Трек: {tracking}",
            "🚚 “{title}” is shipped. Tracking: {tracking}",
        ),
        "order_completed_ask_review" => (
            "🙏 Заказ «{title}» выполнен. Оставьте, пожалуйста, отзыв.",
            "🙏 “{title}” is complete. Please leave a review.",
        ),
        "order_cancelled" => (
            "❌ Заказ «{title}» отменён: {reason}",
            "❌ “{title}” was cancelled: {reason}",
        ),
        "executor_order_cancelled" => (
            "❌ Заказ «{title}» отменён: {reason}",
            "❌ Order “{title}” was cancelled: {reason}",
        ),
        "booking_rescheduled" => (
            "🕑 Запись «{title}» перенесена на {starts_at}.",
            "🕑 Booking “{title}” moved to {starts_at}.",
        ),
        "master_booking_rescheduled" => (
            "🕑 Запись «{title}» перенесена на {starts_at}.",
            "🕑 Booking “{title}” moved to {starts_at}.",
        ),
        "staff_no_show" => ("🚫 Клиент не пришёл: «{title}».", "🚫 No-show: “{title}”."),
        "staff_order_reviewed" | "executor_order_reviewed" => (
            "⭐ Отзыв на «{title}»: {stars}/5 {text}",
            "⭐ Review of “{title}”: {stars}/5 {text}",
        ),
        "ticket_received" => (
            "🛟 Обращение «{title}» получено. Мы ответим здесь.",
            "🛟 Ticket “{title}” received. We will answer here.",
        ),
        "staff_ticket_opened" => (
            "🛟 Новое обращение «{title}» ({category}, {priority}).",
            "🛟 New ticket “{title}” ({category}, {priority}).",
        ),
        "ticket_reply" => (
            "💬 Поддержка, «{title}»:\n{text}",
            "💬 Support, “{title}”:\n{text}",
        ),
        "staff_ticket_customer_message" => (
            "💬 Клиент, «{title}»:\n{text}",
            "💬 Customer, “{title}”:\n{text}",
        ),
        "staff_ticket_assigned" => (
            "🛟 Вам назначено обращение «{title}».",
            "🛟 Ticket “{title}” is assigned to you.",
        ),
        "ticket_status_changed" => (
            "🛟 Обращение «{title}»: {status}.",
            "🛟 Ticket “{title}”: {status}.",
        ),
        "staff_ticket_rated" => (
            "⭐ Обращение «{title}» оценено на {stars}/5.",
            "⭐ Ticket “{title}” was rated {stars}/5.",
        ),
        "staff_ticket_unanswered" => (
            "⏰ Обращение «{title}» ждёт ответа с {waiting_since}.",
            "⏰ Ticket “{title}” has waited for an answer since {waiting_since}.",
        ),
        "generation_succeeded" => (
            "🎨 Изображение готово. Пришлите новые фото, чтобы сделать ещё.",
            "🎨 Your image is ready. Send new photos to make another.",
        ),
        "generation_failed" => (
            "😔 Изображение не получилось. {credits} кредит(а) возвращены на баланс.",
            "😔 The image could not be made. {credits} credit(s) went back to your balance.",
        ),
        "payment_received" => (
            "✅ Платёж на {amount} ₽ получен.",
            "✅ Payment of {amount} ₽ received.",
        ),
        "payment_canceled" => (
            "Платёж отменён: {reason}",
            "The payment was cancelled: {reason}",
        ),
        "refund_requested" => (
            "↩️ Оформляем возврат {amount} ₽.",
            "↩️ A refund of {amount} ₽ is on its way.",
        ),
        "refund_made" => ("↩️ Возврат {amount} ₽ выполнен.", "↩️ {amount} ₽ refunded."),
        "staff_refund_failed" => (
            "⚠️ Возврат {amount} ₽ не прошёл: {reason}",
            "⚠️ A refund of {amount} ₽ failed: {reason}",
        ),
        "credits_granted" => (
            "🎁 Начислено кредитов: {amount}.",
            "🎁 {amount} credits added.",
        ),
        "subscription_active" => (
            "⭐ Подписка {plan} активна до {until}.",
            "⭐ Plan {plan} is active until {until}.",
        ),
        "points_expired" => (
            "⌛ Сгорело баллов: {amount}.",
            "⌛ {amount} points expired.",
        ),
        "role_changed" => (
            "👤 Ваша роль теперь: {role}.",
            "👤 Your role is now: {role}.",
        ),
        "referral_joined" => (
            "🎉 По вашей ссылке зарегистрировался новый пользователь.",
            "🎉 Someone joined with your link.",
        ),
        "unblocked" => (
            "✅ Ваш аккаунт разблокирован.",
            "✅ Your account is unblocked.",
        ),
        "booking_reminder" | "master_booking_reminder" => (
            "⏰ Напоминание: «{title}» в {starts_at}.",
            "⏰ Reminder: “{title}” at {starts_at}.",
        ),
        _ => return None,
    };
    Some(lang.pick(ru, en))
}

/// An order's or a ticket's status in words.
pub fn status_name(status: &str, lang: Lang) -> &str {
    let (ru, en) = match status {
        "placed" => ("принят", "placed"),
        "quoted" => (
            "ждёт вашего согласия с ценой",
            "waiting for you to accept the price",
        ),
        "awaiting_payment" => ("ждёт оплаты", "awaiting payment"),
        "paid" => ("оплачен", "paid"),
        "assigned" => ("исполнитель назначен", "executor assigned"),
        "in_progress" => ("в работе", "in progress"),
        "submitted" => ("результат готов", "result ready"),
        "revision_requested" => ("на доработке", "being revised"),
        "accepted" => ("принят вами", "accepted"),
        "shipped" => ("отправлен", "shipped"),
        "delivered" => ("доставлен", "delivered"),
        "booked" => ("записаны", "booked"),
        "completed" => ("выполнен", "completed"),
        "cancelled" => ("отменён", "cancelled"),
        "no_show" => ("неявка", "no-show"),
        "open" => ("открыто", "open"),
        "waiting_for_customer" => ("ждёт вашего ответа", "waiting for your answer"),
        "resolved" => ("решено", "resolved"),
        "closed" => ("закрыто", "closed"),
        _ => return status,
    };
    lang.pick(ru, en)
}

/// A role in words.
pub fn role_name(role: &str, lang: Lang) -> &str {
    let (ru, en) = match role {
        "client" => ("клиент", "customer"),
        "executor" => ("исполнитель", "executor"),
        "support" => ("поддержка", "support"),
        "admin" => ("администратор", "administrator"),
        "owner" => ("владелец", "owner"),
        _ => return role,
    };
    lang.pick(ru, en)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_are_escaped_and_missing_ones_left_out() {
        let text = render(
            "ticket_reply",
            &json!({"title": "<b>Заказ</b>", "text": "a & b"}),
            Lang::Ru,
        );
        assert_eq!(text, "💬 Поддержка, «&lt;b&gt;Заказ&lt;/b&gt;»:\na &amp; b");
        let text = render("order_cancelled", &json!({"title": "X"}), Lang::En);
        assert_eq!(text, "❌ “X” was cancelled: ");
    }

    fn button_data(params: Value, template: &str, to_group: bool) -> Vec<String> {
        let keyboard = buttons(template, &params, to_group, Lang::Ru).expect("buttons");
        keyboard
            .inline_keyboard
            .concat()
            .into_iter()
            .filter_map(|button| match button.kind {
                teloxide::types::InlineKeyboardButtonKind::CallbackData(data) => {
                    Some(data.split(':').take(2).collect::<Vec<_>>().join(":"))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_staff_group_is_offered_take_and_assign_only_for_work_waiting_for_someone() {
        let order = "0190f0f0-0000-7000-8000-000000000001";
        let paid = |kind: Value, assigned: bool| json!({"order_id": order, "title": "X", "kind": kind, "assigned": assigned});
        let handed = [
            "order:".to_owned() + order,
            "act:".to_owned() + order,
            "asg:o".to_owned(),
        ];
        let paid_coursework = paid(json!("coursework"), false);
        assert_eq!(
            button_data(paid_coursework.clone(), "staff_order_paid", true),
            handed
        );
        assert_eq!(
            button_data(paid_coursework, "staff_order_paid", false),
            [format!("order:{order}")],
            "not in a private chat"
        );
        for (kind, assigned) in [
            (json!("booking"), false),
            (json!("shop"), false),
            (json!("coursework"), true),
        ] {
            assert_eq!(
                button_data(paid(kind.clone(), assigned), "staff_order_paid", true),
                [format!("order:{order}")],
                "{kind} assigned {assigned}"
            );
        }
        assert_eq!(
            button_data(json!({"order_id": order}), "staff_order_paid", true),
            handed,
            "a notice from before kinds were kept offers them; the core decides"
        );
        assert_eq!(
            button_data(json!({"order_id": order}), "staff_new_order", true),
            [format!("order:{order}")]
        );
        let ticket = json!({"ticket_id": order, "assigned": false});
        assert_eq!(
            button_data(ticket, "staff_ticket_customer_message", true),
            [
                "ticket:".to_owned() + order,
                "tk:".to_owned() + order,
                "asg:t".to_owned()
            ]
        );
        let held = json!({"ticket_id": order, "assigned": true});
        assert_eq!(
            button_data(held, "staff_ticket_customer_message", true),
            ["ticket:".to_owned() + order]
        );
    }

    #[test]
    fn an_unknown_template_is_still_a_notice() {
        assert_eq!(
            render("new_thing", &json!({}), Lang::En),
            "🔔 Update: new_thing"
        );
    }

    #[test]
    fn a_long_message_is_cut_within_telegrams_limit() {
        let long = "😀".repeat(3_000);
        let text = render(
            "staff_ticket_customer_message",
            &json!({"title": "T", "text": long}),
            Lang::Ru,
        );
        assert!(text.encode_utf16().count() <= 4_096);
        assert!(text.ends_with('…'));
        let short = render(
            "staff_ticket_customer_message",
            &json!({"title": "T", "text": "ok"}),
            Lang::Ru,
        );
        assert!(short.ends_with("ok"));
    }
}
