// Staff work: the ticket queue by priority (highest first) with a status filter,
// and orders: the pool offered to executors, those assigned to me, and for the
// desk and managers every order.

import { api, withQuery } from '../api.js';
import { session } from '../session.js';
import { t } from '../i18n.js';
import { PRIORITIES, priorityLabel, statusLabel } from '../labels.js';
import { ticketRow } from './support.js';
import { orderList } from './orders.js';
import { fill, h, heading, pagedList } from '../ui.js';

/** Chips choosing one of `values`; `onpick(value)` when one is tapped. */
function chips(values, selected, label, onpick) {
  const group = h('div', { class: 'chips', role: 'group' });
  for (const value of values) {
    group.append(h('button', {
      type: 'button', class: 'chip', 'aria-pressed': String(value === selected), 'data-value': value ?? 'all',
      onclick: (event) => {
        for (const chip of group.children) chip.setAttribute('aria-pressed', String(chip === event.currentTarget));
        onpick(value);
      },
    }, label(value)));
  }
  return group;
}

export async function queueScreen(view) {
  view.title(t('Очередь обращений', 'Ticket queue'));
  const sections = h('div', {});
  let status = 'open';
  const draw = () => {
    fill(sections, [...PRIORITIES].reverse().map((priority) => [
      heading(priorityLabel(priority)),
      pagedList({
        load: (before) => api('GET', withQuery('/tickets', { status, priority, before, limit: 10 })),
        render: ticketRow,
        emptyText: t('Нет обращений', 'No tickets'),
        testid: `queue-${priority}`,
      }),
    ]));
  };
  const filter = chips(['open', 'in_progress', 'waiting_for_customer', 'resolved'], status, statusLabel, (value) => { status = value; draw(); });
  draw();
  fill(view.body, filter, sections);
  view.live((update) => { if (update.type === 'resync' || update.topic === 'ticket') draw(); });
}

export async function poolScreen(view) {
  const me = session.user();
  view.title(t('Работа с заказами', 'Order work'));
  const scopes = me.role === 'executor' ? ['pool', 'assigned'] : ['all', 'pool', 'assigned'];
  const names = { pool: t('Пул', 'Pool'), assigned: t('Мои', 'Mine'), all: t('Все', 'All') };
  const holder = h('div', {});
  let scope = scopes[0];
  const draw = () => fill(holder, orderList({ scope, emptyText: t('Заказов нет', 'No orders') }));
  draw();
  fill(view.body, chips(scopes, scope, (value) => names[value], (value) => { scope = value; draw(); }), holder);
  view.live((update) => { if (update.type === 'resync' || update.topic === 'order') draw(); });
}
