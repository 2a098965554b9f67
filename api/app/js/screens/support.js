// Support: the customer's tickets, opening one (category, priority), and the
// thread, which updates live. Staff use the same thread screen with their
// controls: reply or internal note, assignee, status and priority.

import { api, withQuery } from '../api.js';
import { go, refresh, replace } from '../nav.js';
import { session } from '../session.js';
import { t } from '../i18n.js';
import { PRIORITIES, TICKET_STATUSES, priorityLabel, statusKind, statusLabel } from '../labels.js';
import { starPicker } from './orders.js';
import {
  badge, clearMarks, dateTime, facts, field, fill, form, h, heading, markError, pagedList, row, toast,
} from '../ui.js';

export function ticketRow(ticket) {
  return row({
    title: ticket.title,
    subtitle: `${priorityLabel(ticket.priority)} · ${dateTime(ticket.updated_at)} · ${ticket.message_count} ${t('сообщ.', 'msgs')}`,
    aside: badge(statusLabel(ticket.status), statusKind(ticket.status)),
    onclick: () => go(ticketScreen, { id: ticket.ticket_id }),
    testid: `ticket-${ticket.ticket_id}`,
  });
}

export async function supportScreen(view) {
  view.title(t('Мои обращения', 'My tickets'));
  const list = pagedList({
    load: (before) => api('GET', withQuery('/tickets', { before, limit: 20 })),
    render: ticketRow,
    emptyText: t('Обращений нет. Если что-то не так — напишите нам.', 'No tickets. If something is wrong, write to us.'),
    testid: 'tickets',
  });
  fill(view.body, list);
  view.main({ text: t('Новое обращение', 'New ticket'), action: () => go(newTicketScreen) });
  view.live((update) => { if (update.type === 'resync' || update.topic === 'ticket') list.reload(); });
}

export async function newTicketScreen(view) {
  view.title(t('Новое обращение', 'New ticket'));
  const categories = await api('GET', '/tickets/categories');
  const title = h('input', { type: 'text', maxlength: 200, placeholder: t('Коротко о проблеме', 'The problem in short') });
  // Without categories of the desk's own, every ticket is a general one (as in the bot).
  const offered = categories.items.filter((c) => c.active);
  const choices = offered.length ? offered.map((c) => [c.code, c.name]) : [['general', t('Общий вопрос', 'General question')]];
  const category = h('select', {}, choices.map(([code, name]) => h('option', { value: code }, name)));
  const priority = h('select', {}, PRIORITIES.map((p) => h('option', { value: p, selected: p === 'NORMAL' }, priorityLabel(p))));
  const description = h('textarea', { maxlength: 4000, placeholder: t('Что случилось, когда, номер заказа', 'What happened, when, the order number') });
  const element = form([
    field(t('Тема', 'Title'), 'title', title),
    field(t('Категория', 'Category'), 'category', category),
    field(t('Приоритет', 'Priority'), 'priority', priority),
    field(t('Описание', 'Description'), 'description', description),
  ], submit);
  fill(view.body, element);
  view.main({ text: t('Отправить', 'Send'), action: submit });
  async function submit() {
    clearMarks(element);
    try {
      const opened = await api('POST', '/tickets', { title: title.value, category: category.value, priority: priority.value, description: description.value });
      replace(ticketScreen, { id: opened.ticket_id });
    } catch (error) {
      markError(element, error);
    }
  }
}

export async function ticketScreen(view, { id }) {
  view.live((update) => {
    if (update.type === 'resync' || (update.topic === 'ticket' && update.id === id)) refresh();
  });
  const ticket = await api('GET', `/tickets/${id}`);
  const me = session.user();
  const staff = me.permissions.includes('post_internal_note') && ticket.customer_id !== me.user_id;
  view.title(ticket.title);
  const head = h('div', { class: 'card', 'data-testid': 'ticket-card', 'data-ticket-id': ticket.ticket_id },
    h('p', {}, h('span', { class: `badge ${statusKind(ticket.status)}`, 'data-testid': 'ticket-status', dataset: { status: ticket.status } }, statusLabel(ticket.status))),
    facts([[t('Приоритет', 'Priority'), priorityLabel(ticket.priority)], [t('Категория', 'Category'), ticket.category === 'general' ? t('Общий вопрос', 'General question') : ticket.category], [t('Открыт', 'Opened'), dateTime(ticket.opened_at)]]));
  const thread = h('div', { class: 'thread', 'data-testid': 'thread' }, ticket.messages.filter((m) => !m.deleted_at).map((message) => h('div', {
    class: `message${message.author_id === me.user_id ? ' mine' : ''}${message.internal ? ' internal' : ''}`, 'data-testid': message.internal ? 'internal-note' : 'message',
  }, message.text, h('small', {}, `${message.by_staff ? t('Поддержка', 'Support') : t('Клиент', 'Customer')} · ${dateTime(message.posted_at)}${message.internal ? ` · ${t('внутренняя заметка', 'internal note')}` : ''}`))));
  const blocks = [head, heading(t('Переписка', 'Thread')), thread];
  const closed = ['closed'].includes(ticket.status);
  if (!closed) blocks.push(replyForm(ticket, staff));
  if (!staff && ticket.status === 'resolved' && ticket.rating === null) blocks.push(ratingForm(ticket));
  if (ticket.rating !== null) blocks.push(h('p', { class: 'hint', 'data-testid': 'ticket-rating' }, `${t('Ваша оценка', 'Rating')}: ${'★'.repeat(ticket.rating)}`));
  if (staff) blocks.push(await staffControls(ticket, me));
  fill(view.body, blocks);
}

function replyForm(ticket, staff) {
  const text = h('textarea', { maxlength: 4000, placeholder: t('Сообщение', 'Message'), 'data-testid': 'reply-text' });
  const internal = h('input', { type: 'checkbox', 'data-testid': 'reply-internal' });
  const fields = [field(t('Ответ', 'Reply'), 'text', text)];
  if (staff) fields.push(h('label', { class: 'check' }, internal, t('Внутренняя заметка (клиент не увидит)', 'Internal note (the customer never sees it)')));
  fields.push(h('button', { class: 'primary', type: 'submit', 'data-testid': 'reply-send' }, t('Отправить', 'Send')));
  const element = form(fields, async () => {
    clearMarks(element);
    try {
      await api('POST', `/tickets/${ticket.ticket_id}/messages`, { text: text.value, internal: staff && internal.checked });
      refresh();
    } catch (error) {
      markError(element, error);
    }
  });
  return h('div', { class: 'card' }, element);
}

function ratingForm(ticket) {
  const stars = starPicker(5);
  const comment = h('textarea', { maxlength: 2000, placeholder: t('Комментарий (необязательно)', 'A comment (optional)') });
  const element = form([field(t('Оцените помощь', 'Rate the help'), 'stars', stars), field(t('Комментарий', 'Comment'), 'comment', comment),
    h('button', { class: 'primary', type: 'submit', 'data-testid': 'rate-send' }, t('Оценить', 'Rate'))], async () => {
    clearMarks(element);
    try {
      await api('POST', `/tickets/${ticket.ticket_id}/rating`, { stars: Number(stars.value) || 0, comment: comment.value || null });
      toast(t('Спасибо за оценку', 'Thanks for rating'));
      refresh();
    } catch (error) {
      markError(element, error);
    }
  });
  return h('div', { class: 'card', 'data-testid': 'rating-form' }, element);
}

async function staffControls(ticket, me) {
  const staff = await api('GET', withQuery('/users', { role: 'support', limit: 50 })).catch(() => ({ items: [] }));
  const people = [{ user_id: me.user_id, first_name: t('Я', 'Me') }, ...staff.items.filter((u) => u.user_id !== me.user_id)];
  const assignee = h('select', {}, [
    h('option', { value: '', selected: !ticket.assignee_id }, t('— не назначен —', '— nobody —')),
    people.map((u) => h('option', { value: u.user_id, selected: u.user_id === ticket.assignee_id }, u.first_name)),
  ]);
  const status = h('select', {}, TICKET_STATUSES.map((s) => h('option', { value: s, selected: s === ticket.status }, statusLabel(s))));
  const priority = h('select', {}, PRIORITIES.map((p) => h('option', { value: p, selected: p === ticket.priority }, priorityLabel(p))));
  const element = form([
    field(t('Ответственный', 'Assignee'), 'assignee_id', assignee),
    field(t('Статус', 'Status'), 'status', status),
    field(t('Приоритет', 'Priority'), 'priority', priority),
    h('button', { class: 'secondary', type: 'submit', 'data-testid': 'ticket-save' }, t('Сохранить', 'Save')),
  ], async () => {
    clearMarks(element);
    try {
      const base = `/tickets/${ticket.ticket_id}`;
      if (assignee.value && assignee.value !== ticket.assignee_id) await api('POST', `${base}/assign`, { assignee_id: assignee.value });
      if (priority.value !== ticket.priority) await api('POST', `${base}/priority`, { priority: priority.value });
      if (status.value !== ticket.status) await api('POST', `${base}/status`, { status: status.value });
      toast(t('Сохранено', 'Saved'));
      refresh();
    } catch (error) {
      markError(element, error);
    }
  });
  return h('div', { class: 'card', 'data-testid': 'staff-controls' }, heading(t('Управление', 'Manage')), element);
}
