// The shop: products, the cart (kept on the server for this user, so it is the
// same on every device and survives closing the app), checkout with delivery
// details, then the order's own screen to pay and follow it.

import { api } from '../api.js';
import { go, refresh, replace } from '../nav.js';
import { t } from '../i18n.js';
import { orderList, orderScreen } from './orders.js';
import { clearMarks, empty, field, fill, form, h, heading, markError, money, row, toast } from '../ui.js';

async function setQuantity(productId, quantity) {
  return api('PUT', `/cart/items/${encodeURIComponent(productId)}`, { quantity });
}

// What the customer typed for delivery, kept while the cart is redrawn.
const draft = { recipient: '', phone: '', address: '' };

export async function shopScreen(view) {
  view.title(t('Магазин', 'Shop'));
  const [products, cart] = await Promise.all([api('GET', '/shop/products'), api('GET', '/cart')]);
  const inCart = new Map(cart.items.map((line) => [line.product_id, line.quantity]));
  let busy = false;
  const list = h('div', { class: 'list', 'data-testid': 'products' }, products.items.map((product) => row({
    title: product.name,
    subtitle: inCart.has(product.id) ? t(`В корзине: ${inCart.get(product.id)}`, `In the cart: ${inCart.get(product.id)}`) : null,
    aside: money(product.price),
    onclick: async () => {
      // One change at a time, each from the count the server last said.
      if (busy) return;
      busy = true;
      try {
        await setQuantity(product.id, (inCart.get(product.id) || 0) + 1);
        toast(t(`${product.name} — в корзине`, `${product.name} added`));
        refresh();
      } catch (error) {
        toast(error.message);
      } finally {
        busy = false;
      }
    },
    testid: `product-${product.id}`,
  })));
  const orders = orderList({ kind: 'shop', emptyText: t('Заказов пока нет', 'No orders yet') });
  view.live((update) => { if (update.type === 'resync' || update.topic === 'order') orders.reload(); });
  fill(view.body, list, heading(t('Мои заказы', 'My orders')), orders);
  const count = cart.items.reduce((sum, line) => sum + line.quantity, 0);
  view.main({ text: count ? t(`Корзина: ${count} · ${money(cart.total)}`, `Cart: ${count} · ${money(cart.total)}`) : t('Корзина пуста', 'The cart is empty'), disabled: !count, action: () => { if (count) go(cartScreen); } });
}

export async function cartScreen(view) {
  view.title(t('Корзина', 'Cart'));
  const cart = await api('GET', '/cart');
  if (!cart.items.length) {
    fill(view.body, empty(t('Корзина пуста', 'The cart is empty')));
    return;
  }
  const lines = h('div', { class: 'list', 'data-testid': 'cart' }, cart.items.map((line) => h('div', { class: 'row', 'data-testid': `cart-${line.product_id}` },
    h('span', { class: 'row-main' }, h('span', { class: 'row-title' }, line.name), h('span', { class: 'row-sub' }, `${money(line.price)} × ${line.quantity} = ${money(line.line_total)}`)),
    h('span', { class: 'actions' },
      h('button', { class: 'chip', type: 'button', 'aria-label': '−', onclick: () => change(line, line.quantity - 1) }, '−'),
      h('button', { class: 'chip', type: 'button', 'aria-label': '+', onclick: () => change(line, line.quantity + 1) }, '+')))));
  const kept = (control, name) => { control.value = draft[name]; control.addEventListener('input', () => { draft[name] = control.value; }); return control; };
  const recipient = kept(h('input', { type: 'text', autocomplete: 'name', maxlength: 200 }), 'recipient');
  const phone = kept(h('input', { type: 'tel', autocomplete: 'tel', maxlength: 32 }), 'phone');
  const address = kept(h('textarea', { autocomplete: 'street-address', maxlength: 500 }), 'address');
  const delivery = form([
    field(t('Получатель', 'Recipient'), 'recipient', recipient),
    field(t('Телефон', 'Phone'), 'phone', phone),
    field(t('Адрес доставки', 'Delivery address'), 'address', address),
  ], checkout);
  fill(view.body, lines, h('p', {}, t('Итого: ', 'Total: '), h('strong', { 'data-testid': 'cart-total' }, money(cart.total))), heading(t('Доставка', 'Delivery')), delivery);
  view.main({ text: t(`Оформить · ${money(cart.total)}`, `Check out · ${money(cart.total)}`), action: checkout });

  async function change(line, quantity) {
    try {
      await setQuantity(line.product_id, quantity);
      refresh();
    } catch (error) {
      toast(error.message);
    }
  }
  let sending = false;
  async function checkout() {
    if (sending) return;
    sending = true;
    clearMarks(delivery);
    try {
      const order = await api('POST', '/cart/checkout', { revision: cart.revision, delivery: { recipient: recipient.value, phone: phone.value, address: address.value } });
      toast(t('Заказ оформлен', 'Order placed'));
      replace(orderScreen, { id: order.order_id });
    } catch (error) {
      if (error.code === 'cart_changed') {
        // Changed elsewhere (another device): show the cart as it is now.
        toast(error.message);
        refresh();
        return;
      }
      markError(delivery, error);
    } finally {
      sending = false;
    }
  }
}
