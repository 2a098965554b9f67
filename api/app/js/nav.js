// Screens on a stack. Each screen is `async (view, params) => {}` and draws into
// `view.body`; it names its title, its MainButton action and what live updates
// concern it (subscribe first, then load, so nothing is missed in between).
// Telegram's BackButton (or the arrow beside the title) goes back one screen,
// which is drawn again with fresh data. There are no URLs to lose.
//
// One screen is shown at a time: whatever a screen left behind (its live
// listeners) goes when it does, and a listener of a screen that is gone is never
// kept. Redraws asked for while one is under way become one more redraw after it.

import { h, fill, errorBox, spinner } from './ui.js';
import { setBackButton, setMainButton } from './telegram.js';
import { live } from './live.js';

const stack = [];
let root = null;
let current = null;
let drawing = null;
let again = false;

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

/** Draws the screen on show again (once more after a redraw under way). */
export function refresh() {
  if (drawing) {
    again = true;
    return drawing;
  }
  return show();
}

async function show() {
  const run = draw();
  drawing = run;
  try {
    await run;
  } finally {
    if (drawing === run) drawing = null;
  }
  if (again && !drawing) {
    again = false;
    await show();
  }
}

async function draw() {
  current?.leave();
  const { screen, params } = stack[stack.length - 1];
  const title = h('h1', {});
  const arrow = stack.length > 1 ? h('button', { class: 'back', type: 'button', 'aria-label': 'Back', onclick: () => back() }, '‹') : null;
  const body = h('section', { class: 'screen' }, spinner());
  fill(root, h('header', { class: 'bar' }, arrow, title), body);
  setBackButton(stack.length > 1 ? () => back() : null);
  setMainButton(null);
  window.scrollTo(0, 0);
  const stops = [];
  let left = false;
  const keep = (stop) => { if (left) stop(); else stops.push(stop); };
  const view = {
    body,
    title(text) { if (!left) { title.textContent = text; document.title = text; } },
    main(options) { if (!left) setMainButton(options); },
    live(listener) { keep(live.subscribe((update) => { if (!left) listener(update); })); },
    onLeave(stop) { keep(stop); },
    leave() { left = true; for (const stop of stops) stop(); stops.length = 0; },
  };
  current = view;
  try {
    await screen(view, params);
  } catch (error) {
    if (!left) fill(body, errorBox(error));
  }
  if (!left) root.dataset.screen = screen.name;
}
