// The profile: name and language (the bot and the app speak it), with the
// account's facts.

import { api } from '../api.js';
import { refresh } from '../nav.js';
import { session } from '../session.js';
import { setLanguage, t } from '../i18n.js';
import { clearMarks, facts, field, fill, form, h, markError, money, toast } from '../ui.js';

export async function profileScreen(view) {
  view.title(t('Профиль', 'Profile'));
  const me = await api('GET', '/auth/me');
  const first = h('input', { type: 'text', maxlength: 64, value: me.first_name });
  const last = h('input', { type: 'text', maxlength: 64, value: me.last_name || '' });
  const language = h('select', {}, [['ru', 'Русский'], ['en', 'English']].map(([value, name]) => h('option', { value, selected: (me.language || 'ru').startsWith(value) }, name)));
  const element = form([
    field(t('Имя', 'First name'), 'first_name', first),
    field(t('Фамилия', 'Last name'), 'last_name', last),
    field(t('Язык', 'Language'), 'language', language),
  ], save);
  const about = h('div', { class: 'card' }, facts([
    [t('Роль', 'Role'), me.role],
    [t('Оплачено всего', 'Paid in all'), money(me.total_paid)],
    [t('Уровень', 'Tier'), me.loyalty_tier || '—'],
    [t('Приглашено', 'Referred'), String(me.referrals)],
  ]));
  fill(view.body, element, about);
  view.main({ text: t('Сохранить', 'Save'), action: save });
  async function save() {
    clearMarks(element);
    try {
      const changed = await api('PATCH', '/auth/me', { first_name: first.value, last_name: last.value || null, language: language.value });
      session.update(changed);
      setLanguage(changed.language);
      toast(t('Сохранено', 'Saved'));
      refresh();
    } catch (error) {
      markError(element, error);
    }
  }
}
