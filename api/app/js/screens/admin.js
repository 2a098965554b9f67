// For admins and owners: users (search, role, block), analytics over a date range
// drawn as charts, and the NPD tax ledger of a month with CSV and XLSX downloads.

import { api, download, withQuery } from '../api.js';
import { go, refresh } from '../nav.js';
import { session } from '../session.js';
import { t } from '../i18n.js';
import { clearMarks, date, errorBox, facts, field, fill, form, h, heading, markError, money, pagedList, row, spinner, toast } from '../ui.js';

const ROLES = ['client', 'executor', 'support', 'admin', 'owner'];

export async function usersScreen(view) {
  view.title(t('Пользователи', 'Users'));
  const query = h('input', { type: 'search', placeholder: t('Имя, @username или Telegram id', 'Name, @username or Telegram id'), 'data-testid': 'user-search' });
  const role = h('select', {}, [h('option', { value: '' }, t('Все роли', 'All roles')), ROLES.map((r) => h('option', { value: r }, r))]);
  const holder = h('div', {});
  const search = () => fill(holder, pagedList({
    load: (before) => api('GET', withQuery('/users', { q: query.value.trim(), role: role.value, before, limit: 20 })),
    render: (user) => row({
      title: `${user.first_name} ${user.last_name || ''}`.trim(),
      subtitle: `${user.username ? `@${user.username} · ` : ''}${user.role}${user.blocked ? ` · ${t('заблокирован', 'blocked')}` : ''}`,
      aside: money(user.total_paid),
      onclick: () => go(userScreen, { id: user.user_id }),
      testid: `user-${user.telegram_id}`,
    }),
    emptyText: t('Никого не нашлось', 'Nobody found'),
    testid: 'users',
  }));
  const element = form([field(t('Поиск', 'Search'), 'q', query), field(t('Роль', 'Role'), 'role', role), h('button', { class: 'secondary', type: 'submit' }, t('Найти', 'Search'))], search);
  search();
  fill(view.body, element, holder);
}

async function userScreen(view, { id }) {
  const user = await api('GET', `/users/${id}`);
  const me = session.user();
  view.title(`${user.first_name} ${user.last_name || ''}`.trim());
  const role = h('select', {}, ROLES.map((r) => h('option', { value: r, selected: r === user.role }, r)));
  const roleForm = form([field(t('Роль', 'Role'), 'role', role), h('button', { class: 'secondary', type: 'submit' }, t('Сменить роль', 'Change the role'))], async () => {
    clearMarks(roleForm);
    try {
      await api('POST', `/users/${id}/role`, { role: role.value });
      toast(t('Роль изменена', 'Role changed'));
      refresh();
    } catch (error) {
      markError(roleForm, error);
    }
  });
  const reason = h('input', { type: 'text', maxlength: 500 });
  const blockForm = user.blocked
    ? form([h('button', { class: 'secondary', type: 'submit' }, t('Разблокировать', 'Unblock'))], async () => {
      try { await api('POST', `/users/${id}/unblock`); refresh(); } catch (error) { markError(blockForm, error); }
    })
    : form([field(t('Причина блокировки', 'Why block'), 'reason', reason), h('button', { class: 'secondary danger', type: 'submit' }, t('Заблокировать', 'Block'))], async () => {
      clearMarks(blockForm);
      try { await api('POST', `/users/${id}/block`, { reason: reason.value }); refresh(); } catch (error) { markError(blockForm, error); }
    });
  fill(view.body,
    h('div', { class: 'card' }, facts([
      ['Telegram id', String(user.telegram_id)], ['Username', user.username ? `@${user.username}` : '—'], [t('Роль', 'Role'), user.role],
      [t('С нами с', 'Since'), date(user.registered_at)], [t('Оплачено', 'Paid'), money(user.total_paid)], [t('Платежей', 'Payments'), String(user.payments)],
      [t('Статус', 'Status'), user.blocked ? t('заблокирован', 'blocked') : t('активен', 'active')],
    ])),
    user.user_id === me.user_id ? null : [roleForm, blockForm]);
}

/** A bar chart of `values` (numbers as strings or integers) per day. */
function barChart(title, days, value, format = String) {
  const numbers = days.map((day) => Number(value(day)));
  const max = Math.max(1, ...numbers);
  const width = 320;
  const height = 120;
  const gap = 1;
  const barWidth = Math.max(1, (width - gap * days.length) / Math.max(1, days.length));
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 14}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  days.forEach((day, index) => {
    const barHeight = (numbers[index] / max) * height;
    const bar = document.createElementNS(svg.namespaceURI, 'rect');
    bar.setAttribute('class', 'bar');
    bar.setAttribute('x', String(index * (barWidth + gap)));
    bar.setAttribute('y', String(height - barHeight));
    bar.setAttribute('width', String(barWidth));
    bar.setAttribute('height', String(Math.max(barHeight, numbers[index] > 0 ? 1 : 0)));
    const tip = document.createElementNS(svg.namespaceURI, 'title');
    tip.textContent = `${day.day}: ${format(value(day))}`;
    bar.append(tip);
    svg.append(bar);
  });
  const axis = document.createElementNS(svg.namespaceURI, 'line');
  axis.setAttribute('class', 'axis');
  axis.setAttribute('x1', '0'); axis.setAttribute('x2', String(width));
  axis.setAttribute('y1', String(height)); axis.setAttribute('y2', String(height));
  svg.append(axis);
  return h('div', { class: 'card', 'data-testid': 'chart' },
    h('div', {}, h('strong', {}, title), h('span', { class: 'hint' }, ` · ${t('макс.', 'max')} ${format(String(max))}`)),
    svg, h('div', { class: 'legend' }, h('span', {}, date(days[0]?.day)), h('span', {}, date(days[days.length - 1]?.day))));
}

export async function analyticsScreen(view) {
  view.title(t('Аналитика', 'Analytics'));
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
  const from = h('input', { type: 'date', value: monthAgo });
  const to = h('input', { type: 'date', value: today });
  const results = h('div', {});
  const range = form([field(t('С', 'From'), 'from', from), field(t('По', 'To'), 'to', to), h('button', { class: 'secondary', type: 'submit' }, t('Показать', 'Show'))], show);
  fill(view.body, range, results);
  await show();
  async function show() {
    clearMarks(range);
    fill(results, spinner());
    try {
      const summary = await api('GET', withQuery('/reports/analytics', { from: from.value, to: to.value }));
      const rub = (amount) => money(amount);
      fill(results,
        h('div', { class: 'card', 'data-testid': 'analytics-summary' }, facts([
          [t('Заказов', 'Orders placed'), String(summary.orders_placed)], [t('Оплачено', 'Paid'), String(summary.orders_paid)],
          [t('Выручка', 'Revenue'), money(summary.revenue)], [t('Возвраты', 'Refunds'), money(summary.refunds)],
          [t('Конверсия', 'Conversion'), summary.conversion_placed_to_paid === null ? '—' : `${(Number(summary.conversion_placed_to_paid) * 100).toFixed(1)} %`],
          [t('Обращений', 'Tickets opened'), String(summary.tickets_opened)], [t('Новых пользователей', 'New users'), String(summary.new_users)],
        ])),
        barChart(t('Заказы в день', 'Orders per day'), summary.days, (d) => d.orders_placed),
        barChart(t('Выручка в день', 'Revenue per day'), summary.days, (d) => d.revenue, rub),
        barChart(t('Возвраты в день', 'Refunds per day'), summary.days, (d) => d.refunds, rub),
        barChart(t('Обращения в день', 'Tickets per day'), summary.days, (d) => d.tickets_opened));
    } catch (error) {
      if (error.field) { markError(range, error); results.replaceChildren(); } else fill(results, errorBox(error));
    }
  }
}

export async function taxLedgerScreen(view) {
  view.title(t('Налоговый журнал (НПД)', 'Tax ledger (NPD)'));
  const month = h('input', { type: 'month', value: new Date().toISOString().slice(0, 7) });
  const results = h('div', {});
  const picker = form([field(t('Месяц', 'Month'), 'month', month), h('button', { class: 'secondary', type: 'submit' }, t('Показать', 'Show'))], show);
  fill(view.body, picker, results);
  await show();
  async function show() {
    clearMarks(picker);
    const [year, number] = month.value.split('-').map(Number);
    fill(results, spinner());
    try {
      const ledger = await api('GET', withQuery('/reports/tax-ledger', { year, month: number }));
      const totals = ledger.months.find((m) => String(m.month).startsWith(month.value)) || ledger.months[0];
      const query = { year, month: number };
      const downloads = h('div', { class: 'actions' },
        h('button', { class: 'secondary', type: 'button', 'data-testid': 'download-csv', onclick: () => download(withQuery('/reports/tax-ledger', { ...query, format: 'csv' }), `tax-ledger-${month.value}.csv`).catch((e) => toast(e.message)) }, 'CSV'),
        h('button', { class: 'secondary', type: 'button', 'data-testid': 'download-xlsx', onclick: () => download(withQuery('/reports/tax-ledger', { ...query, format: 'xlsx' }), `tax-ledger-${month.value}.xlsx`).catch((e) => toast(e.message)) }, 'XLSX'));
      fill(results,
        totals ? h('div', { class: 'card', 'data-testid': 'tax-month' }, facts([
          [t('Доход', 'Income'), money(totals.income)], [t('От физлиц', 'From individuals'), money(totals.income_individual)],
          [t('От юрлиц и ИП', 'From legal entities'), money(totals.income_legal_entity)], [t('Налог до вычета', 'Tax before deduction'), money(totals.tax_before_deduction)],
          [t('Вычет', 'Deduction used'), money(totals.deduction_used)], [t('К уплате', 'Tax due'), money(totals.tax_due)], [t('Срок уплаты', 'Due'), date(totals.due_date)],
          [t('Доход за год', 'Year income'), money(totals.year_income)],
        ]), totals.over_yearly_limit ? errorBox(t('Превышен годовой лимит дохода НПД', 'Over the yearly NPD income limit')) : null) : null,
        downloads,
        heading(t('Операции', 'Lines')),
        ledger.lines.length ? h('div', { class: 'scroll' }, h('table', { class: 'ledger', 'data-testid': 'tax-lines' },
          h('thead', {}, h('tr', {}, h('th', {}, t('Дата', 'Date')), h('th', {}, t('Вид', 'Kind')), h('th', { class: 'num' }, t('Сумма', 'Amount')), h('th', { class: 'num' }, t('Налог', 'Tax')))),
          h('tbody', {}, ledger.lines.map((line) => h('tr', {}, h('td', {}, date(line.at)), h('td', {}, line.kind === 'refund' ? t('возврат', 'refund') : t('доход', 'income')), h('td', { class: 'num' }, money(line.amount)), h('td', { class: 'num' }, money(line.tax))))))) : h('p', { class: 'empty' }, t('За месяц операций нет', 'Nothing this month')));
    } catch (error) {
      if (error.field) { markError(picker, error); results.replaceChildren(); } else fill(results, errorBox(error));
    }
  }
}
