// Paying: the API starts a payment at YooKassa (or the sandbox) and answers its
// confirmation page, which opens outside the app with `openLink`. The app learns
// the result from the live feed; nothing is polled.

import { api } from './api.js';
import { openLink } from './telegram.js';
import { toast } from './ui.js';
import { t } from './i18n.js';

// One key per thing being paid for while this page lives, so pressing "pay" twice
// (or again after a network error) continues the same payment instead of a second.
const keys = new Map();

/** Starts (or continues) paying for `purpose` and opens the payment page. */
export async function pay(purpose) {
  const id = JSON.stringify(purpose);
  if (!keys.has(id)) keys.set(id, crypto.randomUUID());
  const started = await api('POST', '/payments', { purpose, idempotence_key: keys.get(id) });
  if (started.status !== 'pending' && started.status !== 'waiting_for_capture') keys.delete(id);
  if (started.confirmation_url) {
    openLink(started.confirmation_url);
    toast(t('Оплатите на открывшейся странице — экран обновится сам', 'Pay on the page that opened — this screen updates by itself'));
  }
  return started;
}

/** Forgets the key once the payment is settled, so a new one can start. */
export function settled(purpose) {
  keys.delete(JSON.stringify(purpose));
}
