// The page's first script (a classic one, run as soon as it arrives): sends the
// sign-in with Telegram's initData at once, so it travels while the rest of the
// page is still coming and being compiled; `session.signIn` takes its answer.
// Where the launch parameters are read is the bridge's (telegram.js) rule too.
(() => {
  const initData = (window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData)
    || new URLSearchParams(location.hash.slice(1)).get('tgWebAppData')
    || new URLSearchParams(location.search).get('tgWebAppData')
    || '';
  if (!initData) return;
  window.ledgerbotEarlySignIn = {
    initData,
    answer: fetch('/api/v1/auth/telegram', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ init_data: initData }),
    }),
  };
})();
