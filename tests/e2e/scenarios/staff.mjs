// Staff screens in the app: an admin finds a user and changes their role, reads
// analytics drawn as charts, and downloads the month's tax ledger; an executor
// takes a paid coursework from the pool. Every screen fits 390 pixels.

import { apiAs, assert, env, openApp, payInSandbox, person, screenshot, until, withRole } from '../lib/harness.mjs';

/** Fails when the page is wider than the screen (something would scroll sideways). */
async function fits(page, where) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert(scroll <= width, `${where} is ${scroll}px wide on a ${width}px screen`);
}

export async function adminScreens(browser) {
  const target = await apiAs(person(7002, 'Костя'));
  await withRole(person(7001, 'Админ Нина'), 'admin');
  const { page } = await openApp(browser, person(7001, 'Админ Нина'));
  await fits(page, 'home');
  await page.locator('[data-testid="tile-users"]').click();
  await page.locator('[data-testid="user-search"]').fill('Костя');
  await page.locator('[data-testid="user-search"]').press('Enter');
  await page.locator('[data-testid="user-7002"]').click();
  await page.locator('#field-role').selectOption('executor');
  await page.getByRole('button', { name: 'Сменить роль' }).click();
  await page.locator('.facts', { hasText: 'executor' }).waitFor();
  const changed = await target.call('GET', '/auth/me');
  assert(changed.role === 'executor', `the role changed: ${changed.role}`);
  await fits(page, 'a user');
  await page.locator('#tg-back-button').click();
  await page.locator('#tg-back-button').click();
  await page.locator('[data-testid="tile-analytics"]').click();
  await page.locator('[data-testid="analytics-summary"]').waitFor();
  assert(await page.locator('[data-testid="chart"] svg').count() === 4, 'orders, revenue, refunds and tickets per day');
  await fits(page, 'analytics');
  await screenshot(page, 'admin-analytics');
  await page.locator('#tg-back-button').click();
  // The tax ledger is the owner's (the permission table): admins are not offered it.
  assert(await page.locator('[data-testid="tile-tax"]').count() === 0, 'no tax ledger for an admin');
  await page.context().close();
  const owner = await openApp(browser, person(env.ownerTelegramId, 'Владелец'));
  const ownerPage = owner.page;
  await ownerPage.locator('[data-testid="tile-tax"]').click();
  await ownerPage.locator('[data-testid="download-csv"]').waitFor();
  const [csv] = await Promise.all([ownerPage.waitForEvent('download'), ownerPage.locator('[data-testid="download-csv"]').click()]);
  assert(/^tax-ledger-\d{4}-\d{2}\.csv$/.test(csv.suggestedFilename()), `a CSV file: ${csv.suggestedFilename()}`);
  const [xlsx] = await Promise.all([ownerPage.waitForEvent('download'), ownerPage.locator('[data-testid="download-xlsx"]').click()]);
  assert(xlsx.suggestedFilename().endsWith('.xlsx'), 'an XLSX file');
  await fits(ownerPage, 'the tax ledger');
  await screenshot(ownerPage, 'owner-tax-ledger');
  await owner.context.close();
}

export async function executorPool(browser) {
  const customer = await withRole(person(7101, 'Студент'), 'client');
  const admin = await withRole(person(7102, 'Админ'), 'admin');
  await withRole(person(7103, 'Автор'), 'executor');
  const placed = await customer.call('POST', '/orders', { kind: 'coursework', subject: 'Матанализ', work_type: 'реферат', volume: 10, deadline: new Date(Date.now() + 7 * 86400000).toISOString() });
  await admin.call('POST', `/orders/${placed.order_id}/quote`, { price: '900.00' });
  await customer.call('POST', `/orders/${placed.order_id}/accept-quote`, {});
  const payment = await customer.call('POST', '/payments', { purpose: { kind: 'order', order_id: placed.order_id }, idempotence_key: `pool-${placed.order_id}` });
  const { page } = await openApp(browser, person(7103, 'Автор'));
  await payInSandbox(page.context(), payment.confirmation_url);
  await until('the order to be paid', async () => (await customer.call('GET', `/orders/${placed.order_id}`)).status === 'paid');
  await page.locator('[data-testid="tile-pool"]').click();
  await page.locator(`[data-testid="order-${placed.order_id}"]`).click();
  await page.locator('#tg-main-button', { hasText: 'Взять в работу' }).click();
  await page.locator('[data-testid="order-status"][data-status="assigned"]').waitFor();
  await page.locator('#tg-main-button', { hasText: 'Начать работу' }).click();
  await page.locator('[data-testid="order-status"][data-status="in_progress"]').waitFor();
  await fits(page, 'an order');
  await screenshot(page, 'executor-in-progress');
  await page.context().close();
}
