// Credits: the balance, points that lapse soon, the statement (paged), and the
// packs and plans on sale, paid through YooKassa. The balance changes on screen
// when the payment lands (the live feed's `balance` topic).

import { api, withQuery } from '../api.js';
import { refresh } from '../nav.js';
import { pay } from '../pay.js';
import { t } from '../i18n.js';
import { creditReason } from '../labels.js';
import { date, dateTime, errorBox, fill, h, heading, money, pagedList, row } from '../ui.js';

export async function creditsScreen(view) {
  view.title(t('Кредиты', 'Credits'));
  view.live((update) => {
    if (update.type === 'resync' || update.topic === 'balance') refresh();
  });
  const [balance, catalogue] = await Promise.all([api('GET', '/credits'), api('GET', '/credits/catalogue')]);
  const problem = h('div', {});
  const summary = h('div', { class: 'card' },
    h('div', { class: 'hint' }, t('Баланс', 'Balance')),
    h('div', { class: 'big', 'data-testid': 'credit-balance' }, String(balance.balance)),
    h('div', { class: 'hint' }, t(`Получено ${balance.granted} · потрачено ${balance.spent} · сгорело ${balance.expired}`, `Granted ${balance.granted} · spent ${balance.spent} · expired ${balance.expired}`)));
  const expiring = balance.expiring_soon.length
    ? [heading(t('Скоро сгорят', 'Lapsing soon')), h('div', { class: 'list', 'data-testid': 'expiring' }, balance.expiring_soon.map((lot) => row({ title: `${lot.remaining}`, subtitle: creditReason({ reason: lot.reason }), aside: date(lot.expires_at) })))]
    : [];
  const offers = h('div', { class: 'list', 'data-testid': 'packs' },
    catalogue.packs.map((pack) => row({ title: t(`${pack.credits} кредитов`, `${pack.credits} credits`), subtitle: t(`Пакет ${pack.id}`, `Pack ${pack.id}`), aside: money(pack.price), onclick: () => buy({ kind: 'credit_pack', pack: pack.id }), testid: `pack-${pack.id}` })),
    catalogue.plans.map((plan) => row({ title: t(`${plan.credits_per_period} кредитов каждые ${plan.period_days} дн.`, `${plan.credits_per_period} credits every ${plan.period_days} days`), subtitle: t(`Подписка ${plan.id}`, `Plan ${plan.id}`), aside: money(plan.price), onclick: () => buy({ kind: 'subscription', plan: plan.id }), testid: `plan-${plan.id}` })));
  const statement = pagedList({
    load: (before) => api('GET', withQuery('/credits/statement', { before, limit: 20 })),
    render: (line) => row({ title: creditReason(line), subtitle: dateTime(line.recorded_at), aside: h('span', { class: line.change < 0 ? 'danger' : '' }, line.change > 0 ? `+${line.change}` : String(line.change)) }),
    emptyText: t('Операций пока нет', 'Nothing yet'),
    testid: 'statement',
  });
  fill(view.body, summary, problem, expiring, heading(t('Купить', 'Buy')), offers, heading(t('История', 'Statement')), statement);
  async function buy(purpose) {
    try {
      await pay(purpose);
    } catch (error) {
      fill(problem, errorBox(error));
    }
  }
}
