// The live feed (`/api/v1/ws`): every change to what this user may see arrives as
// an update; the screen on show re-reads what it concerns. The last position seen
// is kept so a reconnect misses nothing; a `resync` means re-read everything.

import { session } from './session.js';

const listeners = new Set();
const statusListeners = new Set();
let socket = null;
let position = null;
let retryDelay = 500;
let stopped = false;

function url() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = new URLSearchParams({ access_token: session.accessToken() || '' });
  if (position !== null) query.set('after', String(position));
  return `${scheme}//${location.host}/api/v1/ws?${query}`;
}

function setStatus(connected) {
  for (const listener of statusListeners) listener(connected);
}

function connect() {
  if (stopped || !session.accessToken()) return;
  socket = new WebSocket(url());
  socket.addEventListener('open', () => {
    retryDelay = 500;
    setStatus(true);
  });
  socket.addEventListener('message', (message) => {
    let update;
    try {
      update = JSON.parse(message.data);
    } catch {
      return;
    }
    if (update.type === 'hello') {
      if (position === null) position = update.position;
    } else if (update.type === 'update') {
      position = update.position;
      for (const listener of listeners) listener(update);
    } else if (update.type === 'resync') {
      for (const listener of listeners) listener({ type: 'resync' });
    }
  });
  socket.addEventListener('close', async (closed) => {
    setStatus(false);
    socket = null;
    if (stopped || closed.code === 4003) return;
    if (closed.code === 4001) {
      try {
        await session.refresh();
      } catch (error) {
        // Signed out for good: nothing to listen for. Otherwise try again below.
        if (error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) return;
      }
    }
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15_000);
  });
}

export const live = {
  start() {
    stopped = false;
    if (!socket) connect();
  },
  stop() {
    stopped = true;
    socket?.close();
  },
  /** `listener(update)` for each update; answers a function that stops listening. */
  subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** `listener(connected)` when the connection opens or drops; answers a stop. */
  onStatus(listener) {
    statusListeners.add(listener);
    return () => statusListeners.delete(listener);
  },
  connected: () => socket?.readyState === WebSocket.OPEN,
};
