// Runs the Mini App's browser scenarios against a server already running at
// LEDGERBOT_E2E_BASE_URL whose bot token is LEDGERBOT_E2E_BOT_TOKEN (the Rust test
// `tests/tests/mini_app.rs` starts one per scenario). `node run.mjs <name>…`, or
// no name for all. A scenario passes when it ends without an error and the page
// logged none.

import * as orders from './scenarios/orders.mjs';
import * as salonShop from './scenarios/salon_shop.mjs';
import * as support from './scenarios/support.mjs';
import * as creditsTheme from './scenarios/credits_theme.mjs';
import * as staff from './scenarios/staff.mjs';
import { browserCalls, launch, screenshot } from './lib/harness.mjs';

// A scenario takes seconds; one that has not ended in this long is stuck (a call
// without a time limit of its own: evaluate, close, a fetch) and fails saying where.
const SCENARIO_LIMIT_MS = Number(process.env.LEDGERBOT_E2E_SCENARIO_LIMIT_MS || 120000);
const CLOSE_LIMIT_MS = 15000;

/** `promise`, or a rejection naming `what` once `ms` have passed. */
function within(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const scenarios = { ...orders, ...salonShop, ...support, ...creditsTheme, ...staff };
const names = process.argv.slice(2);
const chosen = names.length ? names : Object.keys(scenarios);
for (const name of chosen) {
  if (!scenarios[name]) {
    console.error(`[e2e] no scenario ${name}; there are: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
}

/** Saves each open page and prints its address and the start of its text. */
async function describePages(browser, name) {
  let n = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      n += 1;
      await screenshot(page, `${name}-failed-${n}`, { checkWidth: false }).catch(() => {});
      console.error(`[e2e] page ${n} (${page.url()}): ${(await page.locator('body').innerText({ timeout: 2000 }).catch(() => '')).slice(0, 400).replace(/\n+/g, ' / ')}`);
    }
  }
}

let failed = 0;
for (const name of chosen) {
  const browser = await launch();
  const pageErrors = [];
  browser.on('disconnected', () => {});
  const started = Date.now();
  try {
    const contexts = new Set();
    const watch = (context) => {
      contexts.add(context);
      context.on('page', (page) => {
        page.on('pageerror', (error) => pageErrors.push(error));
        // A script or style the page's policy refused means something did not run.
        page.on('console', (message) => {
          if (/Content Security Policy|Refused to/.test(message.text())) pageErrors.push(new Error(message.text()));
        });
      });
    };
    const original = browser.newContext.bind(browser);
    browser.newContext = async (options) => {
      const context = await original(options);
      context.setDefaultTimeout(20000);
      watch(context);
      return context;
    };
    await within(scenarios[name](browser), SCENARIO_LIMIT_MS, `scenario ${name}`);
    if (pageErrors.length) throw new Error(`the page threw: ${pageErrors.map(String).join('; ')}`);
    console.log(`[e2e] ${name}: passed in ${Date.now() - started} ms`);
  } catch (error) {
    failed += 1;
    // What was on screen when it failed, for a look (bounded: the page may be stuck).
    await within(describePages(browser, name), CLOSE_LIMIT_MS, 'describing the pages').catch((error) => console.error(`[e2e] ${error.message}`));
    console.error(`[e2e] ${name}: FAILED after ${Date.now() - started} ms\n${error.stack || error}`);
    console.error(`[e2e] the browser's last calls:\n${browserCalls.join('\n')}`);
  } finally {
    // Leaving the process kills a browser that will not close.
    await within(browser.close(), CLOSE_LIMIT_MS, 'closing the browser').catch((error) => {
      failed += 1;
      console.error(`[e2e] ${error.message}; the browser's last calls:\n${browserCalls.join('\n')}`);
    });
    browserCalls.length = 0;
  }
}
process.exit(failed ? 1 : 0);
