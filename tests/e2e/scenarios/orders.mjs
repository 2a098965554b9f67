// Coursework from the customer's side: a brief placed in the app, priced by staff
// over the API, accepted and paid in the sandbox, the order becoming paid on
// screen without a reload; and a 422 marking the field it names.

import { apiAs, assert, textOf, openApp, payInSandbox, person, pressMain, screenshot, until, withRole } from '../lib/harness.mjs';

const status = (page, value) => page.locator(`[data-testid="order-status"][data-status="${value}"]`);

export async function coursework(browser) {
  const { context, page, opened } = await openApp(browser, person(3001, 'Катя'));
  await page.evaluate(() => { window.__sameDocument = true; });
  await page.locator('[data-testid="tile-orders"]').click();
  await page.locator('[data-testid="orders-mine"] .empty').waitFor();
  await pressMain(page, 'Новый заказ');
  await page.locator('#field-subject').fill('Теория графов: <b>раскраски</b>');
  await page.locator('#field-work_type').selectOption('курсовая');
  await page.locator('#field-volume').fill('25');
  await pressMain(page, 'Отправить заявку');
  await status(page, 'placed').waitFor();
  const orderId = await page.locator('[data-testid="order-card"]').getAttribute('data-order-id');
  // The title is shown as typed, never as markup. The heading may be drawn a moment
  // after the card (a live update redraws the view), so wait for it rather than read
  // it once: markup would never show these characters.
  await page.locator('h1', { hasText: '<b>раскраски</b>' }).waitFor({ timeout: 5000 })
    .catch(() => { throw new Error('assertion failed: the subject is shown as text'); });
  assert(await page.locator('#app b').count() === 0, 'no markup from user text');

  const admin = await withRole(person(3002, 'Админ'), 'admin');
  await admin.call('POST', `/orders/${orderId}/quote`, { price: '1500.00' });
  await status(page, 'quoted').waitFor();
  assert((await textOf(page.locator('[data-testid="order-card"]'))).includes('1 500.00'), 'the quote is on screen');

  await pressMain(page, 'Принять цену');
  await status(page, 'awaiting_payment').waitFor();
  await pressMain(page, 'Оплатить');
  const url = await until('the payment page to open with openLink', () => opened[0]);
  await payInSandbox(context, url);
  await status(page, 'paid').waitFor({ timeout: 20000 });
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page was never reloaded');
  const customer = await apiAs(person(3001, 'Катя'));
  const order = await customer.call('GET', `/orders/${orderId}`);
  assert(order.status === 'paid' && order.paid_amount === '1500.00', `the order is paid: ${order.status} ${order.paid_amount}`);
  await screenshot(page, 'coursework-paid');
  await context.close();
}

export async function fieldError(browser) {
  const { context, page } = await openApp(browser, person(3101, 'Лёша'));
  await page.locator('[data-testid="tile-orders"]').click();
  await pressMain(page, 'Новый заказ');
  await page.locator('#field-subject').fill('   ');
  await pressMain(page, 'Отправить заявку');
  const marked = page.locator('.field.invalid[data-field="subject"]');
  await marked.waitFor();
  const message = await marked.locator('.field-error').innerText();
  assert(message.length > 0 && !message.includes('HTTP'), `the API's words are under the field: ${message}`);
  assert(await page.locator('#field-subject').getAttribute('aria-invalid') === 'true', 'the input is marked invalid');
  assert(await page.locator('.field.invalid').count() === 1, 'only that field is marked');
  // Fixing it and a past deadline: the mark moves to the deadline.
  await page.locator('#field-subject').fill('Эконометрика');
  await page.locator('#field-deadline').fill('2020-01-01T10:00');
  await pressMain(page, 'Отправить заявку');
  await page.locator('.field.invalid[data-field="deadline"]').waitFor();
  assert(await page.locator('.field.invalid[data-field="subject"]').count() === 0, 'the fixed field is no longer marked');
  await screenshot(page, 'field-error');
  await context.close();
}
