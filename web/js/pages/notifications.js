// The notifications feed: newest first, all or only unread, mark one or all read, more on
// request; new ones appear at the top as they arrive (see bell.js for how they are noticed).

import { h, replace, flash } from '../dom.js';
import { t } from '../i18n.js';
import { get } from '../api.js';
import { formatDateTime } from '../format.js';
import { onNotifications, markRead, markAllRead, notificationHref, notificationTitle, notificationMessage, refreshNotifications } from '../bell.js';

export default async function render(view, ctx) {
  ctx.setTitle(t('core.nav_notifications'));
  const unreadOnly = ctx.query.unread === '1';
  const messages = h('div', { class: 'form-messages' });
  const summary = h('p', { class: 'hint', role: 'status', 'data-test': 'notifications-summary' });
  const list = h('ul', { class: 'notification-list', 'data-test': 'notification-list' });
  const footer = h('div', { class: 'actions' });
  const markAllButton = h('button', { type: 'button', class: 'btn', 'data-test': 'mark-all-read', onclick: doMarkAll }, t('core.mark_all_read'));
  replace(view,
    h('h1', {}, t('core.nav_notifications')),
    h('nav', { class: 'tabs', 'aria-label': t('home.notif_filter') },
      h('a', { href: '#/notifications', 'aria-current': unreadOnly ? null : 'page' }, t('home.notif_all')),
      h('a', { href: '#/notifications?unread=1', 'aria-current': unreadOnly ? 'page' : null }, t('home.notif_unread'))),
    h('div', { class: 'toolbar' }, summary, markAllButton),
    messages,
    list,
    footer);

  const items = new Map();
  let cursor = null;

  function itemNode(item) {
    const href = notificationHref(item.link);
    const title = notificationTitle(item);
    const node = h('li', {
      class: item.read ? 'notification' : 'notification unread', 'data-test': 'notification',
      'data-notification-id': item.id, 'data-read': String(!!item.read),
    },
    h('div', { class: 'notification-main' },
      h('p', { class: 'notification-title' }, item.read ? null : h('span', { class: 'badge badge-pending' }, t('core.unread')), item.read ? null : ' ', title),
      h('p', { class: 'notification-message' }, notificationMessage(item)),
      h('p', { class: 'hint' }, h('time', { datetime: item.created_at }, formatDateTime(item.created_at)))),
    h('div', { class: 'row-actions' },
      href ? h('a', { href, class: 'btn btn-small', onclick: () => { if (!item.read) markRead(item.id).catch(() => {}); } }, t('home.notif_open'), h('span', { class: 'visually-hidden' }, `: ${title}`)) : null,
      item.read ? null : h('button', {
        type: 'button', class: 'btn btn-small', 'data-test': 'mark-read',
        onclick: (event) => doMarkRead(item, event.currentTarget),
      }, t('home.notif_mark_read'), h('span', { class: 'visually-hidden' }, `: ${title}`))));
    return node;
  }

  function paintSummary(unread) {
    summary.textContent = unread ? t('home.notif_unread_count', { count: unread }) : t('home.notif_all_read');
    markAllButton.hidden = !unread;
  }

  function paintEmpty() {
    if (!items.size) replace(list, h('li', { class: 'empty' }, unreadOnly ? t('home.notif_none_unread') : t('home.notif_none')));
  }

  async function loadPage(next) {
    const body = await get('/notifications', { limit: 20, cursor: next, unread_only: unreadOnly || undefined });
    if (!next) {
      items.clear();
      replace(list);
    }
    for (const item of body.data || []) {
      if (items.has(item.id)) continue;
      const node = itemNode(item);
      items.set(item.id, { item, node });
      list.append(node);
    }
    paintEmpty();
    paintSummary(body.unread_count ?? 0);
    cursor = body.has_more ? body.next_cursor : null;
    replace(footer, cursor ? h('button', { type: 'button', class: 'btn', 'data-test': 'notifications-more', onclick: more }, t('home.notif_more')) : null);
  }

  async function more(event) {
    const trigger = event.currentTarget;
    trigger.disabled = true;
    try {
      await loadPage(cursor);
    } catch (error) {
      trigger.disabled = false;
      replace(messages, flash('error', error.message));
    }
  }

  function swap(item) {
    const entry = items.get(item.id);
    if (!entry) return;
    const node = itemNode(item);
    entry.node.replaceWith(node);
    entry.node = node;
    entry.item = item;
  }

  async function doMarkRead(item, trigger) {
    trigger.disabled = true;
    try {
      await markRead(item.id);
      const read = { ...item, read: true };
      if (unreadOnly) {
        items.get(item.id)?.node.remove();
        items.delete(item.id);
        paintEmpty();
      } else swap(read);
    } catch (error) {
      trigger.disabled = false;
      replace(messages, flash('error', error.message));
    }
  }

  async function doMarkAll() {
    markAllButton.disabled = true;
    try {
      await markAllRead();
      replace(messages, flash('success', t('home.notif_marked_all')));
      await loadPage(null);
    } catch (error) {
      replace(messages, flash('error', error.message));
    } finally {
      markAllButton.disabled = false;
    }
  }

  const off = onNotifications((state, fresh) => {
    if (!view.isConnected) return;
    paintSummary(state.unread);
    const newcomers = fresh.filter((item) => !items.has(item.id)).reverse();
    for (const item of newcomers) {
      if (!items.size) replace(list);
      const node = itemNode(item);
      node.classList.add('arrived');
      items.set(item.id, { item, node });
      list.prepend(node);
    }
  });

  try {
    await loadPage(null);
    refreshNotifications().catch(() => {});
  } catch (error) {
    replace(messages, flash('error', error.message));
  }
  return off;
}
