// Every call the page makes: JSON over HTTP with the token when the sidecar wants one, and the chat socket URL.
// The token is asked for once (on the first 401) and kept in sessionStorage, so it lives as long as the tab.

const TOKEN_KEY = 'streaming-llm-token';
let askToken = async () => { throw new Error('no token prompt'); };
let pendingAsk = null;

/** An error the sidecar answered: its status and its JSON {error, detail}. */
export class ApiError extends Error {
  constructor(status, error, detail) {
    super(detail || error || `HTTP ${status}`);
    this.status = status;
    this.error = error;
    this.detail = detail;
  }
}

/** How the page asks for the token: a function returning a promise of the token typed in. */
export function onTokenNeeded(prompt) {
  askToken = prompt;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Asks for the token once, however many calls were refused at the same time. */
async function newToken(wrong) {
  if (!pendingAsk) {
    pendingAsk = askToken(wrong).then(t => {
      sessionStorage.setItem(TOKEN_KEY, t);
      return t;
    }).finally(() => { pendingAsk = null; });
  }
  return pendingAsk;
}

/** A JSON call; a 401 asks for the token and tries again; any other error is an ApiError. */
export async function api(path, { method = 'GET', body } = {}) {
  for (;;) {
    const headers = { Accept: 'application/json' };
    const t = token();
    if (t) headers.Authorization = `Bearer ${t}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, 'unreachable', `the sidecar cannot be reached (${e.message})`);
    }
    if (res.status === 401) {
      await newToken(Boolean(t));
      continue;
    }
    const text = await res.text();
    const json = text ? parseJson(text) : null;
    if (!res.ok) {
      throw new ApiError(res.status, json?.error, json?.detail ?? text);
    }
    return json;
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The chat socket's URL. Browsers cannot set headers on a WebSocket, so the token goes as ?token= on the
 * upgrade, which the sidecar accepts on /ws/chat only.
 */
export function chatSocketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const t = token();
  return `${scheme}//${location.host}/ws/chat${t ? `?token=${encodeURIComponent(t)}` : ''}`;
}

/** Makes sure the token (if any is needed) is known before a socket is opened: sockets cannot show a 401. */
export async function ensureAuthorized() {
  await api('/playground/settings');
}

/** What a person should read for a refused call. */
export function describe(e) {
  if (!(e instanceof ApiError)) return String(e.message || e);
  switch (e.status) {
    case 0: return e.detail;
    case 409: return `Busy: ${e.detail}`;
    case 503: return `Engine not available: ${e.detail}`;
    default: return `${e.detail} (HTTP ${e.status})`;
  }
}
