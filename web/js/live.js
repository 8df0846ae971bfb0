// The dashboard's one live connection to `/ws` (the protocol: docs/src/live-updates.md).
//
// Interface used by every page:
//   live.start()                     open (after sign-in); reconnects by itself with `?since=`
//   live.stop()                      close (on sign-out)
//   live.on(type, fn) -> off()       fn(message) for each message of `type` ('*' for all)
//   live.subscribe({resources, availability}) -> Promise
//                                    add subscriptions (kept across reconnects, sent again in the
//                                    URL); resolves once the server confirms them
//   live.unsubscribe({resources, availability})  drop what this caller subscribed
//   live.status() / live.onStatus(fn)          'connecting' | 'live' | 'offline'
//   live.lastSeq()                   the highest `seq` received (null before any)
//
// Besides the server's messages, listeners of 'open' get `{type: 'open', resumed}` each time a
// socket opens: `resumed` is true when it was opened with `?since=` (the server replays what was
// missed, or sends `resync_required`); false means events may have been missed (first
// connection), so a page showing live state reloads it.
//
// The socket is authenticated by the session cookie (same origin). When the server closes it
// because the sign-in ended (4401), the session is refreshed (`POST /web/session/refresh`, shared
// with api.js so that two refreshes never race) and the socket reopened with `?since=`; if the
// refresh fails, the app's signed-out flow runs. Reconnects back off exponentially with jitter.
// A `ping` goes out every 25 s; a socket that answers nothing within 10 s is dropped and
// reopened (a sleeping laptop or a dead Wi-Fi leaves sockets that look open).

import { api, ApiError, refreshSession, reportSignedOut } from './api.js';

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const TOO_MANY_SOCKETS_DELAY_MS = 60_000;
const CLOSE_SIGNED_OUT = 4401;
const CLOSE_TOO_MANY_SOCKETS = 4429;

const listeners = new Map();
const statusListeners = new Set();
let state = 'offline';
let started = false;
let socket = null;
let opened = false; // the current socket has opened
let seq = null;
let attempt = 0;
let reconnectTimer = null;
let pingTimer = null;
let silenceTimer = null;
let pendingConfirmations = []; // resolve functions waiting for the server's confirmation
let sentInUrl = { resources: [], availability: false }; // what the current socket's URL asked for
// Subscriptions, counted so that two callers subscribing one resource can each drop theirs.
const resourceCounts = new Map();
let availabilityCount = 0;

function setStatus(next) {
  if (state === next) return;
  state = next;
  for (const fn of statusListeners) {
    try { fn(next); } catch (error) { console.warn(error); }
  }
}

function emit(message) {
  for (const key of [message.type, '*']) {
    const set = listeners.get(key);
    if (!set) continue;
    for (const fn of [...set]) {
      try { fn(message); } catch (error) { console.warn('live listener failed', error); }
    }
  }
}

function subscribedResources() {
  return [...resourceCounts.keys()];
}

function socketUrl() {
  const params = new URLSearchParams();
  if (seq !== null) params.set('since', String(seq));
  const resources = subscribedResources();
  if (resources.length) params.set('resources', resources.join(','));
  if (availabilityCount > 0) params.set('availability', 'true');
  sentInUrl = { resources, availability: availabilityCount > 0 };
  const query = params.toString();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws${query ? `?${query}` : ''}`;
}

function send(message) {
  if (socket && opened && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(message));
    return true;
  }
  return false;
}

function confirmAll() {
  const waiting = pendingConfirmations;
  pendingConfirmations = [];
  waiting.forEach((resolve) => resolve());
}

function clearTimers() {
  clearTimeout(reconnectTimer);
  clearInterval(pingTimer);
  clearTimeout(silenceTimer);
  reconnectTimer = pingTimer = silenceTimer = null;
}

/** Forgets a socket: its handlers no longer run, and it is closed if still open. */
function discard(old, code = 1000, reason = 'bye') {
  if (!old) return;
  old.onopen = old.onmessage = old.onclose = old.onerror = null;
  try {
    if (old.readyState === WebSocket.OPEN || old.readyState === WebSocket.CONNECTING) old.close(code, reason);
  } catch { /* already closed */ }
}

function connect() {
  if (!started) return;
  clearTimers();
  discard(socket);
  opened = false;
  setStatus('connecting');
  const resumed = seq !== null;
  let ws;
  try {
    ws = new WebSocket(socketUrl());
  } catch (error) {
    console.warn('cannot open the live connection', error);
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.onopen = () => {
    opened = true;
    attempt = 0;
    setStatus('live');
    startKeepalive();
    if (!catchUpSubscriptions()) confirmAll();
    emit({ type: 'open', resumed });
  };
  ws.onmessage = (frame) => {
    heard();
    let message;
    try {
      message = JSON.parse(frame.data);
    } catch {
      return;
    }
    if (!message || typeof message.type !== 'string') return;
    if (Number.isInteger(message.seq) && (seq === null || message.seq > seq)) seq = message.seq;
    if (message.type === 'subscribed') confirmAll();
    if (message.type === 'pong') return;
    emit(message);
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    const wasOpen = opened;
    socket = null;
    opened = false;
    clearTimers();
    setStatus('offline');
    onClosed(event.code, wasOpen);
  };
  ws.onerror = () => { /* a close event follows */ };
}

/**
 * Sends what changed in the subscriptions while the socket was connecting (its URL was made
 * before). True when a `subscribe` went out (its confirmation resolves the waiting callers).
 */
function catchUpSubscriptions() {
  const now = new Set(subscribedResources());
  const added = [...now].filter((id) => !sentInUrl.resources.includes(id));
  const removed = sentInUrl.resources.filter((id) => !now.has(id));
  const availability = availabilityCount > 0;
  if (removed.length || (sentInUrl.availability && !availability)) {
    send({ type: 'unsubscribe', resources: removed, availability: sentInUrl.availability && !availability });
  }
  if (added.length || (availability && !sentInUrl.availability)) {
    send({ type: 'subscribe', resources: added, availability: availability && !sentInUrl.availability });
    return true;
  }
  return false;
}

async function onClosed(code, wasOpen) {
  if (!started) return;
  if (code === CLOSE_SIGNED_OUT) {
    // The sign-in behind the socket ended (expired or revoked): renew it, then resume.
    const renewed = await renew();
    if (renewed === false) reportSignedOut();
    else if (renewed) {
      attempt = 0;
      connect();
    } else scheduleReconnect(); // the server could not be reached: try again later
    return;
  }
  if (code === CLOSE_TOO_MANY_SOCKETS) {
    scheduleReconnect(TOO_MANY_SOCKETS_DELAY_MS);
    return;
  }
  if (!wasOpen && navigator.onLine !== false) {
    // The handshake was refused or never answered. A refused one is a 401 when the session
    // cookie expired: ask the session, which refreshes or reports the sign-out itself.
    if (!(await sessionAlive())) return;
  }
  scheduleReconnect();
}

/** False when the user is signed out (the signed-out flow has run). */
async function sessionAlive() {
  try {
    await api('GET', '/web/session');
    return true;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) return true; // unreachable: retry later
  }
  if ((await renew()) === false) {
    reportSignedOut();
    return false;
  }
  return true;
}

/** Refreshes the session: true, false (refused: signed out), or null (server unreachable). */
async function renew() {
  try {
    return await refreshSession();
  } catch {
    return null;
  }
}

function scheduleReconnect(fixedDelay) {
  if (!started) return;
  clearTimeout(reconnectTimer);
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  attempt = Math.min(attempt + 1, 16);
  // "Equal jitter": half fixed, half random, so a restarted server is not hit by every screen
  // at the same instant, and no client retries at once in a loop.
  const delay = fixedDelay ?? ceiling / 2 + Math.random() * (ceiling / 2);
  reconnectTimer = setTimeout(connect, delay);
}

function startKeepalive() {
  clearInterval(pingTimer);
  pingTimer = setInterval(() => {
    if (!send({ type: 'ping' })) return;
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => {
      // Nothing came back: the connection is dead even if the browser has not noticed.
      const dead = socket;
      socket = null;
      opened = false;
      discard(dead, 4000, 'no answer to ping');
      clearTimers();
      setStatus('offline');
      scheduleReconnect();
    }, PONG_WITHIN_MS);
  }, PING_EVERY_MS);
}

function heard() {
  clearTimeout(silenceTimer);
  silenceTimer = null;
}

function reconnectSoon() {
  if (started && !socket) {
    attempt = 0;
    connect();
  }
}

window.addEventListener('online', reconnectSoon);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') reconnectSoon();
});

function normalise({ resources = [], availability = false } = {}) {
  const ids = [...new Set([resources].flat().map(Number).filter((id) => Number.isInteger(id) && id > 0))];
  return { ids, availability: !!availability };
}

export const live = {
  start() {
    if (started) return;
    started = true;
    attempt = 0;
    connect();
  },

  stop() {
    started = false;
    clearTimers();
    const old = socket;
    socket = null;
    opened = false;
    discard(old, 1000, 'signed out');
    seq = null;
    confirmAll();
    setStatus('offline');
  },

  on(type, fn) {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type).add(fn);
    return () => listeners.get(type)?.delete(fn);
  },

  subscribe(subscriptions) {
    const { ids, availability } = normalise(subscriptions);
    const fresh = ids.filter((id) => !resourceCounts.has(id));
    ids.forEach((id) => resourceCounts.set(id, (resourceCounts.get(id) || 0) + 1));
    const freshAvailability = availability && availabilityCount === 0;
    if (availability) availabilityCount += 1;
    if (!fresh.length && !freshAvailability) return Promise.resolve();
    return new Promise((resolve) => {
      pendingConfirmations.push(resolve);
      const message = { type: 'subscribe' };
      if (fresh.length) message.resources = fresh;
      if (freshAvailability) message.availability = true;
      // Not open: the next socket carries the subscriptions in its URL.
      send(message);
    });
  },

  unsubscribe(subscriptions) {
    const { ids, availability } = normalise(subscriptions);
    const gone = [];
    for (const id of ids) {
      const count = (resourceCounts.get(id) || 0) - 1;
      if (count > 0) resourceCounts.set(id, count);
      else if (resourceCounts.delete(id)) gone.push(id);
    }
    let dropAvailability = false;
    if (availability && availabilityCount > 0) {
      availabilityCount -= 1;
      dropAvailability = availabilityCount === 0;
    }
    if (!gone.length && !dropAvailability) return;
    const message = { type: 'unsubscribe' };
    if (gone.length) message.resources = gone;
    if (dropAvailability) message.availability = true;
    send(message);
  },

  status: () => state,

  onStatus(fn) {
    statusListeners.add(fn);
    return () => statusListeners.delete(fn);
  },

  lastSeq: () => seq,
};
