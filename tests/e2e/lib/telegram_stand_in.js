// A stand-in for `window.Telegram.WebApp`, injected before the app loads, for a
// browser outside Telegram. Its initData is signed with the test's bot token (by
// the harness, in Node), so the server's real validation runs. It draws the
// MainButton and BackButton as Telegram would, below and above the page, so a
// test presses them like a person; `openLink` hands the URL to the test.
// Runs in the page: it must not depend on anything but the browser.
(({ initData, user, themeParams, colorScheme }) => {
  const handlers = {};
  const on = (name, handler) => { (handlers[name] ||= new Set()).add(handler); };
  const off = (name, handler) => { handlers[name]?.delete(handler); };
  const fire = (name) => { for (const handler of [...(handlers[name] || [])]) handler(); };
  function button(id, label, eventName) {
    const state = { text: label, visible: false, active: true };
    let element = null;
    const draw = () => {
      if (!document.body) return;
      if (!element) {
        element = document.createElement('button');
        element.id = id;
        element.type = 'button';
        element.addEventListener('click', () => { if (state.active) fire(eventName); });
        const base = 'position:fixed;left:0;right:0;z-index:1000;border:0;font:600 15px system-ui;padding:14px;cursor:pointer;';
        element.style.cssText = id === 'tg-main-button'
          ? `${base}bottom:0;background:${themeParams.button_color || '#2481cc'};color:${themeParams.button_text_color || '#fff'}`
          : `${base}top:0;right:auto;width:auto;background:transparent;color:${themeParams.link_color || '#2481cc'};padding:4px 10px;font-size:13px`;
        document.body.append(element);
      }
      element.textContent = id === 'tg-back-button' ? '‹ Back' : state.text;
      element.hidden = !state.visible;
      element.disabled = !state.active;
      element.dataset.active = String(state.active);
    };
    document.addEventListener('DOMContentLoaded', draw);
    const api = {
      get isVisible() { return state.visible; },
      get text() { return state.text; },
      setText(text) { state.text = text; draw(); return api; },
      setParams(params) {
        if ('text' in params) state.text = params.text;
        if ('is_visible' in params) state.visible = params.is_visible;
        if ('is_active' in params) state.active = params.is_active;
        draw();
        return api;
      },
      show() { state.visible = true; draw(); return api; },
      hide() { state.visible = false; draw(); return api; },
      enable() { state.active = true; draw(); return api; },
      disable() { state.active = false; draw(); return api; },
      onClick(handler) { on(eventName, handler); return api; },
      offClick(handler) { off(eventName, handler); return api; },
    };
    return api;
  }
  window.Telegram = {
    WebApp: {
      initData,
      initDataUnsafe: { user },
      version: '8.0',
      platform: 'tdesktop',
      themeParams,
      colorScheme,
      isExpanded: true,
      ready() { window.__telegramReady = true; },
      expand() {},
      close() { window.__telegramClosed = true; },
      openLink(url) { (window.__openedLinks ||= []).push(url); if (window.tgOpenLink) window.tgOpenLink(url); },
      openTelegramLink(url) { (window.__telegramLinks ||= []).push(url); },
      onEvent: on,
      offEvent: off,
      MainButton: button('tg-main-button', 'Continue', 'mainButtonClicked'),
      BackButton: button('tg-back-button', 'Back', 'backButtonClicked'),
    },
  };
})
