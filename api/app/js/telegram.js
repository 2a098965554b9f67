// The bridge to the Telegram client. Inside Telegram the official SDK (or a test's
// stand-in) may already have put `window.Telegram.WebApp` in place; when it has
// not, this module speaks the documented web-events protocol itself: launch
// parameters are read once from the URL hash (hash routing would lose them),
// methods go out through `TelegramWebviewProxy.postEvent`, `external.notify` or
// `parent.postMessage`, and events come in through `Telegram.WebView.receiveEvent`.

const launch = readLaunchParams();
const handlers = new Map();

function readLaunchParams() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const search = new URLSearchParams(location.search);
  const get = (name) => hash.get(name) ?? search.get(name);
  let theme = {};
  try {
    theme = JSON.parse(get('tgWebAppThemeParams') || '{}');
  } catch {
    theme = {};
  }
  return {
    initData: get('tgWebAppData') || '',
    theme,
    platform: get('tgWebAppPlatform') || 'unknown',
  };
}

function postEvent(eventType, eventData = {}) {
  const proxy = window.TelegramWebviewProxy;
  if (proxy && typeof proxy.postEvent === 'function') {
    proxy.postEvent(eventType, JSON.stringify(eventData));
  } else if (window.external && typeof window.external.notify === 'function') {
    window.external.notify(JSON.stringify({ eventType, eventData }));
  } else if (window.parent !== window) {
    window.parent.postMessage(JSON.stringify({ eventType, eventData }), 'https://web.telegram.org');
  }
}

function emit(eventType, eventData) {
  // A copy: a handler may replace the handlers (going back sets a new BackButton).
  for (const handler of [...(handlers.get(eventType) ?? [])]) handler(eventData);
}

/** The protocol-level stand-in for the SDK, used when no `Telegram.WebApp` exists. */
function protocolWebApp() {
  window.Telegram = window.Telegram || {};
  window.Telegram.WebView = window.Telegram.WebView || {};
  window.Telegram.WebView.receiveEvent = (eventType, eventData) => {
    if (eventType === 'theme_changed' && eventData && eventData.theme_params) {
      app.themeParams = eventData.theme_params;
      app.colorScheme = schemeOf(app.themeParams);
      emit('themeChanged');
    }
    emit(eventType, eventData);
  };
  window.addEventListener('message', (message) => {
    // Only the Telegram web client that embeds this page speaks here.
    if (message.source !== window.parent || window.parent === window) return;
    try {
      const { eventType, eventData } = JSON.parse(message.data);
      if (eventType) window.Telegram.WebView.receiveEvent(eventType, eventData);
    } catch {
      /* not a Telegram event */
    }
  });
  const button = (name, onPress) => {
    const state = { isVisible: false, text: '', isActive: true };
    return {
      get isVisible() { return state.isVisible; },
      setParams(params) {
        if ('text' in params) state.text = params.text;
        if ('is_visible' in params) state.isVisible = params.is_visible;
        if ('is_active' in params) state.isActive = params.is_active;
        if (name === 'main') {
          postEvent('web_app_setup_main_button', {
            is_visible: state.isVisible, is_active: state.isActive, text: state.text,
            color: app.themeParams.button_color, text_color: app.themeParams.button_text_color,
          });
        } else {
          postEvent('web_app_setup_back_button', { is_visible: state.isVisible });
        }
        return this;
      },
      setText(text) { return this.setParams({ text }); },
      show() { return this.setParams({ is_visible: true }); },
      hide() { return this.setParams({ is_visible: false }); },
      enable() { return this.setParams({ is_active: true }); },
      disable() { return this.setParams({ is_active: false }); },
      onClick(handler) { on(onPress, handler); return this; },
      offClick(handler) { off(onPress, handler); return this; },
    };
  };
  const app = {
    initData: launch.initData,
    initDataUnsafe: unsafeOf(launch.initData),
    themeParams: launch.theme,
    colorScheme: schemeOf(launch.theme),
    platform: launch.platform,
    ready: () => postEvent('web_app_ready'),
    expand: () => postEvent('web_app_expand'),
    openLink: (url) => {
      if (window.TelegramWebviewProxy || window.parent !== window) {
        postEvent('web_app_open_link', { url });
      } else {
        window.open(url, '_blank', 'noopener');
      }
    },
    openTelegramLink: (url) => {
      const path = url.replace(/^https:\/\/t\.me/, '');
      postEvent('web_app_open_tg_link', { path_full: path });
    },
    onEvent: (eventType, handler) => on(eventType, handler),
    offEvent: (eventType, handler) => off(eventType, handler),
  };
  app.MainButton = button('main', 'main_button_pressed');
  app.BackButton = button('back', 'back_button_pressed');
  return app;
}

/** The launch's fields as the SDK gives them (unchecked: only for the language). */
function unsafeOf(initData) {
  try {
    const user = new URLSearchParams(initData).get('user');
    return user ? { user: JSON.parse(user) } : {};
  } catch {
    return {};
  }
}

function on(eventType, handler) {
  if (!handlers.has(eventType)) handlers.set(eventType, new Set());
  handlers.get(eventType).add(handler);
}

function off(eventType, handler) {
  handlers.get(eventType)?.delete(handler);
}

/** `dark` when the background is dark, else `light`. */
function schemeOf(theme) {
  const hex = /^#([0-9a-f]{6})$/i.exec(theme.bg_color || '');
  if (!hex) return 'light';
  const value = parseInt(hex[1], 16);
  const luma = 0.299 * (value >> 16) + 0.587 * ((value >> 8) & 255) + 0.114 * (value & 255);
  return luma < 120 ? 'dark' : 'light';
}

/** The `Telegram.WebApp` object this app talks to. */
export const webApp = window.Telegram?.WebApp ?? protocolWebApp();

/** True when the app was opened by a Telegram client (it signed the launch). */
export const insideTelegram = Boolean(webApp.initData);

/** Sets the `--tg-theme-*` variables from the client's theme, and the scheme. */
export function applyTheme() {
  const root = document.documentElement;
  for (const [name, value] of Object.entries(webApp.themeParams || {})) {
    if (/^[a-z_]+$/.test(name) && /^#[0-9a-f]{3,8}$/i.test(String(value))) {
      root.style.setProperty(`--tg-theme-${name.replaceAll('_', '-')}`, value);
    }
  }
  root.dataset.scheme = webApp.colorScheme === 'dark' ? 'dark' : 'light';
}

webApp.onEvent?.('themeChanged', applyTheme);
webApp.onEvent?.('theme_changed', applyTheme);

let mainHandler = null;

/** Shows the MainButton with `text` calling `action`, or hides it (null). */
export function setMainButton(main) {
  const button = webApp.MainButton;
  if (!button) return;
  if (mainHandler) button.offClick(mainHandler);
  mainHandler = null;
  if (!main) {
    button.hide();
    return;
  }
  mainHandler = () => main.action();
  button.setText(main.text);
  button.onClick(mainHandler);
  if (main.disabled) button.disable(); else button.enable();
  button.show();
}

/** Shows the BackButton calling `action`, or hides it (null). */
let backHandler = null;
export function setBackButton(action) {
  const button = webApp.BackButton;
  if (!button) return;
  if (backHandler) button.offClick(backHandler);
  backHandler = action;
  if (action) {
    button.onClick(action);
    button.show();
  } else {
    button.hide();
  }
}

/** Opens `url` outside the app (a payment page) the way Telegram wants. */
export function openLink(url) {
  webApp.openLink(url);
}

/** Opens a t.me link inside Telegram (sharing), or as a link where that is not possible. */
export function openTelegramLink(url) {
  if (typeof webApp.openTelegramLink === 'function') webApp.openTelegramLink(url);
  else webApp.openLink(url);
}
