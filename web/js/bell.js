// The notifications bell in the top bar, and the small store of the signed-in user's
// notifications that the bell, the overview and the notifications page share.
//
// The server has no WebSocket message of its own for a notification: it writes the
// notification in the same transaction as the change it announces, so when one of the events
// that make notifications arrives on `/ws` the store fetches the newest ones and hands the new
// ones (ids above the highest seen) to its listeners. Nothing is polled.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { get, post } from './api.js';
import { session } from './session.js';
import { live } from './live.js';
import { formatDateTime } from './format.js';

/** The live message types whose change writes a notification for the user concerned. */
const NOTIFYING = new Set([
  'reservation_created', 'reservation_cancelled', 'reservation_released', 'reservation_updated',
  'waitlist_offer', 'waitlist_offer_expired', 'approval_request', 'reservation_approved',
  'reservation_rejected', 'resync_required',
]);
const LATEST = 5;
const STALE_MS = 60_000;

const store = { userId: null, unread: 0, latest: [], maxId: 0, loadedAt: 0 };
const listeners = new Set();
let pending = null;
let rerun = false;
let timer = null;

function resetFor(userId) {
  if (store.userId === userId) return;
  Object.assign(store, { userId, unread: 0, latest: [], maxId: 0, loadedAt: 0 });
}

function emit(fresh) {
  for (const fn of [...listeners]) {
    try { fn(store, fresh); } catch (error) { console.warn(error); }
  }
}

/**
 * `fn(store, fresh)` runs whenever the unread count or the latest notifications change;
 * `fresh` lists notifications that arrived since the last look (newest first).
 */
export function onNotifications(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The current `{unread, latest}` (possibly not loaded yet). */
export function notificationState() {
  return store;
}

/** Fetches the newest notifications and the unread count; resolves to the store. */
export function refreshNotifications() {
  const user = session();
  if (!user) return Promise.resolve(store);
  resetFor(user.user.id);
  if (pending) {
    // One is on its way, perhaps sent before the change that prompted this call: ask again after.
    rerun = true;
    return pending;
  }
  pending = get('/notifications', { limit: 10 }).then((body) => {
    const items = (body && body.data) || [];
    const firstLoad = store.loadedAt === 0;
    const fresh = firstLoad ? [] : items.filter((item) => item.id > store.maxId);
    store.latest = items.slice(0, LATEST);
    store.unread = Number(body.unread_count ?? items.filter((item) => !item.read).length);
    store.maxId = Math.max(store.maxId, ...items.map((item) => item.id));
    store.loadedAt = Date.now();
    emit(fresh);
    return store;
  }).finally(() => {
    pending = null;
    if (rerun) {
      rerun = false;
      refreshNotifications().catch(() => {});
    }
  });
  return pending;
}

function scheduleRefresh() {
  if (!session()) return;
  clearTimeout(timer);
  timer = setTimeout(() => refreshNotifications().catch((error) => console.warn(error)), 250);
}

live.on('*', (message) => {
  if (message && NOTIFYING.has(message.type)) scheduleRefresh();
});
live.onStatus((status) => {
  if (status === 'live' && store.loadedAt) scheduleRefresh();
});

/** Marks one notification read (on the server, then in the store). */
export async function markRead(id) {
  const updated = await post(`/notifications/${encodeURIComponent(id)}/read`);
  const item = store.latest.find((entry) => entry.id === id);
  if (!item || !item.read) store.unread = Math.max(0, store.unread - 1);
  if (item) item.read = true;
  emit([]);
  refreshNotifications().catch(() => {});
  return updated;
}

/** Marks every notification read. */
export async function markAllRead() {
  const result = await post('/notifications/mark-all-read');
  store.latest.forEach((item) => { item.read = true; });
  store.unread = 0;
  emit([]);
  return result;
}

/** The hash route a notification's `link` (an API-style path) opens, or null. */
export function notificationHref(link) {
  if (!link || typeof link !== 'string' || !link.startsWith('/')) return null;
  if (link.startsWith('/waitlist')) return '#/waitlist';
  if (link.startsWith('/approvals')) return '#/approvals';
  const reservation = link.match(/^\/reservations\/(\d+)$/);
  if (reservation) return `#/reservations/${reservation[1]}`;
  return null;
}

const TITLES = {
  'Reservation requested': 'title_requested',
  'Reservation confirmed': 'title_confirmed',
  'Reservation cancelled': 'title_cancelled',
  'Reservation released': 'title_released',
  'Reservation moved': 'title_moved',
  'Slot available!': 'title_offer',
  'Offer expired': 'title_offer_expired',
  'Approval Request': 'title_approval_request',
  'Reservation Approved': 'title_approved',
  'Reservation Rejected': 'title_rejected',
};

/** A notification's title in the page's language (the server writes English ones). */
export function notificationTitle(item) {
  const key = TITLES[item.title];
  return key ? t(`core.notif_${key}`) : item.title;
}

const INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** A notification's message with the server's ISO instants shown as readable times (viewer's zone). */
export function notificationMessage(item) {
  return String(item.message ?? '').replace(INSTANT, (instant) => {
    const date = new Date(instant);
    return Number.isNaN(date.getTime()) ? instant : formatDateTime(instant);
  });
}

const SVG = 'http://www.w3.org/2000/svg';

function bellIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '20');
  svg.setAttribute('height', '20');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', 'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z');
  svg.append(path);
  return svg;
}

let panelCounter = 0;

/**
 * Mounts the bell into `element`: a button showing the unread count (`data-test="bell"`,
 * `data-unread`), named "Notifications, N unread", that opens a list of the latest few with a
 * link to `#/notifications`; kept current from the live connection.
 */
export function mountBell(element) {
  const panelId = `bell-panel-${++panelCounter}`;
  const count = h('span', { class: 'bell-count', 'aria-hidden': 'true' });
  const button = h('button', {
    type: 'button', class: 'btn bell-button', 'data-test': 'bell', 'aria-expanded': 'false',
    'aria-controls': panelId, 'aria-haspopup': 'true',
  }, bellIcon(), count);
  const announcer = h('span', { class: 'visually-hidden', role: 'status' });
  const panel = h('div', { id: panelId, class: 'bell-panel', hidden: true, 'data-test': 'bell-panel' });
  element.classList.add('bell');
  replace(element, button, panel, announcer);

  let lastUnread = null;
  function paint(state, fresh = []) {
    if (!element.isConnected) {
      off();
      return;
    }
    const unread = state.unread || 0;
    button.dataset.unread = String(unread);
    button.setAttribute('aria-label', unread ? t('core.bell_label_unread', { count: unread }) : t('core.bell_label_none'));
    count.textContent = unread ? String(unread > 99 ? '99+' : unread) : '';
    count.hidden = !unread;
    if (lastUnread !== null && unread > lastUnread && fresh.length) {
      announcer.textContent = t('core.bell_new', { title: notificationTitle(fresh[0]) });
    }
    lastUnread = unread;
    if (!panel.hidden) paintPanel(state);
  }

  function paintPanel(state) {
    const items = state.latest.map((item) => {
      const href = notificationHref(item.link);
      const title = notificationTitle(item);
      return h('li', { class: item.read ? 'bell-item' : 'bell-item unread', 'data-notification-id': item.id },
        href ? h('a', { href, onclick: close }, title) : h('span', { class: 'bell-item-title' }, title),
        h('span', { class: 'bell-item-message' }, notificationMessage(item)),
        h('time', { class: 'bell-item-time', datetime: item.created_at }, formatDateTime(item.created_at)),
        item.read ? null : h('span', { class: 'visually-hidden' }, t('core.unread')));
    });
    replace(panel,
      h('p', { class: 'bell-panel-title' }, t('core.nav_notifications')),
      items.length ? h('ul', { class: 'bell-list' }, items) : h('p', { class: 'empty' }, t('core.bell_empty')),
      h('div', { class: 'bell-panel-footer' },
        h('a', { href: '#/notifications', onclick: close, 'data-test': 'bell-all' }, t('core.bell_see_all')),
        state.unread ? h('button', {
          type: 'button', class: 'btn btn-link', onclick: async () => {
            try { await markAllRead(); } catch (error) { console.warn(error); }
          },
        }, t('core.mark_all_read')) : null));
  }

  function onDocumentClick(event) {
    if (!element.contains(event.target)) close();
  }
  function onKey(event) {
    if (event.key === 'Escape') {
      close();
      button.focus();
    }
  }
  function open() {
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    paintPanel(store);
    document.addEventListener('click', onDocumentClick, true);
    document.addEventListener('keydown', onKey);
    refreshNotifications().catch(() => {});
  }
  function close() {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('click', onDocumentClick, true);
    document.removeEventListener('keydown', onKey);
  }
  button.addEventListener('click', () => (panel.hidden ? open() : close()));

  const user = session();
  if (user) resetFor(user.user.id);
  const off = onNotifications(paint);
  paint(store);
  if (!store.loadedAt || Date.now() - store.loadedAt > STALE_MS) {
    refreshNotifications().catch((error) => console.warn('notifications unavailable', error));
  }
  return () => { off(); close(); };
}
