// Referrals: my link (with Telegram's share sheet), who joined through it and
// whether they paid, and what it earned.

import { api } from '../api.js';
import { openTelegramLink } from '../telegram.js';
import { t } from '../i18n.js';
import { date, empty, fill, h, heading, row, toast } from '../ui.js';

export async function referralsScreen(view) {
  view.title(t('Пригласить друзей', 'Invite friends'));
  const referrals = await api('GET', '/referrals');
  const link = referrals.link;
  const card = h('div', { class: 'card' },
    h('div', { class: 'hint' }, t('Ваша ссылка', 'Your link')),
    h('div', { 'data-testid': 'referral-link' }, link || t(`Код: ${referrals.code}`, `Code: ${referrals.code}`)),
    h('div', { class: 'hint' }, t(`Заработано: ${referrals.earned_credits} кредитов`, `Earned: ${referrals.earned_credits} credits`)));
  const copy = link ? h('button', { class: 'secondary', type: 'button', onclick: async () => {
    try { await navigator.clipboard.writeText(link); toast(t('Ссылка скопирована', 'Link copied')); } catch { toast(link); }
  } }, t('Скопировать', 'Copy')) : null;
  const joined = referrals.referrals.length
    ? h('div', { class: 'list', 'data-testid': 'referrals' }, referrals.referrals.map((friend) => row({ title: friend.first_name, subtitle: date(friend.registered_at), aside: friend.paid ? t('оплатил', 'paid') : t('ещё не платил', 'not paid yet') })))
    : empty(t('Пока никто не пришёл по ссылке', 'Nobody has joined through it yet'));
  fill(view.body, card, copy, heading(t('Пришли по ссылке', 'Joined')), joined);
  if (link) {
    const text = t('Присоединяйся!', 'Join me!');
    view.main({ text: t('Поделиться', 'Share'), action: () => openTelegramLink(`https://t.me/share/url?url=${encodeURIComponent(link)}&text=${encodeURIComponent(text)}`) });
  }
}
