// The support desk: a customer opens a ticket in the app, support's reply arrives
// live, the customer rates the help once it is resolved; a support agent working
// in the app writes an internal note the customer never sees.

import { apiAs, assert, openApp, person, pressMain, screenshot, until, withRole } from '../lib/harness.mjs';

async function openTicket(page, title) {
  await page.locator('[data-testid="tile-support"]').click();
  await pressMain(page, 'Новое обращение');
  await page.locator('#field-title').fill(title);
  await page.locator('#field-priority').selectOption('HIGH');
  await page.locator('#field-description').fill('Оплатил заказ, а статус не меняется.');
  await pressMain(page, 'Отправить');
  await page.locator('[data-testid="ticket-card"]').waitFor();
  return page.locator('[data-testid="ticket-card"]').getAttribute('data-ticket-id');
}

export async function ticketLive(browser) {
  const customer = person(5001, 'Ира');
  const { context, page } = await openApp(browser, customer);
  await page.evaluate(() => { window.__sameDocument = true; });
  const ticketId = await openTicket(page, 'Не прошла оплата');
  const support = await withRole(person(5002, 'Саша'), 'support');
  await support.call('POST', `/tickets/${ticketId}/messages`, { text: 'Проверим платёж у банка', internal: true });
  await support.call('POST', `/tickets/${ticketId}/messages`, { text: 'Здравствуйте! Платёж нашёлся, статус обновлён.', internal: false });
  await page.locator('[data-testid="message"]', { hasText: 'Платёж нашёлся' }).waitFor();
  assert(await page.locator('#app', { hasText: 'Проверим платёж у банка' }).count() === 0, 'the internal note never reaches the customer');
  await support.call('POST', `/tickets/${ticketId}/status`, { status: 'resolved' });
  await page.locator('[data-testid="rating-form"]').waitFor();
  await page.locator('[data-testid="rating-form"] [data-stars="5"]').click();
  await page.locator('#field-comment').fill('Быстро помогли, спасибо');
  await page.locator('[data-testid="rate-send"]').click();
  await page.locator('[data-testid="ticket-rating"]', { hasText: '★★★★★' }).waitFor();
  const ticket = await (await apiAs(customer)).call('GET', `/tickets/${ticketId}`);
  assert(ticket.rating === 5, `the rating is stored: ${ticket.rating}`);
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page was never reloaded');
  await screenshot(page, 'ticket-rated');
  await context.close();
}

export async function internalNote(browser) {
  const customer = person(5101, 'Гоша');
  const agent = person(5102, 'Вика');
  await withRole(agent, 'support');
  const mine = await openApp(browser, customer);
  const ticketId = await openTicket(mine.page, 'Где мой заказ?');
  const desk = await openApp(browser, agent);
  await desk.page.locator('[data-testid="tile-queue"]').click();
  await desk.page.locator(`[data-testid="ticket-${ticketId}"]`).click();
  await desk.page.locator('[data-testid="staff-controls"]').waitFor();
  await desk.page.locator('[data-testid="reply-text"]').fill('Клиент VIP, ответить до вечера');
  await desk.page.locator('[data-testid="reply-internal"]').check();
  await desk.page.locator('[data-testid="reply-send"]').click();
  await desk.page.locator('[data-testid="internal-note"]', { hasText: 'Клиент VIP' }).waitFor();
  await desk.page.locator('[data-testid="reply-text"]').fill('Заказ передан в доставку');
  await desk.page.locator('[data-testid="reply-send"]').click();
  await desk.page.locator('[data-testid="message"]', { hasText: 'передан в доставку' }).waitFor();
  // The customer's screen gets the reply live, and never the note.
  await mine.page.locator('[data-testid="message"]', { hasText: 'передан в доставку' }).waitFor();
  assert(await mine.page.locator('[data-testid="internal-note"]').count() === 0, 'no internal note on the customer screen');
  assert(await mine.page.locator('#app', { hasText: 'Клиент VIP' }).count() === 0, 'the note text is nowhere on the customer screen');
  const seen = await (await apiAs(customer)).call('GET', `/tickets/${ticketId}`);
  assert(seen.messages.every((message) => !message.internal && !message.text.includes('VIP')), 'the API never gives the customer the note');
  // The agent assigns it to themselves and sets the status from the same screen.
  const agentClient = await apiAs(agent);
  assert((await agentClient.call('GET', `/tickets/${ticketId}`)).assignee_id === null, 'nobody holds it yet');
  await desk.page.locator('#field-assignee_id').selectOption({ label: 'Я' });
  await desk.page.locator('#field-status').selectOption('in_progress');
  await desk.page.locator('[data-testid="ticket-save"]').click();
  await desk.page.locator('[data-testid="ticket-status"][data-status="in_progress"]').waitFor();
  const held = await agentClient.call('GET', `/tickets/${ticketId}`);
  assert(held.assignee_id === agentClient.user.user_id, `the agent holds it: ${held.assignee_id}`);
  // Changing only the priority leaves the assignee as it is.
  await desk.page.locator('#field-priority').selectOption('CRITICAL');
  await desk.page.locator('[data-testid="ticket-save"]').click();
  await desk.page.locator('[data-testid="staff-controls"] #field-priority').waitFor();
  await until('the priority to change', async () => (await agentClient.call('GET', `/tickets/${ticketId}`)).priority === 'CRITICAL');
  assert((await agentClient.call('GET', `/tickets/${ticketId}`)).assignee_id === agentClient.user.user_id, 'still the agent');
  await screenshot(desk.page, 'internal-note-staff');
  await screenshot(mine.page, 'internal-note-customer');
  await desk.context.close();
  await mine.context.close();
}
