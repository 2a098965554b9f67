//! Every text the bot says, in Russian (the default) and English (for users whose
//! Telegram language is English). Placeholders `{name}` are filled by the caller with
//! strings already escaped for HTML.

/// The language a user is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

impl Lang {
    /// English for an `en…` language tag, Russian otherwise.
    pub fn of(language: Option<&str>) -> Lang {
        match language {
            Some(tag) if tag.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Ru,
        }
    }

    /// Picks the text of this language.
    pub fn pick(self, ru: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}

/// Fills the `{key}` placeholders of `template` with `values` (already escaped), in
/// one pass: a value is never scanned for placeholders, and a placeholder with no
/// value is left out.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut text = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let key_end = after.find(|c: char| !(c.is_ascii_lowercase() || c == '_'));
        match key_end {
            Some(end) if end > 0 && after[end..].starts_with('}') => {
                let key = &after[..end];
                if let Some((_, value)) = values.iter().find(|(name, _)| *name == key) {
                    text.push_str(value);
                }
                rest = &after[end + 1..];
            }
            _ => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

macro_rules! texts {
    ($($name:ident => $ru:expr, $en:expr;)*) => {
        $(
            pub fn $name(lang: Lang) -> &'static str {
                lang.pick($ru, $en)
            }
        )*
    };
}

texts! {
    consent =>
        "Здравствуйте! Чтобы пользоваться ботом, примите условия сервиса (версия {version}).{link}\n\nМы храним ваше имя и Telegram id, чтобы вести ваши заказы, платежи и обращения.",
        "Hello! To use the bot, please accept the terms of service (version {version}).{link}\n\nWe keep your name and Telegram id to run your orders, payments and tickets.";
    consent_button => "Принимаю условия", "I accept the terms";
    terms_link => "\nУсловия: {url}", "\nTerms: {url}";
    welcome => "Добро пожаловать, {name}! Выберите, что нужно:", "Welcome, {name}! What would you like to do?";
    help =>
        "Что умеет бот:\n/start — главное меню\n/neworder — новый заказ\n/book — записаться в салон\n/orders — мои заказы\n/balance — баланс кредитов\n/statement — выписка по кредитам\n/buy — купить кредиты\n/referral — моя реферальная ссылка\n/faq — частые вопросы\n/ask — спросить помощника\n/reviews — отзывы\n/apply — стать исполнителем\n/support — написать в поддержку\n/ticket — статус обращения\n/cancel — выйти из текущего шага\n/help — эта справка",
        "What the bot does:\n/start — main menu\n/neworder — a new order\n/book — book the salon\n/orders — my orders\n/balance — my credit balance\n/statement — my credit statement\n/buy — buy credits\n/referral — my referral link\n/faq — frequently asked questions\n/ask — ask the assistant\n/reviews — reviews\n/apply — become an executor\n/support — write to support\n/ticket — my ticket's status\n/cancel — leave the current step\n/help — this help";
    staff_help =>
        "\n\nДля сотрудников:\n/pool — свободные оплаченные заказы\n/mywork — мои заказы в работе\n/today, /tomorrow — мои записи (мастерам)\n/queue — очередь обращений\n/admin — управление (для администраторов)\n/applications — заявки исполнителей\n/faq_add Тема | Вопрос | Ответ — добавить в частые вопросы\nВход с компьютера — откройте ссылку входа, показанную на компьютере.",
        "\n\nFor staff:\n/pool — paid orders nobody has taken\n/mywork — orders I work on\n/today, /tomorrow — my bookings (masters)\n/queue — the ticket queue\n/admin — administration (administrators)\n/applications — executor applications\n/faq_add Topic | Question | Answer — add to the FAQ\nTo sign in on a computer, open the login link it shows.";
    button_orders => "📋 Мои заказы", "📋 My orders";
    button_balance => "💳 Баланс", "💳 Balance";
    button_referral => "🎁 Пригласить друга", "🎁 Invite a friend";
    button_support => "🛟 Поддержка", "🛟 Support";
    button_help => "❓ Помощь", "❓ Help";
    button_app => "📱 Открыть приложение", "📱 Open the app";
    menu_button_app => "Приложение", "App";
    not_registered => "Сначала нажмите /start.", "Please press /start first.";
    blocked =>
        "Ваш аккаунт заблокирован. Если это ошибка, напишите администратору.",
        "Your account is blocked. If this is a mistake, please contact the administrator.";
    apology =>
        "Извините, что-то пошло не так. Мы уже разбираемся (код ошибки {id}). Попробуйте ещё раз чуть позже.",
        "Sorry, something went wrong. We are looking into it (error id {id}). Please try again a little later.";
    owner_alert => "⚠️ Ошибка в боте, id {id}:\n<code>{error}</code>", "⚠️ Bot error, id {id}:\n<code>{error}</code>";
    unknown_command => "Не знаю такой команды. /help покажет, что я умею.", "I don't know that command. /help shows what I can do.";
    generation_what => "Что сделать с фото?\n👗 <b>Примерка</b>: пришлите потом фото одежды.\n✏️ <b>Редактирование</b>: напишите, что изменить.", "What shall I do with the photo?\n👗 <b>Fitting</b>: send the garment's photo next.\n✏️ <b>Editing</b>: write what to change.";
    generation_send_photo => "Пришлите фото, с которым работать.", "Send the photo to work with.";
    generation_send_garment => "Теперь пришлите фото одежды.", "Now send the garment's photo.";
    generation_say_change => "Напишите, что изменить на фото.", "Write what to change in the photo.";
    generation_started => "🎨 Генерирую… Списано кредитов: {credits}. Я напишу, когда будет готово.", "🎨 Generating… {credits} credit(s) spent. I will write when it is ready.";
    assistant_button => "🤖 Подобрать с помощником", "🤖 Work it out with the assistant";
    assistant_editing_hello => "🤖 Опишите, что хотите получить. Я предложу три варианта — нажмите понравившийся, и я начну. Каждый ответ помощника стоит кредитов: {credits}. /cancel — выйти.", "🤖 Describe what you want. I will suggest three versions: press the one you like and I will start. Each answer costs {credits} credit(s). /cancel to leave.";
    assistant_study_hello => "🤖 Задайте вопрос — отвечу по нашим частым вопросам. Если не помогу, позову человека. /cancel — выйти.", "🤖 Ask your question: I answer from our FAQ. If I can't help, I will call a person. /cancel to leave.";
    assistant_person_button => "👤 Позвать человека", "👤 Call a person";
    assistant_reset_button => "🔄 Новый чат", "🔄 New chat";
    assistant_reset_done => "🔄 Начали заново: прежний разговор я не помню.", "🔄 Started over: I don't remember the earlier chat.";
    assistant_handed_over => "👤 Передал ваш вопрос в поддержку — ответ придёт сюда. /ticket покажет обращение.", "👤 Your question went to support; the answer will come here. /ticket shows it.";
    assistant_gone => "Этот разговор уже закончен. Начните новый: /ask или пришлите фото.", "That chat is over. Start a new one: /ask, or send a photo.";
    assistant_not_offered => "Помощник здесь не подключён. Напишите в поддержку: /support", "The assistant is not offered here. Write to support: /support";
    assistant_text_only => "С помощником — только текстом. Новое фото — после /cancel.", "The assistant takes text only. For a new photo, /cancel first.";
    generation_no_credits => "Не хватает кредитов. Пополните баланс: /buy", "Not enough credits. Top up: /buy";
    just_text => "Выберите действие в меню или напишите /support, чтобы задать вопрос.", "Pick something from the menu, or write /support to ask a question.";
    refused => "Не получилось: {reason}", "That didn't work: {reason}";
    cancelled => "Хорошо, отменено.", "OK, cancelled.";
    orders_none => "У вас пока нет заказов.", "You have no orders yet.";
    orders_title => "Ваши заказы:", "Your orders:";
    order_line => "• <b>{title}</b> — {status}{price}", "• <b>{title}</b> — {status}{price}";
    order_card =>
        "<b>{title}</b>\nСтатус: {status}\nЦена: {price}\nОплачено: {paid}\n\nИстория:\n{timeline}",
        "<b>{title}</b>\nStatus: {status}\nPrice: {price}\nPaid: {paid}\n\nHistory:\n{timeline}";
    not_found => "Не нашёл такого — возможно, он не ваш.", "I couldn't find that — perhaps it isn't yours.";
    balance =>
        "Баланс: <b>{balance}</b> кредитов\nПолучено: {granted}, потрачено: {spent}{expiring}",
        "Balance: <b>{balance}</b> credits\nReceived: {granted}, spent: {spent}{expiring}";
    expiring => "\nСгорят скоро: {amount} (до {date})", "\nExpiring soon: {amount} (by {date})";
    referral =>
        "Ваша ссылка для друзей:\n{link}\n\nПриглашено: {count}, заработано кредитов: {earned}",
        "Your link for friends:\n{link}\n\nJoined: {count}, credits earned: {earned}";
    referral_code_only => "Ваш реферальный код: <code>{code}</code>", "Your referral code: <code>{code}</code>";
    support_pick_category => "О чём ваш вопрос?", "What is your question about?";
    support_ask => "Опишите вопрос одним сообщением — я передам его в поддержку.", "Describe your question in one message and I will pass it to support.";
    ticket_opened =>
        "Обращение «{title}» создано. Пишите сюда — все сообщения попадут в обращение, ответ придёт в этот чат. /cancel — закончить.",
        "Ticket “{title}” is open. Keep writing here: every message goes to the ticket and the answer comes to this chat. /cancel to stop.";
    ticket_message_sent => "✉️ Передано в поддержку.", "✉️ Sent to support.";
    ticket_none => "У вас нет открытых обращений. /support — задать вопрос.", "You have no open tickets. /support to ask a question.";
    ticket_status =>
        "Обращение «{title}»: {status}, сообщений: {messages}.",
        "Ticket “{title}”: {status}, messages: {messages}.";
    button_new_order => "📝 Новый заказ", "📝 New order";
    button_work => "🧰 Пул заказов", "🧰 Order pool";
    button_queue => "🛟 Очередь", "🛟 Queue";
    button_admin => "⚙️ Управление", "⚙️ Admin";
    brief_work_type => "Какая работа нужна? Выберите или напишите своими словами.", "What kind of work do you need? Pick one or type it in.";
    brief_subject => "Предмет или тема работы?", "The subject or topic of the work?";
    brief_volume => "Объём — сколько страниц (числом)?", "How many pages (a number)?";
    brief_volume_bad => "Напишите объём числом от 1 до 10000.", "Please give the volume as a number from 1 to 10000.";
    brief_deadline => "К какому сроку? Дата в виде ДД.ММ.ГГГГ.", "By when? A date like DD.MM.YYYY.";
    brief_deadline_bad => "Не понял дату. Напишите её как 25.12.2026.", "I couldn't read that date. Write it like 25.12.2026.";
    brief_files => "Пришлите материалы файлами, если есть. Когда всё — нажмите «Готово».", "Send any materials as files. When you're done, press “Done”.";
    brief_file_added => "📎 Получено файлов: {count}. Ещё или «Готово».", "📎 Files received: {count}. More, or “Done”.";
    brief_files_full => "Больше 20 файлов приложить нельзя — нажмите «Готово».", "No more than 20 files — press “Done”.";
    brief_done_button => "✅ Готово", "✅ Done";
    brief_summary =>
        "Проверьте заказ:\n<b>{work_type}</b> — {subject}\nОбъём: {volume} стр.\nСрок: {deadline}\nФайлов: {files}",
        "Please check your order:\n<b>{work_type}</b> — {subject}\nVolume: {volume} pages\nDeadline: {deadline}\nFiles: {files}";
    brief_place_button => "📨 Отправить заказ", "📨 Place the order";
    brief_cancel_button => "✖️ Отменить", "✖️ Cancel";
    brief_placed => "Заказ «{title}» отправлен. Мы пришлём цену сюда.", "Order “{title}” is placed. We will send the price here.";
    brief_not_now => "Этот шаг уже закончен. /neworder — начать новый заказ.", "That step is over. /neworder starts a new order.";
    work_types => "Курсовая|Реферат|Эссе|Контрольная|Дипломная", "Term paper|Report|Essay|Test|Thesis";
    act_accept_quote => "👍 Принять цену", "👍 Accept the price";
    act_pay => "💳 Оплатить", "💳 Pay";
    act_accept => "✅ Принять работу", "✅ Accept the work";
    act_revision => "🔁 На доработку", "🔁 Ask for a revision";
    act_review => "⭐ Оценить", "⭐ Review";
    act_take => "🙋 Взять заказ", "🙋 Take the order";
    act_start => "▶️ Начать работу", "▶️ Start work";
    act_submit => "📤 Сдать результат", "📤 Submit the result";
    act_quote => "💰 Назначить цену", "💰 Set the price";
    act_done => "Готово: {status}.", "Done: {status}.";
    pay_link => "Оплата заказа «{title}»: {amount} ₽. Нажмите кнопку, чтобы оплатить.{sandbox}", "Payment for “{title}”: {amount} ₽. Press the button to pay.{sandbox}";
    pay_sandbox => "\n(Тестовый режим: деньги не списываются.)", "\n(Test mode: no money moves.)";
    pay_button => "Перейти к оплате", "Go to payment";
    pay_no_link => "Платёж создан, но ссылки на оплату нет. Попробуйте позже.", "The payment was created but has no link yet. Please try again later.";
    quote_ask => "Цена заказа в рублях (например, 1500 или 1500.50)?", "The order's price in roubles (like 1500 or 1500.50)?";
    quote_bad => "Напишите цену числом, например 1500.", "Please give the price as a number, like 1500.";
    revision_ask => "Что нужно исправить? Опишите одним сообщением.", "What needs fixing? Describe it in one message.";
    review_ask => "Оцените заказ от 1 до 5:", "Rate the order from 1 to 5:";
    review_thanks => "Спасибо за оценку!", "Thank you for the review!";
    submit_ask => "Пришлите файлы результата, затем нажмите «Сдать».", "Send the result's files, then press “Submit”.";
    submit_button => "📤 Сдать", "📤 Submit";
    submit_no_files => "Сначала пришлите хотя бы один файл.", "Send at least one file first.";
    pool_title => "Свободные оплаченные заказы:", "Paid orders nobody has taken:";
    pool_none => "Свободных заказов нет.", "No orders are waiting.";
    assigned_title => "Ваши заказы в работе:", "Orders you are working on:";
    assigned_none => "У вас нет назначенных заказов.", "No orders are assigned to you.";
    topic_not_staff => "Отвечать в обращениях могут только сотрудники.", "Only staff can answer tickets.";
    topic_reply_sent => "✉️ Ответ отправлен клиенту.", "✉️ The reply was sent to the customer.";
    topic_note_kept => "📝 Заметка сохранена, клиент её не видит.", "📝 Note kept; the customer does not see it.";
    note_empty => "Напишите текст заметки после /note.", "Write the note's text after /note.";
    note_outside_ticket => "Сначала откройте обращение (кнопка «Открыть обращение»).", "Open a ticket first (the “Open the ticket” button).";
    admin_only => "Это меню — для администраторов.", "This menu is for administrators.";
    admin_menu => "Администрирование:", "Administration:";
    button_stats => "📊 Статистика", "📊 Statistics";
    button_users => "👥 Пользователи", "👥 Users";
    button_to_price => "💰 Ждут цены", "💰 Waiting for a price";
    button_broadcast => "📣 Рассылка", "📣 Broadcast";
    button_more => "Ещё ▶️", "More ▶️";
    button_block => "🚫 Заблокировать", "🚫 Block";
    button_unblock => "✅ Разблокировать", "✅ Unblock";
    stats_title => "📊 Статистика", "📊 Statistics";
    stats_today => "Сегодня", "Today";
    stats_week => "7 дней", "7 days";
    stats_month => "30 дней", "30 days";
    stats_block =>
        "\n\n<b>{label}</b>\nЗаказы: {placed} новых, {paid} оплачено, {completed} выполнено, {cancelled} отменено\nВыручка: {revenue} ₽, возвраты: {refunds} ₽\nОбращения: {tickets} новых, {resolved} решено\nНовых пользователей: {users}",
        "\n\n<b>{label}</b>\nOrders: {placed} new, {paid} paid, {completed} completed, {cancelled} cancelled\nRevenue: {revenue} ₽, refunds: {refunds} ₽\nTickets: {tickets} new, {resolved} resolved\nNew users: {users}";
    find_user_how => "Напишите: /find_user имя, @username или Telegram id.", "Write: /find_user name, @username or Telegram id.";
    users_how =>
        "Напишите: /users [role=client|executor|support|admin|owner] [tier=название] [blocked|active].",
        "Write: /users [role=client|executor|support|admin|owner] [tier=name] [blocked|active].";
    users_none => "Никого не нашёл.", "Nobody found.";
    users_title => "Пользователи:", "Users:";
    user_blocked_mark => " 🚫", " 🚫";
    user_card =>
        "{line}\nTelegram id: <code>{telegram_id}</code>\nОплачено: {paid} ₽, уровень: {tier}\nС нами с {since}",
        "{line}\nTelegram id: <code>{telegram_id}</code>\nPaid: {paid} ₽, tier: {tier}\nWith us since {since}";
    user_changed => "Готово: {line}", "Done: {line}";
    role_how => "Напишите: /role @username client|executor|support|admin", "Write: /role @username client|executor|support|admin";
    blocked_from_bot => "заблокирован администратором в боте", "blocked by an administrator in the bot";
    to_price_title => "Заказы, которые ждут цены:", "Orders waiting for a price:";
    to_price_none => "Все заказы оценены.", "Every order has a price.";
    broadcast_how =>
        "Напишите: /broadcast, /broadcast tier=название или /broadcast active=дней.",
        "Write: /broadcast, /broadcast tier=name or /broadcast active=days.";
    broadcast_pick => "Кому отправить рассылку?", "Who should the broadcast go to?";
    audience_everyone => "Всем", "Everyone";
    audience_role => "Роль: {role}", "Role: {role}";
    audience_active => "Активным за {days} дн.", "Active in the last {days} days";
    broadcast_ask =>
        "Пришлите текст рассылки или фото с подписью. Я покажу, как это увидят получатели.",
        "Send the broadcast's text, or a photo with a caption. I will show how recipients will see it.";
    broadcast_confirm => "☝️ Так увидят рассылку. Получателей: {count}. Отправить?", "☝️ This is how it will look. Recipients: {count}. Send it?";
    broadcast_send_button => "📣 Отправить", "📣 Send";
    broadcast_started => "📣 Рассылка запущена. Отчёт придёт сюда, когда она закончится.", "📣 The broadcast has started. The report will come here when it is done.";
    broadcast_decided => "Эта рассылка уже запущена или отменена.", "That broadcast was already sent or cancelled.";
    broadcast_report =>
        "📣 Рассылка завершена: доставлено {delivered}, заблокировали бота {blocked}, не доставлено {failed}.",
        "📣 The broadcast is done: delivered {delivered}, blocked the bot {blocked}, failed {failed}.";
    queue_empty => "Очередь пуста: все обращения разобраны.", "The queue is empty: every ticket is handled.";
    queue_title => "Очередь обращений (сначала срочные):", "The ticket queue (most urgent first):";
    queue_line => "\n{priority} <b>{title}</b> — {status}, с {since}", "\n{priority} <b>{title}</b> — {status}, since {since}";
    desk_card =>
        "{priority} <b>{title}</b>\nКатегория: {category}\nСтатус: {status}\n\n{messages}\n\nПишите сюда — это ответ клиенту; /note текст — внутренняя заметка; /cancel — выйти.",
        "{priority} <b>{title}</b>\nCategory: {category}\nStatus: {status}\n\n{messages}\n\nWrite here to answer the customer; /note text for an internal note; /cancel to leave.";
    desk_note_mark => "📝", "📝";
    desk_staff_mark => "🛟", "🛟";
    desk_customer_mark => "👤", "👤";
    desk_take => "🙋 Взять себе", "🙋 Take it";
    act_assign => "👤 Назначить", "👤 Assign";
    assign_ask => "Кому передать? В скобках — сколько у человека сейчас в работе.",
        "Who takes it? In brackets: how much each has in hand now.";
    assign_nobody => "Передать некому: нет сотрудников с подходящей ролью.",
        "There is nobody to give it to: no staff with a fitting role.";
    assign_done => "👤 Передано: {name}.", "👤 Given to {name}.";
    act_complete => "✅ Выполнено", "✅ Done";
    act_no_show => "🚷 Не пришёл", "🚷 No-show";
    act_reschedule => "🔁 Перенести", "🔁 Reschedule";
    act_cancel => "✖️ Отменить заказ", "✖️ Cancel the order";
    act_cancel_yes => "Да, отменить", "Yes, cancel it";
    cancel_ask => "Отменить заказ? Деньги вернём по правилам отмены.", "Cancel the order? Any refund follows the cancellation rules.";
    cancelled_by_customer => "отменён клиентом в боте", "cancelled by the customer in the bot";
    button_book => "📅 Записаться", "📅 Book";
    book_services => "Какая услуга?", "Which service?";
    book_no_services => "Салон пока не принимает записи.", "The salon takes no bookings yet.";
    book_masters => "К какому мастеру?", "With which master?";
    book_no_masters => "Свободных мастеров нет.", "No master is available.";
    book_days => "Какой день?", "Which day?";
    book_slots => "Свободное время {date}:", "Free times on {date}:";
    book_no_slots => "На {date} свободного времени нет — выберите другой день.", "Nothing is free on {date}; please pick another day.";
    book_confirm => "Записать: <b>{service}</b>, {master}, {when}?", "Book <b>{service}</b> with {master} at {when}?";
    book_yes => "✅ Записаться", "✅ Book it";
    book_done => "Записали: <b>{service}</b>, {when}.", "Booked: <b>{service}</b> at {when}.";
    book_moved => "Перенесли на {when}.", "Moved to {when}.";
    day_title => "Записи на {date}:", "Bookings on {date}:";
    day_none => "На {date} записей нет.", "No bookings on {date}.";
    day_line => "\n{time} — {service} ({status})", "\n{time} — {service} ({status})";
    button_statement => "📜 Выписка", "📜 Statement";
    button_buy => "🛒 Купить кредиты", "🛒 Buy credits";
    statement_empty => "Операций по кредитам пока не было.", "No credit movements yet.";
    statement_title => "Последние операции:", "Latest movements:";
    statement_line => "\n{date} {change} — {reason}", "\n{date} {change} — {reason}";
    catalogue_title => "Что купить?", "What would you like to buy?";
    catalogue_empty => "Сейчас нечего купить.", "Nothing is on sale right now.";
    pack_button => "{credits} кредитов — {price} ₽", "{credits} credits — {price} ₽";
    plan_button => "Подписка: {credits} кредитов / {days} дн. — {price} ₽", "Plan: {credits} credits / {days} days — {price} ₽";
    pack_title => "{credits} кредитов", "{credits} credits";
    plan_title => "подписка {plan}", "plan {plan}";
    button_faq => "📚 Частые вопросы", "📚 FAQ";
    faq_empty => "Частых вопросов пока нет. /support — спросить поддержку.", "No FAQ yet. /support to ask support.";
    faq_categories => "Частые вопросы — выберите тему:", "FAQ — pick a topic:";
    faq_questions => "<b>{category}</b>:", "<b>{category}</b>:";
    faq_answer => "<b>{question}</b>\n\n{answer}", "<b>{question}</b>\n\n{answer}";
    faq_delete => "🗑 Удалить", "🗑 Delete";
    faq_deleted => "Вопрос удалён.", "The question is deleted.";
    faq_saved => "Сохранено.", "Saved.";
    faq_add_how => "Напишите: /faq_add Тема | Вопрос | Ответ", "Write: /faq_add Topic | Question | Answer";
    apply_ask =>
        "Расскажите о себе в одном сообщении: что умеете, опыт, как с вами связаться. Администратор ответит здесь.",
        "Tell us about yourself in one message: what you do, your experience, how to reach you. An administrator will answer here.";
    apply_sent => "Заявка отправлена. Мы ответим здесь.", "Application sent. We will answer here.";
    applications_none => "Новых заявок нет.", "No new applications.";
    application_card =>
        "Заявка в исполнители: <b>{name}</b>{username}, {since}\n\n{about}",
        "Application to become an executor: <b>{name}</b>{username}, {since}\n\n{about}";
    application_approve => "✅ Одобрить", "✅ Approve";
    application_decline => "✖️ Отклонить", "✖️ Decline";
    application_approved_done => "Одобрено: теперь это исполнитель.", "Approved: they are an executor now.";
    application_declined_done => "Заявка отклонена, человеку сообщили.", "Declined; they were told.";
    application_declined =>
        "К сожалению, сейчас мы не можем принять вас исполнителем. Спасибо за интерес!",
        "Sorry, we cannot take you on as an executor right now. Thank you for your interest!";
    button_applications => "🧑‍💻 Заявки исполнителей", "🧑‍💻 Executor applications";
    reviews_none => "Отзывов пока нет.", "No reviews yet.";
    reviews_title => "Отзывы клиентов:{reviews}", "What customers say:{reviews}";
    review_line => "\n\n{stars} <b>{title}</b>{hidden}\n{text}", "\n\n{stars} <b>{title}</b>{hidden}\n{text}";
    review_hidden_mark => " (скрыт)", " (hidden)";
    review_hide => "🙈 Скрыть", "🙈 Hide";
    review_publish => "👁 Показать", "👁 Publish";
    review_hidden => "Отзыв скрыт.", "The review is hidden.";
    review_published => "Отзыв снова виден всем.", "The review is visible again.";
    login_request =>
        "Вход с компьютера:\n<b>{from}</b>\n\nЭто вы? Подтверждайте, только если вход запросили вы сами.",
        "Sign-in on a computer:\n<b>{from}</b>\n\nIs this you? Confirm only if you asked to sign in yourself.";
    login_confirm => "✅ Подтвердить", "✅ Confirm";
    login_decline => "✖️ Это не я", "✖️ Not me";
    login_confirmed => "✅ Вход подтверждён: {from}", "✅ Sign-in confirmed: {from}";
    login_declined => "Вход отклонён. Ссылка больше не работает.", "Sign-in declined. The link no longer works.";
    login_decline_late =>
        "Этот вход уже подтверждён или истёк. Если это были не вы, попросите администратора закрыть ваши сеансы.",
        "That sign-in was already confirmed or has expired. If it was not you, ask an administrator to end your sessions.";
    login_refused => "Вход не подтверждён: {reason}", "Sign-in not confirmed: {reason}";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_not_scanned_for_placeholders() {
        let filled = fill(
            "{a} and {b}, {missing}{",
            &[("a", "{b}".to_owned()), ("b", "two".to_owned())],
        );
        assert_eq!(filled, "{b} and two, {");
    }
}
