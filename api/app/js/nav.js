// Screens on a stack. Each screen is `async (view, params) => {}` and draws into
// `view.body`; it names its title, its MainButton action and what live updates
// concern it. Telegram's BackButton (or the arrow beside the title) goes back one
// screen, which is drawn again with fresh data. There are no URLs to lose.

import { h, fill, errorBox, spinner } from './ui.js';
import { setBackButton, setMainButton } from './telegram.js';
import { live } from './live.js';

const stack = [];
let root = null;
let current = null;

export function mount(element) {
  root = element;
}

/** Opens `screen` on top of the one on show. */
export function go(screen, params = {}) {
  stack.push({ screen, params });
  return show();
}

/** Goes back one screen (to the home screen at most). */
export function back() {
  if (stack.length > 1) stack.pop();
  return show();
}

/** Replaces the screen on show (after an action that makes a new thing). */
export function replace(screen, params = {}) {
  stack.pop();
  return go(screen, params);
}

/** Starts over at `screen`. */
export function home(screen, params = {}) {
  stack.length = 0;
  return go(screen, params);
}

/** Draws the screen on show again. */
export function refresh() {
  return show();
}

async function show() {
  current?.leave();
  const { screen, params } = stack[stack.length - 1];
  const title = h('h1', {});
  const arrow = stack.length > 1 ? h('button', { class: 'back', type: 'button', 'aria-label': 'Back', onclick: () => back() }, '‹') : null;
  const body = h('section', { class: 'screen' }, spinner());
  fill(root, h('header', { class: 'bar' }, arrow, title), body);
  setBackButton(stack.length > 1 ? () => back() : null);
  setMainButton(null);
  window.scrollTo(0, 0);
  const unsubscribers = [];
  const view = {
    body,
    title(text) { title.textContent = text; document.title = text; },
    main(options) { if (current === view) setMainButton(options); },
    live(listener) { unsubscribers.push(live.subscribe(listener)); },
    onLeave(stop) { unsubscribers.push(stop); },
    leave() { for (const stop of unsubscribers) stop(); unsubscribers.length = 0; },
  };
  current = view;
  try {
    await screen(view, params);
  } catch (error) {
    if (current === view) fill(body, errorBox(error));
  }
  root.dataset.screen = screen.name;
}
