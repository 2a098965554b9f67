// The Mini App's start: the Telegram bridge and theme, sign-in with initData, the
// live feed, then the home screen with what this business offers and this user's
// role may use. The server serves all modules bundled into the page (one response
// for the first screen); loaded one by one, they work the same.

import { webApp, insideTelegram, applyTheme } from './telegram.js';
import { session } from './session.js';
import { app, loadSettings } from './settings.js';
import { ordersScreen } from './screens/orders.js';
import { bookingScreen } from './screens/booking.js';
import { shopScreen } from './screens/shop.js';
import { creditsScreen } from './screens/credits.js';
import { supportScreen } from './screens/support.js';
import { referralsScreen } from './screens/referrals.js';
import { profileScreen } from './screens/profile.js';
import { queueScreen, poolScreen } from './screens/staff.js';
import { usersScreen, analyticsScreen, taxLedgerScreen } from './screens/admin.js';
import { live } from './live.js';
import { mount, go, home } from './nav.js';
import { h, fill, errorBox } from './ui.js';
import { setLanguage, t } from './i18n.js';

const root = document.getElementById('app');
mount(root);
applyTheme();
webApp.ready?.();
webApp.expand?.();
document.body.classList.toggle('in-telegram', insideTelegram);

export const screens = {
  orders: ordersScreen,
  booking: bookingScreen,
  shop: shopScreen,
  credits: creditsScreen,
  support: supportScreen,
  referrals: referralsScreen,
  profile: profileScreen,
  queue: queueScreen,
  pool: poolScreen,
  users: usersScreen,
  analytics: analyticsScreen,
  taxLedger: taxLedgerScreen,
};


function tile(title, hint, screen, testid) {
  return h('button', { class: 'tile', type: 'button', 'data-testid': testid, onclick: () => go(screen) }, h('strong', {}, title), h('span', {}, hint));
}

async function homeScreen(view) {
  const user = session.user();
  const sections = new Set(app.settings.sections);
  view.title(t(`Здравствуйте, ${user.first_name}`, `Hello, ${user.first_name}`));
  const customer = [];
  if (sections.has('coursework')) customer.push(tile(t('Заказы', 'Orders'), t('Работы, оплата, сроки', 'Work, payment, deadlines'), screens.orders, 'tile-orders'));
  if (sections.has('salon')) customer.push(tile(t('Запись', 'Book'), t('Услуга, мастер, время', 'Service, master, time'), screens.booking, 'tile-booking'));
  if (sections.has('shop')) customer.push(tile(t('Магазин', 'Shop'), t('Товары и корзина', 'Products and cart'), screens.shop, 'tile-shop'));
  if (sections.has('credits')) customer.push(tile(t('Кредиты', 'Credits'), t('Баланс и пакеты', 'Balance and packs'), screens.credits, 'tile-credits'));
  if (sections.has('support')) customer.push(tile(t('Поддержка', 'Support'), t('Мои обращения', 'My tickets'), screens.support, 'tile-support'));
  customer.push(tile(t('Друзья', 'Referrals'), t('Ссылка и бонусы', 'Link and rewards'), screens.referrals, 'tile-referrals'));
  customer.push(tile(t('Профиль', 'Profile'), t('Имя и язык', 'Name and language'), screens.profile, 'tile-profile'));
  const blocks = [h('div', { class: 'tiles' }, customer)];
  // What the role may use, from the server's permission table (each command still decides).
  const may = new Set(user.permissions || []);
  const staff = [];
  if (sections.has('support') && may.has('view_all_tickets')) staff.push(tile(t('Очередь обращений', 'Ticket queue'), t('По приоритету', 'By priority'), screens.queue, 'tile-queue'));
  if ((sections.has('coursework') || sections.has('shop') || sections.has('salon')) && (may.has('take_order_from_pool') || may.has('view_all_orders'))) staff.push(tile(t('Работа с заказами', 'Order work'), t('Пул и мои заказы', 'Pool and mine'), screens.pool, 'tile-pool'));
  if (may.has('view_users')) staff.push(tile(t('Пользователи', 'Users'), t('Поиск, роли, блок', 'Search, roles, blocks'), screens.users, 'tile-users'));
  if (may.has('view_reports')) staff.push(tile(t('Аналитика', 'Analytics'), t('Графики за период', 'Charts for a period'), screens.analytics, 'tile-analytics'));
  if (may.has('view_tax_ledger')) staff.push(tile(t('Налоги', 'Tax ledger'), t('НПД за месяц', 'NPD by month'), screens.taxLedger, 'tile-tax'));
  if (staff.length) blocks.push(h('h2', { class: 'heading' }, t('Для сотрудников', 'For staff')), h('div', { class: 'tiles' }, staff));
  const status = h('p', { class: 'live off', 'data-testid': 'live-status' }, t('Обновления: подключение…', 'Updates: connecting…'));
  const showStatus = (connected) => {
    status.classList.toggle('off', !connected);
    status.textContent = connected ? t('Обновления в реальном времени', 'Live updates on') : t('Обновления: переподключение…', 'Updates: reconnecting…');
  };
  if (live.connected()) showStatus(true);
  view.onLeave(live.onStatus(showStatus));
  fill(view.body, blocks, status);
  performance.mark('ledgerbot:first-screen');
}

function outsideTelegram(reason) {
  document.title = 'Ledgerbot';
  fill(
    root,
    h(
      'div',
      { class: 'outside', 'data-testid': 'outside-telegram' },
      h('h1', {}, t('Откройте приложение в Telegram', 'Open this app in Telegram')),
      h('p', {}, t('Это мини-приложение бота: оно узнаёт вас по данным, которые передаёт Telegram. Откройте его кнопкой в чате с ботом.', 'This is the bot’s Mini App: it knows you from what Telegram passes to it. Open it with the button in the chat with the bot.')),
      reason ? errorBox(reason) : null,
    ),
  );
}

async function start() {
  setLanguage(webApp.initDataUnsafe?.user?.language_code || navigator.language);
  let user = null;
  let failure = null;
  if (insideTelegram) {
    try {
      user = await session.signIn(webApp.initData);
    } catch (error) {
      failure = error;
      user = await session.resume();
    }
  }
  if (!user) {
    outsideTelegram(failure);
    return;
  }
  setLanguage(user.language || webApp.initDataUnsafe?.user?.language_code);
  session.onChange((changed) => setLanguage(changed.language));
  try {
    await loadSettings();
  } catch (error) {
    fill(root, errorBox(error));
    return;
  }
  live.start();
  home(homeScreen);
}

start();
