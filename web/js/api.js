// The one way the dashboard talks to the server: `/api/v1` with the session cookie, the CSRF
// header on every write, and errors turned into words (`ApiError.message`).
//
// The access token lives only in an HttpOnly cookie that scripts cannot read; the CSRF token
// (which is useless without the cookie) is held in memory here, never in localStorage.

import { t } from './i18n.js';

let csrfToken = null;
const signedOutListeners = new Set();

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** `fn()` runs when the server says the session is gone (after one refresh attempt). */
export function onSignedOut(fn) {
  signedOutListeners.add(fn);
  return () => signedOutListeners.delete(fn);
}

/** An API failure: `status` (0 when the server could not be reached), words in `message`. */
export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The words of an error body: `detail` as text, or each validation error as "field: message". */
export function errorWords(status, body) {
  const detail = body && body.detail;
  if (typeof detail === 'string' && detail) return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail.map((item) => {
      const where = Array.isArray(item.loc) ? item.loc.filter((part) => part !== 'body' && part !== 'query').join('.') : '';
      return where ? `${where}: ${item.msg}` : item.msg;
    }).join('; ');
  }
  return t(`core.http_${status}`, {}, t('core.http_other', { status }));
}

function url(path, query) {
  const full = path.startsWith('/api/') || path.startsWith('/ws') ? path : `/api/v1${path}`;
  if (!query) return full;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of [value].flat()) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `${full}?${text}` : full;
}

async function send(method, path, { body, query, form, headers = {} }) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
  if (form !== undefined) init.body = form; // FormData or URLSearchParams: the browser sets the type
  else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    return await fetch(url(path, query), init);
  } catch {
    throw new ApiError(0, t('core.unreachable'));
  }
}

let refreshing = null;

/** The session is gone: runs the signed-out flow (`onSignedOut` listeners). */
export function reportSignedOut() {
  setCsrfToken(null);
  signedOutListeners.forEach((fn) => fn());
}

/**
 * Renews the session cookie from the refresh cookie; true when it worked. Concurrent callers
 * share one request (a refresh token presented twice would revoke the sign-in).
 */
export async function refreshSession() {
  refreshing ||= send('POST', '/web/session/refresh', {}).then(async (response) => {
    if (!response.ok) return false;
    const session = await response.json();
    setCsrfToken(session.csrf_token);
    return true;
  }).finally(() => { refreshing = null; });
  return refreshing;
}

/**
 * Calls the API. `path` is under `/api/v1` unless it starts with `/api/`. Options: `body` (JSON),
 * `form` (FormData), `query` (object; arrays repeat the key), `raw` (resolve to the Response).
 * Resolves to the parsed JSON (null for 204); rejects with an ApiError in words.
 */
export async function api(method, path, options = {}) {
  let response = await send(method, path, options);
  if (response.status === 401 && csrfToken && !path.startsWith('/web/session')) {
    if (await refreshSession()) response = await send(method, path, options);
    else reportSignedOut();
  }
  if (options.raw && response.ok) return response;
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, errorWords(response.status, body), body);
  return body;
}

export const get = (path, query, options = {}) => api('GET', path, { ...options, query });
export const post = (path, body, options = {}) => api('POST', path, { ...options, body });
export const put = (path, body, options = {}) => api('PUT', path, { ...options, body });
export const patch = (path, body, options = {}) => api('PATCH', path, { ...options, body });
export const del = (path, options = {}) => api('DELETE', path, options);

/** Downloads a file the API serves (CSV, `.ics`) with the session, under `filename`. */
export async function download(path, filename, query) {
  const response = await api('GET', path, { query, raw: true });
  const blob = await response.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
