// Who is signed in: the browser session (an HttpOnly cookie set by `POST /api/v1/web/session`),
// its user and permissions, and the CSRF token that every write carries.

import { api, setCsrfToken, ApiError } from './api.js';

let current = null;

/** The signed-in session `{user, permissions, roles, csrf_token, expires_at}`, or null. */
export function session() {
  return current;
}

/** True when the signed-in user holds `permission` (e.g. 'resource:create'). */
export function can(permission) {
  return !!current && (current.permissions || []).includes(permission);
}

function adopt(body) {
  current = body;
  setCsrfToken(body ? body.csrf_token : null);
  return current;
}

/**
 * Reads the session from the cookie (null when signed out). The access cookie lives 30 minutes
 * and the refresh cookie days, so when the first is gone the second renews it once.
 */
export async function loadSession() {
  try {
    return adopt(await api('GET', '/web/session'));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
  }
  try {
    return adopt(await api('POST', '/web/session/refresh'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return adopt(null);
    throw error;
  }
}

/**
 * Signs in. Rejects with an ApiError; `error.mfaRequired` is true when the account needs a
 * code (`mfa_code`) and none, or a wrong one, was given.
 */
export async function signIn({ username, password, mfa_code }) {
  try {
    return adopt(await api('POST', '/web/session', { body: { username, password, mfa_code: mfa_code || undefined } }));
  } catch (error) {
    if (error instanceof ApiError && /MFA/i.test(error.message)) error.mfaRequired = true;
    throw error;
  }
}

/** Signs out: the server revokes the sign-in and clears the cookies. */
export async function signOut() {
  try {
    await api('DELETE', '/web/session');
  } finally {
    adopt(null);
  }
}

export function forgetSession() {
  adopt(null);
}
