// Orders: the customer's list, one order with its timeline and the steps the API
// offers on it (`actions`), and placing a coursework brief. Staff open the same
// order screen from their lists and get the staff steps the API offers them.

import { api, withQuery } from '../api.js';
import { go, replace, refresh } from '../nav.js';
import { pay } from '../pay.js';
import { session } from '../session.js';
import { t } from '../i18n.js';
import { actionLabel, statusKind, statusLabel } from '../labels.js';
import {
  badge, clearMarks, dateTime, errorBox, facts, field, fill, form, h, heading, markError, money, pagedList, row, toast,
} from '../ui.js';

/** A row for an order in any list. */
export function orderRow(order) {
  return row({
    title: order.title,
    subtitle: `${dateTime(order.placed_at)}${order.price ? ` · ${money(order.price)}` : ''}`,
    aside: badge(statusLabel(order.status), statusKind(order.status)),
    onclick: () => go(orderScreen, { id: order.order_id }),
    testid: `order-${order.order_id}`,
  });
}

/** Lists `scope` (mine, assigned, pool, all) of `kind`, paged by cursor. */
export function orderList({ scope = 'mine', kind, status, emptyText }) {
  return pagedList({
    load: (before) => api('GET', withQuery('/orders', { scope, kind, status, before, limit: 20 })),
    render: orderRow,
    emptyText,
    testid: `orders-${scope}`,
  });
}

export async function ordersScreen(view) {
  view.title(t('Мои заказы', 'My orders'));
  const list = orderList({ kind: 'coursework', emptyText: t('Заказов пока нет. Оформите первый — кнопка внизу.', 'No orders yet. Place the first with the button below.') });
  fill(view.body, list);
  view.main({ text: t('Новый заказ', 'New order'), action: () => go(newCourseworkScreen) });
  view.live((update) => { if (update.type === 'resync' || update.topic === 'order') list.reload(); });
}

export async function newCourseworkScreen(view) {
  view.title(t('Новый заказ', 'New order'));
  const subject = h('input', { type: 'text', maxlength: 200, required: true, placeholder: t('Тема работы', 'Subject') });
  const workType = h('select', {}, ['курсовая', 'реферат', 'контрольная', 'дипломная', 'эссе', 'презентация'].map((value) => h('option', { value }, value)));
  const volume = h('input', { type: 'number', min: 1, max: 10000, value: 20, inputmode: 'numeric' });
  const deadline = h('input', { type: 'datetime-local' });
  const soon = new Date(Date.now() + 14 * 86400000);
  soon.setMinutes(0, 0, 0);
  deadline.value = localInput(soon);
  const revisions = h('input', { type: 'number', min: 0, max: 10, value: 2, inputmode: 'numeric' });
  const brief = form([
    field(t('Тема', 'Subject'), 'subject', subject),
    field(t('Тип работы', 'Type of work'), 'work_type', workType),
    field(t('Объём, страниц', 'Volume, pages'), 'volume', volume),
    field(t('Срок', 'Deadline'), 'deadline', deadline),
    field(t('Доработок включено', 'Revisions included'), 'max_revisions', revisions),
  ], submit);
  fill(view.body, brief, h('p', { class: 'hint' }, t('После оценки вы увидите цену и сможете оплатить заказ здесь же.', 'Once priced, you see the price and pay for the order right here.')));
  view.main({ text: t('Отправить заявку', 'Send the brief'), action: submit });
  let sending = false;
  async function submit() {
    if (sending) return;
    sending = true;
    clearMarks(brief);
    try {
      const placed = await api('POST', '/orders', {
        kind: 'coursework',
        subject: subject.value,
        work_type: workType.value,
        volume: Number(volume.value),
        deadline: deadline.value ? new Date(deadline.value).toISOString() : '',
        max_revisions: Number(revisions.value),
      });
      toast(t('Заявка отправлена', 'Brief sent'));
      replace(orderScreen, { id: placed.order_id });
    } catch (error) {
      markError(brief, error);
    } finally {
      sending = false;
    }
  }
}

/** `2026-12-16T10:00` in the device's time, for a datetime-local input. */
export function localInput(moment) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}T${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
}

function detailsOf(order) {
  const d = order.details || {};
  if (order.kind === 'coursework') {
    return [[t('Тип', 'Type'), d.work_type], [t('Тема', 'Subject'), d.subject], [t('Объём', 'Volume'), d.volume], [t('Срок', 'Deadline'), dateTime(d.deadline)],
      [t('Доработки', 'Revisions'), `${order.revisions} / ${d.max_revisions ?? 0}`]];
  }
  if (order.kind === 'booking') {
    return [[t('Услуга', 'Service'), d.service_name || d.service_id], [t('Время', 'Time'), dateTime(d.slot?.start)]];
  }
  const shipped = order.timeline.find((line) => line.event_type === 'OrderShipped');
  const items = (d.lines || []).map((item) => `${item.name || item.product_id} × ${item.quantity}`).join(', ');
  return [[t('Товары', 'Items'), items], [t('Доставка', 'Delivery'), d.delivery ? `${d.delivery.recipient}, ${d.delivery.address}` : '—'],
    shipped ? [t('Отправка', 'Shipping'), shipped.summary] : null];
}

export async function orderScreen(view, { id }) {
  view.live((update) => {
    if (update.type === 'resync' || (update.topic === 'order' && update.id === id)) refresh();
  });
  const order = await api('GET', `/orders/${id}`);
  view.title(order.title);
  const me = session.user();
  const card = h('div', { class: 'card', 'data-testid': 'order-card', 'data-order-id': order.order_id },
    h('p', {}, h('span', { class: `badge ${statusKind(order.status)}`, 'data-testid': 'order-status', dataset: { status: order.status } }, statusLabel(order.status))),
    facts([
      ...detailsOf(order),
      [t('Цена', 'Price'), order.price ? money(order.price) : t('ещё не назначена', 'not set yet')],
      [t('Оплачено', 'Paid'), money(order.paid_amount)],
      order.refunded_amount !== '0.00' ? [t('Возвращено', 'Refunded'), money(order.refunded_amount)] : null,
      order.review_stars ? [t('Отзыв', 'Review'), '★'.repeat(order.review_stars)] : null,
    ]));
  const panel = h('div', {});
  const actions = h('div', { class: 'actions', 'data-testid': 'order-actions' });
  const primary = pickPrimary(order.actions);
  for (const action of order.actions) {
    if (action === primary) continue;
    actions.append(h('button', { class: 'secondary', type: 'button', 'data-action': action, onclick: () => start(action) }, actionLabel(action)));
  }
  const staffNote = me.permissions.includes('add_order_note') && order.customer_id !== me.user_id ? noteForm(order) : null;
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'order-timeline' },
    order.timeline.map((line) => h('li', { class: line.internal ? 'internal' : '' }, h('div', {}, line.summary), h('small', { class: 'hint' }, dateTime(line.at), line.internal ? ` · ${t('внутренняя заметка', 'internal note')}` : ''))));
  fill(view.body, card, panel, actions, staffNote, heading(t('История', 'Timeline')), timeline);
  if (primary) view.main({ text: actionLabel(primary), action: () => start(primary) });

  async function start(action) {
    const needs = FORMS[action];
    if (needs) {
      fill(panel, actionForm(order, action, needs));
      panel.querySelector('input, textarea, select')?.focus();
      return;
    }
    if (action === 'pay') {
      try {
        await pay({ kind: 'order', order_id: id });
      } catch (error) {
        fill(panel, errorBox(error));
      }
      return;
    }
    if (action === 'reschedule') {
      const { rescheduleScreen } = await import('./booking.js');
      go(rescheduleScreen, { order });
      return;
    }
    if (action === 'assign') {
      fill(panel, await assignForm(order));
      return;
    }
    await act(order, action, {}, panel);
  }
}

/** The step a customer most likely wants next, for the MainButton. */
function pickPrimary(actions) {
  return ['pay', 'accept-quote', 'accept', 'take', 'start', 'submit', 'confirm-delivery', 'review', 'quote', 'ship', 'complete']
    .find((action) => actions.includes(action)) ?? null;
}

const FORMS = {
  quote: [['price', t('Цена, ₽', 'Price, ₽'), 'text', { inputmode: 'decimal', placeholder: '1500.00' }]],
  'request-revision': [['reason', t('Что исправить', 'What to change'), 'textarea']],
  cancel: [['reason', t('Причина', 'Reason'), 'textarea']],
  submit: [['note', t('Комментарий к результату', 'A note on the result'), 'textarea']],
  ship: [['tracking', t('Трек-номер', 'Tracking number'), 'text']],
  review: [['stars', t('Оценка', 'Rating'), 'stars'], ['text', t('Отзыв', 'Review'), 'textarea']],
};

function actionForm(order, action, fields) {
  const controls = {};
  const rows = fields.map(([name, label, type, extra]) => {
    if (type === 'stars') {
      controls[name] = starPicker(5);
      return field(label, name, controls[name]);
    }
    controls[name] = type === 'textarea' ? h('textarea', { maxlength: 2000, ...extra }) : h('input', { type, ...extra });
    return field(label, name, controls[name]);
  });
  const element = form([...rows, h('button', { class: 'primary', type: 'submit' }, actionLabel(action))], async () => {
    const body = {};
    for (const [name, control] of Object.entries(controls)) {
      const value = control.value;
      if (name === 'stars') body.stars = Number(value);
      else if (value !== '') body[name] = value;
    }
    if (action === 'submit') body.files = [];
    await act(order, action, body, element);
  });
  return h('div', { class: 'card', 'data-testid': `form-${action}` }, element);
}

/** Five tappable stars; `.value` is how many are lit. */
export function starPicker(count) {
  const picker = h('div', { class: 'stars', role: 'radiogroup' });
  picker.value = '';
  for (let n = 1; n <= count; n += 1) {
    picker.append(h('button', {
      type: 'button', 'aria-label': `${n}`, 'data-stars': n, 'aria-pressed': 'false',
      onclick: () => {
        picker.value = String(n);
        for (const star of picker.children) star.setAttribute('aria-pressed', String(Number(star.dataset.stars) <= n));
      },
    }, '★'));
  }
  return picker;
}

async function assignForm(order) {
  const assignees = await api('GET', withQuery('/users', { role: 'executor', limit: 50 }));
  const select = h('select', {}, assignees.items.map((user) => h('option', { value: user.user_id }, `${user.first_name}${user.username ? ` @${user.username}` : ''}`)));
  const element = form([field(t('Исполнитель', 'Executor'), 'executor_id', select), h('button', { class: 'primary', type: 'submit' }, actionLabel('assign'))],
    () => act(order, 'assign', { executor_id: select.value }, element));
  return h('div', { class: 'card' }, element);
}

function noteForm(order) {
  const text = h('textarea', { maxlength: 2000, placeholder: t('Видят только сотрудники', 'Only staff see it') });
  const element = form([field(t('Внутренняя заметка', 'Internal note'), 'text', text), h('button', { class: 'secondary', type: 'submit' }, t('Добавить заметку', 'Add the note'))],
    () => act(order, 'notes', { text: text.value }, element));
  return h('div', { class: 'card' }, element);
}

/** Runs one step and shows the order as the answer has it (or the API's error). */
async function act(order, action, body, where) {
  try {
    await api('POST', `/orders/${order.order_id}/${action}`, body);
    toast(t('Готово', 'Done'));
    refresh();
  } catch (error) {
    if (where.tagName === 'FORM') markError(where, error);
    else fill(where, errorBox(error));
  }
}
