// Credits bought with a pack (the balance changes on screen when the payment
// lands), the dark theme from Telegram's parameters, the screen outside Telegram,
// and the app speaking Telegram's web-events protocol when no SDK object exists.

import { DARK, assert, env, openApp, openAppPage, payInSandbox, person, screenshot, signInitData, until } from '../lib/harness.mjs';

export async function creditPack(browser) {
  const { context, page, opened } = await openApp(browser, person(6001, 'Петя'));
  await page.locator('[data-testid="tile-credits"]').click();
  const balance = page.locator('[data-testid="credit-balance"]');
  await balance.waitFor();
  const before = Number(await balance.innerText());
  await page.locator('[data-testid="pack-S"]').click();
  const url = await until('the payment page to open', () => opened[0]);
  await payInSandbox(context, url);
  await page.locator('[data-testid="credit-balance"]', { hasText: String(before + 100) }).waitFor({ timeout: 20000 });
  await page.locator('[data-testid="statement"] .row').first().waitFor();
  await screenshot(page, 'credits-after-pack');
  await context.close();
}

export async function darkTheme(browser) {
  const { context, page } = await openApp(browser, person(6101, 'Ночь'), { theme: DARK, scheme: 'dark' });
  const colours = await page.evaluate(() => {
    const style = getComputedStyle(document.body);
    const tile = getComputedStyle(document.querySelector('.tile'));
    return { background: style.backgroundColor, text: style.color, tile: tile.backgroundColor, scheme: document.documentElement.dataset.scheme };
  });
  assert(colours.background === 'rgb(23, 33, 43)', `the background is Telegram's: ${colours.background}`);
  assert(colours.text === 'rgb(245, 245, 245)', `the text colour is Telegram's: ${colours.text}`);
  assert(colours.tile === 'rgb(35, 46, 60)', `cards use the secondary background: ${colours.tile}`);
  assert(colours.scheme === 'dark', 'the dark scheme');
  await page.locator('[data-testid="tile-credits"]').click();
  await page.locator('[data-testid="credit-balance"]').waitFor();
  await screenshot(page, 'dark-theme-credits');
  await context.close();
}

export async function outsideTelegram(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${env.baseUrl}/app/`);
  await page.locator('[data-testid="outside-telegram"]').waitFor();
  assert((await page.locator('h1').innerText()).includes('Telegram'), 'it says to open the app in Telegram');
  // A forged initData is refused by the server and the screen says why.
  await page.goto('about:blank');
  await page.goto(`${env.baseUrl}/app/#tgWebAppData=${encodeURIComponent(signInitData(person(6201, 'X'), 'wrong:token'))}`);
  await page.locator('[data-testid="outside-telegram"] .error').waitFor();
  await screenshot(page, 'outside-telegram');
  await context.close();
}

export async function webEventsProtocol(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__events = [];
    window.TelegramWebviewProxy = { postEvent: (type, data) => window.__events.push([type, JSON.parse(data || '{}')]) };
  });
  const hash = new URLSearchParams({ tgWebAppData: signInitData(person(6301, 'Андроид')), tgWebAppThemeParams: JSON.stringify(DARK), tgWebAppVersion: '8.0', tgWebAppPlatform: 'android' });
  await page.goto(`${env.baseUrl}/app/#${hash}`);
  await page.locator('[data-testid="tile-orders"]').waitFor();
  assert(await page.evaluate(() => document.documentElement.dataset.scheme) === 'dark', 'the theme from the launch parameters');
  await page.locator('[data-testid="tile-orders"]').click();
  const setup = await until('the MainButton to be set up', () => page.evaluate(() => window.__events.find(([type, data]) => type === 'web_app_setup_main_button' && data.is_visible)));
  assert(setup[1].text === 'Новый заказ', `the MainButton's text: ${setup[1].text}`);
  const events = await page.evaluate(() => window.__events.map(([type]) => type));
  assert(events.includes('web_app_ready') && events.includes('web_app_setup_back_button'), `ready and the BackButton: ${events}`);
  await page.evaluate(() => window.Telegram.WebView.receiveEvent('main_button_pressed', null));
  await page.locator('#field-subject').waitFor();
  await page.evaluate(() => window.Telegram.WebView.receiveEvent('back_button_pressed', null));
  await page.locator('[data-testid="orders-mine"]').waitFor();
  await page.evaluate(() => window.Telegram.WebView.receiveEvent('theme_changed', { theme_params: { bg_color: '#ffffff', text_color: '#000000' } }));
  assert(await page.evaluate(() => document.documentElement.dataset.scheme) === 'light', 'a theme change applies at once');
  await screenshot(page, 'web-events-protocol');
  await context.close();
}

export async function unbundledPage(browser) {
  // index.html as written: every module is its own file, as the page falls back to.
  const { context, page, go } = await openAppPage(browser, person(6401, 'Модули'));
  const scripts = [];
  page.on('request', (request) => { if (request.url().includes('/app/js/')) scripts.push(request.url()); });
  await go('/app/index.html');
  await page.locator('[data-testid="tile-profile"]').waitFor();
  assert(scripts.some((url) => url.endsWith('/app/js/main.js')) && scripts.length > 10, `the modules came one by one: ${scripts.length}`);
  await page.locator('[data-testid="tile-credits"]').click();
  await page.locator('[data-testid="credit-balance"]').waitFor();
  await screenshot(page, 'unbundled-credits');
  await context.close();
}
