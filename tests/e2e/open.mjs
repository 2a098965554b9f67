// Opens the Mini App in Chromium as a Telegram user would see it, outside
// Telegram: the tests' stand-in for `Telegram.WebApp` with initData signed by the
// server's bot token (so the server's real check runs), a phone-sized window, the
// MainButton and BackButton drawn by the stand-in, and payment pages opened in a
// new tab. For trying the product by hand (README, "Try the Mini App").
//
//   node tests/e2e/open.mjs [--as 1001] [--name Anna] [--dark] [--url http://127.0.0.1:8080]
//
// The bot token comes from LEDGERBOT_BOT_TOKEN (or the checkout's .env), as the
// server's does. --headless saves a screenshot of the home screen and exits.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DARK, LIGHT, env, openAppPage, person, screenshot } from './lib/harness.mjs';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
};
const flag = (name) => args.includes(`--${name}`);

function tokenFromDotEnv() {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.env');
  if (!existsSync(file)) return '';
  const line = readFileSync(file, 'utf8').split('\n').find((l) => /^\s*LEDGERBOT_BOT_TOKEN\s*=/.test(l));
  return line ? line.split('=').slice(1).join('=').trim().replace(/^["']|["']$/g, '') : '';
}

env.baseUrl = option('url', env.baseUrl);
env.botToken = env.botToken || tokenFromDotEnv();
if (!env.botToken) {
  console.error('[open] LEDGERBOT_BOT_TOKEN is not set: start the server with one (any value of the form 123:abc works locally) and give this the same');
  process.exit(2);
}
const telegramId = Number(option('as', '1001'));
const dark = flag('dark');
const headless = flag('headless');
const browser = await chromium.launch({ executablePath: env.chromium, headless, args: ['--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...(headless ? ['--no-sandbox'] : [])] });
const onLink = async (url, context) => { const tab = await context.newPage(); await tab.goto(url); };
const { page, go } = await openAppPage(browser, person(telegramId, option('name', 'Анна')), { theme: dark ? DARK : LIGHT, scheme: dark ? 'dark' : 'light', onLink });
await go('/app/');
console.log(`[open] the Mini App at ${env.baseUrl}/app/ as Telegram user ${telegramId}${dark ? ', dark theme' : ''}`);
if (headless) {
  await page.locator('[data-testid="tile-profile"], [data-testid="outside-telegram"]').first().waitFor();
  await screenshot(page, `open-${telegramId}`);
  await browser.close();
} else {
  console.log('[open] close the window to finish');
  await new Promise((resolve) => browser.on('disconnected', resolve));
}
