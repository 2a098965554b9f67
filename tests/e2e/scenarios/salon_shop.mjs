// The salon and the shop from the customer's side: a booking from service to a
// confirmed slot, and a cart kept on the server checked out into a paid order.

import { apiAs, assert, textOf, openApp, payInSandbox, person, pressMain, screenshot, until, withRole } from '../lib/harness.mjs';

const status = (page, value) => page.locator(`[data-testid="order-status"][data-status="${value}"]`);

export async function booking(browser) {
  const master = await withRole(person(4002, 'Оля'), 'executor');
  const { context, page } = await openApp(browser, person(4001, 'Маша'));
  await page.locator('[data-testid="tile-booking"]').click();
  await page.locator('[data-testid="service-haircut"]').click();
  await page.locator(`[data-testid="master-${master.user.user_id}"]`).click();
  // Tomorrow, the salon's day: the first free slot.
  await page.locator('[data-testid="days"] .chip').nth(1).click();
  const slot = page.locator('[data-testid="slots"] .chip').first();
  await slot.waitFor();
  const start = await slot.getAttribute('data-start');
  const shown = (await slot.innerText()).trim();
  await slot.click();
  await pressMain(page, `Записаться на ${shown}`);
  await status(page, 'booked').waitFor();
  const orderId = await page.locator('[data-testid="order-card"]').getAttribute('data-order-id');
  const customer = await apiAs(person(4001, 'Маша'));
  const order = await customer.call('GET', `/orders/${orderId}`);
  assert(order.kind === 'booking' && new Date(order.details.slot.start).getTime() === new Date(start).getTime(), `booked for the slot chosen: ${order.details.slot.start} vs ${start}`);
  assert(order.details.master_id === master.user.user_id, 'with the master chosen');
  assert(order.actions.includes('pay') && order.actions.includes('reschedule') && order.actions.includes('cancel'), `the customer may pay, move or cancel: ${order.actions}`);
  // The slot is no longer offered.
  const day = start.slice(0, 10);
  const free = await customer.call('GET', `/bookings/free-slots?master_id=${master.user.user_id}&date=${day}&service_id=haircut`);
  assert(!free.slots.some((s) => new Date(s.start).getTime() === new Date(start).getTime()), 'the booked slot is taken');
  await screenshot(page, 'booking-confirmed');
  await context.close();
}

export async function shop(browser) {
  const buyer = person(4101, 'Дима');
  const { context, page, opened } = await openApp(browser, buyer);
  await page.locator('[data-testid="tile-shop"]').click();
  await page.locator('[data-testid="product-mug"]').click();
  await page.locator('[data-testid="product-mug"] .row-sub').filter({ hasText: '1' }).waitFor();
  await page.locator('[data-testid="product-mug"]').click();
  await page.locator('[data-testid="product-mug"] .row-sub').filter({ hasText: '2' }).waitFor();
  await page.locator('[data-testid="product-tshirt"]').click();
  await page.locator('[data-testid="product-tshirt"] .row-sub').waitFor();
  // The cart is the server's: another session of the same person sees it.
  const elsewhere = await apiAs(buyer);
  const cart = await elsewhere.call('GET', '/cart');
  assert(cart.total === '2270.00' && cart.items.length === 2, `the server keeps the cart: ${JSON.stringify(cart)}`);
  await pressMain(page, 'Корзина: 3');
  assert((await textOf(page.locator('[data-testid="cart-total"]'))).includes('2 270.00'), 'the cart total');
  await page.locator('[data-testid="cart-mug"] button[aria-label="−"]').click();
  await page.locator('[data-testid="cart-total"]').filter({ hasText: /1\s780\.00/ }).waitFor();
  await page.locator('#field-recipient').fill('Дмитрий Петров');
  await page.locator('#field-phone').fill('+79001234567');
  await page.locator('#field-address').fill('Москва, ул. Ленина, 1, кв. 2');
  await pressMain(page, 'Оформить');
  await status(page, 'awaiting_payment').waitFor();
  const orderId = await page.locator('[data-testid="order-card"]').getAttribute('data-order-id');
  assert((await elsewhere.call('GET', '/cart')).items.length === 0, 'the cart is empty after checkout');
  await pressMain(page, 'Оплатить');
  const url = await until('the payment page to open', () => opened[0]);
  await payInSandbox(context, url);
  await status(page, 'paid').waitFor({ timeout: 20000 });
  const order = await elsewhere.call('GET', `/orders/${orderId}`);
  assert(order.paid_amount === '1780.00' && order.details.lines.length === 2, `paid for what the cart held: ${order.paid_amount}`);
  // Staff ship it; the customer sees the tracking number live.
  const admin = await withRole(person(4102, 'Склад'), 'admin');
  await admin.call('POST', `/orders/${orderId}/ship`, { tracking: 'RA123456789RU' });
  await status(page, 'shipped').waitFor();
  assert((await page.locator('[data-testid="order-card"]').innerText()).includes('RA123456789RU'), 'the tracking number is on screen');
  await screenshot(page, 'shop-shipped');
  await context.close();
}
