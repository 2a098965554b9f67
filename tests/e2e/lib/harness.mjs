// What every browser test uses: Debian's Chromium through playwright-core, the
// Telegram stand-in with initData signed by the test's bot token, API clients for
// the people a scenario needs (staff act over the API), and screenshots.

import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const standIn = readFileSync(join(here, 'telegram_stand_in.js'), 'utf8');

export const env = {
  baseUrl: process.env.LEDGERBOT_E2E_BASE_URL || 'http://127.0.0.1:8080',
  botToken: process.env.LEDGERBOT_E2E_BOT_TOKEN || process.env.LEDGERBOT_BOT_TOKEN || '',
  ownerTelegramId: Number(process.env.LEDGERBOT_E2E_OWNER_ID || 1001),
  screenshots: process.env.LEDGERBOT_E2E_SCREENSHOTS || join(here, '..', 'screenshots'),
  chromium: process.env.LEDGERBOT_CHROMIUM || '/usr/bin/chromium',
};

export const LIGHT = { bg_color: '#ffffff', text_color: '#000000', hint_color: '#999999', link_color: '#2481cc', button_color: '#2481cc', button_text_color: '#ffffff', secondary_bg_color: '#efeff3' };
export const DARK = { bg_color: '#17212b', text_color: '#f5f5f5', hint_color: '#708499', link_color: '#6ab3f3', button_color: '#5288c1', button_text_color: '#ffffff', secondary_bg_color: '#232e3c' };

/** Telegram's initData for `user`, signed as a Telegram client would have it. */
export function signInitData(user, botToken = env.botToken, authDate = Math.floor(Date.now() / 1000)) {
  const fields = { auth_date: String(authDate), query_id: `AAE${user.id}`, user: JSON.stringify(user) };
  const checkString = Object.keys(fields).sort().map((key) => `${key}=${fields[key]}`).join('\n');
  const secret = createHmac('sha256', 'WebAppData').update(botToken).digest();
  const hash = createHmac('sha256', secret).update(checkString).digest('hex');
  return new URLSearchParams({ ...fields, hash }).toString();
}

export function person(id, firstName, extra = {}) {
  return { id, first_name: firstName, language_code: 'ru', username: `user${id}`, ...extra };
}

/**
 * The browser calls of the scenario running now, newest last (Playwright's own
 * "api" log): what a failed or stuck scenario was doing is printed from here.
 */
export const browserCalls = [];
const KEPT_CALLS = 60;

export async function launch() {
  if (!existsSync(env.chromium)) {
    throw new Error(`no Chromium at ${env.chromium}: scripts/test.sh installs Debian's chromium package (apt-get install chromium)`);
  }
  return chromium.launch({
    executablePath: env.chromium,
    headless: true,
    logger: {
      isEnabled: (name) => name === 'api',
      log: (name, severity, message) => {
        browserCalls.push(`${new Date().toISOString()} ${message}`);
        if (browserCalls.length > KEPT_CALLS) browserCalls.shift();
      },
    },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/**
 * The app open as `user` in a phone-sized page (390 px wide), with the stand-in.
 * Links the app opens (payment pages) open as new pages of the same context.
 */
export async function openApp(browser, user, options = {}) {
  const opened = await openAppPage(browser, user, options);
  await opened.go('/app/');
  await opened.page.locator('[data-testid="tile-profile"]').waitFor();
  return opened;
}

/** The same, before the app is loaded: `go(path)` loads it. */
export async function openAppPage(browser, user, { theme = LIGHT, scheme = 'light', width = 390, onLink } = {}) {
  const context = await browser.newContext({ viewport: { width, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: scheme });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  const opened = [];
  await page.exposeFunction('tgOpenLink', (url) => { opened.push(url); if (onLink) onLink(url, context); });
  const initData = signInitData(user);
  await page.addInitScript(`(${standIn})(${JSON.stringify({ initData, user, themeParams: theme, colorScheme: scheme })})`);
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  const go = (path) => page.goto(`${env.baseUrl}${path}`);
  return { context, page, opened, errors, go };
}

/** The MainButton the stand-in draws. */
export function mainButton(page) {
  return page.locator('#tg-main-button');
}

export function backButton(page) {
  return page.locator('#tg-back-button');
}

/** Presses the MainButton once it reads `text` (a regular expression or a string). */
export async function pressMain(page, text) {
  const button = mainButton(page);
  await button.filter({ hasText: text }).waitFor({ state: 'visible' });
  await button.click();
}

/** Saves the page; fails when it is wider than its screen (nothing may scroll sideways at 390 px). */
export async function screenshot(page, name, { checkWidth = true } = {}) {
  if (checkWidth) {
    const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    if (scroll > width) throw new Error(`${name}: the page is ${scroll}px wide on a ${width}px screen`);
  }
  mkdirSync(env.screenshots, { recursive: true });
  const path = join(env.screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`[e2e] screenshot ${path}`);
  return path;
}

/** A signed-in API client for `user` (staff act through it). */
export async function apiAs(user) {
  const signIn = await fetch(`${env.baseUrl}/api/v1/auth/telegram`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ init_data: signInitData(user) }),
  });
  if (!signIn.ok) throw new Error(`sign-in of ${user.id} failed: ${signIn.status} ${await signIn.text()}`);
  const session = await signIn.json();
  const call = async (method, path, body) => {
    const response = await fetch(`${env.baseUrl}/api/v1${path}`, {
      method, headers: { Authorization: `Bearer ${session.access_token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { user: session.user, call };
}

/** The owner (configured by telegram id) makes `user` a `role`; answers their client. */
export async function withRole(user, role) {
  const client = await apiAs(user);
  const owner = await apiAs(person(env.ownerTelegramId, 'Owner'));
  await owner.call('POST', `/users/${client.user.user_id}/role`, { role });
  return apiAs(user);
}

/** Clicks "pay" (or "cancel") on the sandbox's checkout page, as a customer would. */
export async function payInSandbox(context, url, action = 'pay') {
  const checkout = await context.newPage();
  await checkout.goto(url);
  // The button sends the customer back to the shop: wait until that page has
  // loaded, so the close below does not race the navigation's commit.
  await Promise.all([
    checkout.waitForURL((now) => now.href !== url, { waitUntil: 'load' }),
    checkout.getByRole('button', { name: action === 'pay' ? 'Pay' : 'Cancel' }).click(),
  ]);
  await closePage(checkout);
}

/**
 * Closes `page`. Chromium can acknowledge a close that races a navigation's
 * commit and never perform it (crbug.com/536385539, Playwright issues #41900 and
 * #42366): page.close() then waits forever. Each call sends the close again, so
 * one that has not finished in a second is repeated, three times at most.
 */
export async function closePage(page) {
  const closed = page.close();
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const done = await Promise.race([closed.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 1000))]);
    if (done) return;
    page.close().catch(() => {});
  }
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`the page at ${page.url()} would not close`)), 5000))]);
}

/** Waits until `condition()` holds (polling), or fails naming `what`. */
export async function until(what, condition, timeout = 15000) {
  const started = Date.now();
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() - started > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

/** A locator's text with no-break spaces (money's digit groups) as plain spaces. */
export async function textOf(locator) {
  return (await locator.innerText()).replace(/\u00a0/g, ' ');
}
