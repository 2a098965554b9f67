// The salon: service → master → day → free slot → confirm, then the booking's own
// screen (pay, reschedule, cancel — whatever the API offers by the salon's rules).
// Days and times are the salon's, whatever the phone's time zone.

import { api, withQuery } from '../api.js';
import { app } from '../settings.js';
import { go, replace } from '../nav.js';
import { t, locale } from '../i18n.js';
import { orderList, orderScreen } from './orders.js';
import { errorBox, fill, h, heading, markError, money, row, spinner, toast } from '../ui.js';

/** Minutes east of UTC from "+03:00". */
function offsetMinutes() {
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(app.settings.salon_utc_offset || '+00:00');
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

/** "14:30" of an instant, on the salon's clock. */
export function salonClock(iso) {
  const shifted = new Date(new Date(iso).getTime() + offsetMinutes() * 60000);
  return `${String(shifted.getUTCHours()).padStart(2, '0')}:${String(shifted.getUTCMinutes()).padStart(2, '0')}`;
}

/** The salon's next `count` calendar days as YYYY-MM-DD. */
function salonDays(count) {
  const today = new Date(Date.now() + offsetMinutes() * 60000);
  return Array.from({ length: count }, (_, n) => new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + n)).toISOString().slice(0, 10));
}

function dayLabel(day) {
  return new Intl.DateTimeFormat(locale(), { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));
}

export async function bookingScreen(view) {
  view.title(t('Запись', 'Book a visit'));
  const services = await api('GET', '/bookings/services');
  fill(view.body,
    h('div', { class: 'list', 'data-testid': 'services' }, services.items.map((service) => row({
      title: service.name, subtitle: t(`${service.duration_minutes} мин`, `${service.duration_minutes} min`), aside: money(service.price),
      onclick: () => go(mastersScreen, { service }), testid: `service-${service.id}`,
    }))));
  view.main({ text: t('Мои записи', 'My bookings'), action: () => go(myBookingsScreen) });
}

async function mastersScreen(view, { service }) {
  view.title(service.name);
  const masters = await api('GET', '/bookings/masters');
  fill(view.body, heading(t('Мастер', 'Master')), masters.length
    ? h('div', { class: 'list', 'data-testid': 'masters' }, masters.map((master) => row({ title: master.first_name, onclick: () => go(slotScreen, { service, master }), testid: `master-${master.master_id}` })))
    : errorBox(t('Сейчас нет свободных мастеров', 'No masters take bookings now')));
}

/** Day chips and the free slots of the chosen day; `onpick(slot)` for a slot. */
function slotPicker({ service, masterId, onpick }) {
  const slots = h('div', { class: 'chips', 'data-testid': 'slots' });
  const days = h('div', { class: 'chips', 'data-testid': 'days' });
  async function showDay(day, chip) {
    for (const other of days.children) other.setAttribute('aria-pressed', String(other === chip));
    fill(slots, spinner());
    try {
      const free = await api('GET', withQuery('/bookings/free-slots', { master_id: masterId, date: day, service_id: service.id }));
      fill(slots, free.slots.length ? free.slots.map((slot) => h('button', {
        type: 'button', class: 'chip', 'data-start': slot.start,
        onclick: (event) => {
          for (const other of slots.children) other.setAttribute('aria-pressed', String(other === event.currentTarget));
          onpick(slot);
        },
      }, salonClock(slot.start))) : h('p', { class: 'hint' }, t('В этот день свободного времени нет', 'No free time on this day')));
    } catch (error) {
      fill(slots, errorBox(error));
    }
  }
  for (const day of salonDays(14)) {
    const chip = h('button', { type: 'button', class: 'chip', 'data-day': day, onclick: () => showDay(day, chip) }, dayLabel(day));
    days.append(chip);
  }
  showDay(salonDays(1)[0], days.firstChild);
  return h('div', {}, heading(t('День', 'Day')), days, heading(t('Время', 'Time')), slots);
}

async function slotScreen(view, { service, master }) {
  view.title(`${service.name} · ${master.first_name}`);
  const problem = h('div', { class: 'form-holder' });
  let chosen = null;
  const confirm = async () => {
    if (!chosen) return;
    try {
      const booked = await api('POST', '/orders', { kind: 'booking', service_id: service.id, master_id: master.master_id, start: chosen.start });
      toast(t('Вы записаны', 'You are booked'));
      replace(orderScreen, { id: booked.order_id });
    } catch (error) {
      fill(problem, errorBox(error));
    }
  };
  fill(view.body, slotPicker({
    service, masterId: master.master_id,
    onpick: (slot) => {
      chosen = slot;
      view.main({ text: t(`Записаться на ${salonClock(slot.start)}`, `Book ${salonClock(slot.start)}`), action: confirm });
    },
  }), problem);
}

export async function myBookingsScreen(view) {
  view.title(t('Мои записи', 'My bookings'));
  const list = orderList({ kind: 'booking', emptyText: t('Записей нет', 'No bookings') });
  fill(view.body, list);
  view.live((update) => { if (update.type === 'resync' || update.topic === 'order') list.reload(); });
}

/** Moving a booking to another free slot of the same master and service. */
export async function rescheduleScreen(view, { order }) {
  view.title(t('Перенос записи', 'Reschedule'));
  const details = order.details;
  const service = { id: details.service_id, name: details.service_name };
  const problem = h('form', { class: 'form' }, h('div', { class: 'form-error', hidden: true }));
  let chosen = null;
  fill(view.body, slotPicker({
    service, masterId: details.master_id,
    onpick: (slot) => {
      chosen = slot;
      view.main({ text: t(`Перенести на ${salonClock(slot.start)}`, `Move to ${salonClock(slot.start)}`), action: move });
    },
  }), problem);
  async function move() {
    try {
      await api('POST', `/orders/${order.order_id}/reschedule`, { start: chosen.start, end: chosen.end });
      toast(t('Запись перенесена', 'Booking moved'));
      replace(orderScreen, { id: order.order_id });
    } catch (error) {
      markError(problem, error);
    }
  }
}
