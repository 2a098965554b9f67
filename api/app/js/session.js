// The signed-in session: `POST /auth/telegram` with the client's initData (sent by
// the page's first script while the rest still arrives, when the server inlined it),
// then the access token is refreshed a minute before it expires (and once more if a
// call finds it expired). The refresh token is kept for this tab only, so a reload
// whose initData has aged past the server's limit resumes the session. Only the
// server's refusal of a refresh token ends it; a network failure is tried again,
// and a refused token falls back to signing in with initData once more.

const REFRESH_KEY = 'ledgerbot.refresh_token';
const EARLY_SECONDS = 60;

let access = null;
let user = null;
let timer = null;
let refreshing = null;
let lastInitData = '';
// The refresh token also lives here, for when the tab's storage is off.
let refreshToken = null;
const listeners = new Set();

async function post(path, body, early = null) {
  const response = await (early || fetch(`/api/v1${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  }));
  const parsed = await response.json().catch(() => null);
  if (!response.ok) {
    const { ApiError } = await import('./api.js');
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}

function keep(started) {
  access = started.access_token;
  user = started.user;
  refreshToken = started.refresh_token;
  try {
    sessionStorage.setItem(REFRESH_KEY, started.refresh_token);
  } catch {
    /* storage may be off: the token above serves this page */
  }
  clearTimeout(timer);
  const seconds = Math.max(10, started.expires_in - EARLY_SECONDS);
  timer = setTimeout(refreshOnTime, seconds * 1000);
  for (const listener of listeners) listener(user);
  return user;
}

/** The timed refresh; after a failure that may pass, again soon (the server takes
 *  the same refresh token again for a few seconds when its answer was lost). */
function refreshOnTime(attempt = 0) {
  session.refresh().catch((error) => {
    if (!refused(error)) timer = setTimeout(() => refreshOnTime(attempt + 1), attempt === 0 ? 3_000 : 15_000);
  });
}

function storedRefresh() {
  try {
    return sessionStorage.getItem(REFRESH_KEY) || refreshToken;
  } catch {
    return refreshToken;
  }
}

/** The server refused the request for good (not a timeout or a rate limit). */
function refused(error) {
  return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

export const session = {
  accessToken: () => access,
  user: () => user,
  canRefresh: () => Boolean(storedRefresh() || lastInitData),

  /** Signs in with Telegram's initData; answers the user. */
  async signIn(initData) {
    // The page's first script may have sent this very request already.
    const early = window.ledgerbotEarlySignIn;
    window.ledgerbotEarlySignIn = null;
    const answer = early && early.initData === initData ? early.answer : null;
    lastInitData = initData;
    return keep(await post('/auth/telegram', { init_data: initData }, answer));
  },

  /** Resumes this tab's session from its refresh token, if it has one. */
  async resume() {
    if (!storedRefresh()) return null;
    try {
      return await session.refresh();
    } catch {
      return null;
    }
  },

  /** A new access token (and refresh token); one request at a time. */
  async refresh() {
    if (!refreshing) {
      const token = storedRefresh();
      const again = () => post('/auth/telegram', { init_data: lastInitData }).then(keep);
      const attempt = token ? post('/auth/refresh', { refresh_token: token }).then(keep) : again();
      refreshing = attempt
        .catch(async (error) => {
          if (!token || !refused(error)) throw error; // an outage: try again later
          refreshToken = null;
          try { sessionStorage.removeItem(REFRESH_KEY); } catch { /* ignored */ }
          if (!lastInitData) throw error;
          return again();
        })
        .finally(() => { refreshing = null; });
    }
    return refreshing;
  },

  /** Replaces the user (after a profile change). */
  update(changed) {
    user = changed;
    for (const listener of listeners) listener(user);
  },

  onChange(listener) {
    listeners.add(listener);
  },
};
