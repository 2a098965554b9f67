// What this deployment offers (`GET /api/v1/app/settings`): which sections, the
// bot's username, the salon's time zone. The server writes it into the page, so
// the first screen does not wait for it; the API answers it otherwise.

import { api } from './api.js';

export const app = { settings: { sections: [], bot_username: null, salon_utc_offset: '+00:00' } };

/** Reads the settings from the page, or asks the API. */
export async function loadSettings() {
  const embedded = document.getElementById('ledgerbot-settings');
  if (embedded) {
    try {
      app.settings = JSON.parse(embedded.textContent);
      return app.settings;
    } catch {
      /* fall through to the API */
    }
  }
  app.settings = await api('GET', '/app/settings');
  return app.settings;
}
