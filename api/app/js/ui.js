// Building the page. Every text reaches the DOM as a text node or an attribute
// value, never as HTML, so what users typed is shown as typed and cannot run.

import { locale, t } from './i18n.js';

/** An element: `h('button', { class: 'primary', onclick }, 'Pay')`. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `element` holds. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** "1 290.00 ₽" from the API's decimal string, without going through a float. */
export function money(amount, currency = '₽') {
  if (amount === null || amount === undefined) return '—';
  const [whole, fraction = '00'] = String(amount).split('.');
  const negative = whole.startsWith('-');
  const digits = negative ? whole.slice(1) : whole;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
  return `${negative ? '−' : ''}${grouped}.${fraction.padEnd(2, '0')}\u00a0${currency}`;
}

export function dateTime(value) {
  if (!value) return '—';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(value));
}

export function date(value) {
  if (!value) return '—';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(value));
}

export function time(value, timeZone) {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'short', timeZone }).format(new Date(value));
}

/** A status chip. */
export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

/** A tappable row of a list. */
export function row({ title, subtitle, aside, onclick, testid }) {
  return h(
    onclick ? 'button' : 'div',
    { class: 'row', onclick, type: onclick ? 'button' : undefined, 'data-testid': testid },
    h('span', { class: 'row-main' }, h('span', { class: 'row-title' }, title), subtitle ? h('span', { class: 'row-sub' }, subtitle) : null),
    aside ? h('span', { class: 'row-aside' }, aside) : null,
  );
}

/** A message where a list has nothing. */
export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

/** The API's words for what went wrong, in a box on the screen. */
export function errorBox(error) {
  return h('div', { class: 'error', role: 'alert' }, error?.message || String(error));
}

export function spinner() {
  return h('div', { class: 'spinner', 'aria-label': t('Загрузка', 'Loading') });
}

/**
 * A form whose fields are named like the API's: when the API answers 422 naming a
 * field, that field is marked and its message shown under it.
 */
export function form(fields, onsubmit) {
  const element = h('form', { class: 'form', novalidate: true, onsubmit: (event) => { event.preventDefault(); onsubmit(); } });
  for (const field of fields) element.append(field);
  element.append(h('div', { class: 'form-error', role: 'alert', hidden: true }));
  return element;
}

/** A labelled input (or select, or textarea) named as the API names the field. */
export function field(label, name, control) {
  control.name = name;
  control.id = `field-${name.replaceAll('.', '-')}`;
  return h('label', { class: 'field', for: control.id, 'data-field': name }, h('span', { class: 'field-label' }, label), control, h('span', { class: 'field-error', hidden: true }));
}

/** Clears the marks an earlier answer left. */
export function clearMarks(formElement) {
  for (const marked of formElement.querySelectorAll('.field.invalid')) {
    marked.classList.remove('invalid');
    marked.querySelector('.field-error').hidden = true;
    marked.querySelector('[aria-invalid]')?.removeAttribute('aria-invalid');
  }
  const general = formElement.querySelector('.form-error');
  if (general) general.hidden = true;
}

/** Shows an API error on the form: on the field it names, or above the button. */
export function markError(formElement, error) {
  clearMarks(formElement);
  const name = error?.field;
  const target = name ? findField(formElement, name) : null;
  if (target) {
    target.classList.add('invalid');
    const message = target.querySelector('.field-error');
    message.textContent = error.message;
    message.hidden = false;
    const control = target.querySelector('input, select, textarea');
    control?.setAttribute('aria-invalid', 'true');
    control?.focus();
    return;
  }
  const general = formElement.querySelector('.form-error');
  general.textContent = error?.message || String(error);
  general.hidden = false;
}

function findField(formElement, name) {
  // The API may name `delivery.phone` or `items[0].quantity`; match the nearest.
  const candidates = [name, name.replace(/\[\d+\]/g, ''), name.split('.').pop()];
  for (const candidate of candidates) {
    const found = formElement.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
    if (found) return found;
  }
  return null;
}

/**
 * A list that pages by cursor: `load(cursor)` answers `{ items, next_cursor }`;
 * `render(item)` makes a row. A "more" button fetches the next page.
 */
export function pagedList({ load, render, emptyText, testid }) {
  const list = h('div', { class: 'list', 'data-testid': testid });
  const more = h('button', { class: 'more', type: 'button', hidden: true }, t('Показать ещё', 'Show more'));
  const wrapper = h('div', {}, list, more);
  let cursor = null;
  let loading = false;
  let reloadAfter = false;
  async function page(first) {
    if (loading) {
      // A reload asked for meanwhile (a live update) runs once this page is in.
      if (first) reloadAfter = true;
      return;
    }
    loading = true;
    more.disabled = true;
    try {
      if (first) fill(list, spinner());
      const answer = await load(first ? null : cursor);
      if (first) list.replaceChildren();
      for (const item of answer.items) list.append(render(item));
      if (first && answer.items.length === 0) list.append(empty(emptyText));
      cursor = answer.next_cursor ?? null;
      more.hidden = !cursor;
    } catch (error) {
      if (first) fill(list, errorBox(error)); else list.append(errorBox(error));
    } finally {
      loading = false;
      more.disabled = false;
    }
    if (reloadAfter) {
      reloadAfter = false;
      page(true);
    }
  }
  more.addEventListener('click', () => page(false));
  wrapper.reload = () => page(true);
  page(true);
  return wrapper;
}

/** A section heading. */
export function heading(text) {
  return h('h2', { class: 'heading' }, text);
}

/** Label: value pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}

/** A short notice that fades. */
export function toast(text) {
  const note = h('div', { class: 'toast', role: 'status' }, text);
  document.body.append(note);
  setTimeout(() => note.remove(), 3000);
}
