// My bookings: upcoming and past (status badges, times in each resource's zone), cancel with
// an optional reason (and, for a series, this one or all following), check-in when the
// resource asks for it, the `.ics` of each booking, and my calendar-feed link. Kept current
// from the live connection.

import { h, replace, flash, table, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, download } from '../api.js';
import { live } from '../live.js';
import { formatRange, formatTime, zoneNote, viewerZone } from '../format.js';

/** The live message types that change one of my reservations. */
export const RESERVATION_EVENTS = [
  'reservation_created', 'reservation_cancelled', 'reservation_updated', 'reservation_expired',
  'reservation_approved', 'reservation_rejected', 'reservation_checked_in', 'reservation_released',
  'hold_created', 'hold_expired', 'hold_released', 'waitlist_accepted',
];

/** Statuses that still hold a slot. */
const CURRENT = new Set(['active', 'pending_approval', 'held']);
const BADGE = {
  active: 'confirmed', pending_approval: 'pending', held: 'warn', cancelled: 'cancelled',
  rejected: 'rejected', expired: 'closed', released: 'closed',
};
/** The server lets a booking be checked in from this long before its start. */
const CHECKIN_EARLY_MS = 15 * 60 * 1000;

/** A reservation status as a coloured badge in words. */
export function statusBadge(status) {
  return h('span', { class: `badge badge-${BADGE[status] || 'closed'}`, 'data-status': status },
    BADGE[status] ? t(`mine.status_${status}`) : status);
}

/** My reservations that have not ended and still hold their slot, soonest first. */
export async function loadUpcoming() {
  const body = await get('/reservations/my', {
    upcoming: true, include_cancelled: true, sort_by: 'start_time', sort_order: 'asc', limit: 100,
  });
  return ((body && body.data) || []).filter((r) => CURRENT.has(r.status));
}

/** The resource's name for screen readers, after a button's visible words ("Cancel: Room A"). */
export const hiddenName = (r) => h('span', { class: 'visually-hidden' }, `: ${r.resource.name}`);

const ended = (r) => new Date(r.end_time).getTime() <= Date.now();

/** A modal dialog (`<dialog>`) with a title, body and buttons; resolves to the button's value. */
function modal(view, { title, body = [], confirmLabel, confirmTest, danger = true, keepLabel }) {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
    const form = h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      body,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'confirm', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-test': confirmTest }, confirmLabel),
        h('button', { type: 'submit', value: 'keep', class: 'btn', 'data-test': 'dialog-keep' }, keepLabel || t('core.cancel'))));
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
    dialog.addEventListener('close', () => {
      const values = Object.fromEntries(new FormData(form));
      dialog.remove();
      resolve(dialog.returnValue === 'confirm' ? values : null);
    });
    view.append(dialog);
    dialog.showModal();
  });
}

export default async function render(view, ctx) {
  ctx.setTitle(t('mine.title'));
  const messages = h('div', { class: 'form-messages', 'aria-live': 'polite' });
  const showAll = h('input', { type: 'checkbox', id: 'mine-show-all', 'data-test': 'mine-show-all' });
  const upcomingRegion = h('div', { 'data-test': 'mine-upcoming' }, h('p', { class: 'loading' }, t('core.loading')));
  const pastRegion = h('div', { 'data-test': 'mine-past' }, h('p', { class: 'loading' }, t('core.loading')));
  const feedRegion = h('div', { class: 'feed' });
  replace(view,
    h('h1', {}, t('mine.title')),
    messages,
    h('div', { class: 'toolbar' },
      h('a', { href: '#/resources', class: 'btn btn-primary' }, t('mine.book')),
      h('div', { class: 'check' }, showAll, h('label', { for: 'mine-show-all' }, t('mine.show_all')))),
    h('h2', {}, t('mine.upcoming')),
    upcomingRegion,
    h('h2', {}, t('mine.past')),
    pastRegion,
    h('h2', {}, t('mine.feed_title')),
    feedRegion);

  const say = (kind, text) => replace(messages, flash(kind, text));
  let upcoming = [];
  let past = [];
  let pastCursor = null;
  let pastMore = false;
  const checkedIn = new Map();

  function actions(r) {
    const buttons = [
      h('a', { href: `#/reservations/${r.id}`, class: 'btn btn-small', 'data-test': 'reservation-link' }, t('mine.open'), hiddenName(r)),
      h('button', { type: 'button', class: 'btn btn-small', 'data-test': 'download-ics', title: t('mine.ics_title'), onclick: () => downloadIcs(r) }, t('mine.ics'), hiddenName(r)),
    ];
    if (!ended(r) && r.status === 'active' && r.resource.checkin_window_minutes != null && !checkedIn.has(r.id)) {
      const start = new Date(r.start_time).getTime();
      const opens = start - CHECKIN_EARLY_MS;
      const closes = start + r.resource.checkin_window_minutes * 60000;
      if (Date.now() >= closes) {
        // Past the deadline: checked in already (the list does not say), or about to be released.
      } else if (Date.now() >= opens) {
        buttons.push(h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-test': 'check-in', onclick: (event) => checkIn(r, event.currentTarget) }, t('mine.check_in'), hiddenName(r)));
      } else {
        buttons.push(h('small', { class: 'hint' }, t('mine.checkin_opens', { time: formatTime(new Date(opens).toISOString(), r.resource.timezone) })));
      }
    }
    if (!ended(r) && CURRENT.has(r.status)) {
      buttons.push(h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-test': 'cancel-reservation', onclick: () => cancel(r) }, t('mine.cancel'), hiddenName(r)));
    }
    return h('div', { class: 'row-actions' }, buttons);
  }

  function rows(list, empty) {
    const zones = new Set(list.map((r) => r.resource.timezone));
    const oneZone = zones.size === 1 ? [...zones][0] : null;
    return [
      oneZone ? h('p', { class: 'hint' }, zoneNote(oneZone)) : null,
      h('div', { class: 'stack-table' }, table([
        [t('mine.col_resource'), (r) => h('a', { href: `#/resources/${r.resource_id}` }, r.resource.name)],
        [t('mine.col_when'), (r) => h('span', {},
          h('time', { datetime: r.start_time }, formatRange(r.start_time, r.end_time, r.resource.timezone)),
          !oneZone && r.resource.timezone !== viewerZone() ? h('small', { class: 'hint zone' }, ` (${r.resource.timezone})`) : null,
          r.is_recurring_instance || r.recurrence_rule_id ? h('span', { class: 'chip' }, t('mine.series')) : null)],
        [t('mine.col_status'), (r) => h('span', {},
          statusBadge(r.status),
          checkedIn.has(r.id) ? [' ', h('span', { class: 'badge badge-free', 'data-test': 'checked-in' }, t('mine.checked_in_at', { time: formatTime(checkedIn.get(r.id), r.resource.timezone) }))] : null,
          r.cancellation_reason ? h('small', { class: 'hint reason' }, t('mine.reason', { reason: r.cancellation_reason })) : null)],
        [t('mine.col_actions'), actions],
      ], list, {
        empty,
        rowAttrs: (r) => ({ 'data-test': 'my-reservation', 'data-reservation-id': r.id, 'data-status': r.status }),
      })),
    ];
  }

  function paint() {
    if (!view.isConnected) return;
    const visible = (r) => showAll.checked || CURRENT.has(r.status);
    replace(upcomingRegion, rows(upcoming.filter(visible), t('mine.upcoming_none')));
    replace(pastRegion,
      rows(past.filter((r) => ended(r) && (showAll.checked || r.status !== 'cancelled')), t('mine.past_none')),
      pastMore ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', 'data-test': 'mine-more', onclick: loadMorePast }, t('mine.more'))) : null);
  }

  async function loadUpcomingAll() {
    const body = await get('/reservations/my', {
      upcoming: true, include_cancelled: true, sort_by: 'start_time', sort_order: 'asc', limit: 100,
    });
    upcoming = (body && body.data) || [];
  }

  async function loadPast(cursor) {
    const body = await get('/reservations/my', {
      include_cancelled: true, sort_by: 'start_time', sort_order: 'desc', limit: 50, cursor,
    });
    const items = ((body && body.data) || []).filter(ended);
    past = cursor ? past.concat(items) : items;
    pastCursor = body && body.next_cursor;
    pastMore = !!(body && body.has_more && pastCursor);
  }

  async function loadMorePast(event) {
    const trigger = event.currentTarget;
    trigger.disabled = true;
    try {
      await loadPast(pastCursor);
      paint();
    } catch (error) {
      trigger.disabled = false;
      say('error', error.message);
    }
  }

  async function load() {
    const [a, b] = await Promise.allSettled([loadUpcomingAll(), loadPast(null)]);
    if (!view.isConnected) return;
    paint();
    if (a.status === 'rejected') replace(upcomingRegion, flash('error', a.reason.message));
    if (b.status === 'rejected') replace(pastRegion, flash('error', b.reason.message));
  }

  async function downloadIcs(r) {
    try {
      await download(`/calendar/export/${r.id}.ics`, `reservation-${r.id}.ics`);
    } catch (error) {
      say('error', error.message);
    }
  }

  async function checkIn(r, trigger) {
    trigger.disabled = true;
    try {
      const result = await post(`/reservations/${r.id}/check-in`);
      checkedIn.set(r.id, (result && result.checked_in_at) || new Date().toISOString());
      say('success', t('mine.checked_in', { name: r.resource.name }));
      paint();
    } catch (error) {
      trigger.disabled = false;
      say('error', error.message);
    }
  }

  async function cancel(r) {
    const series = r.recurrence_rule_id != null;
    const reasonField = field(t('mine.cancel_reason'), { tag: 'textarea', name: 'reason', maxlength: 500, rows: 3, 'data-test': 'cancel-reason', hint: t('mine.cancel_reason_hint') });
    const scopeField = series ? field(t('mine.cancel_scope'), {
      tag: 'select', name: 'scope', value: 'occurrence', 'data-test': 'cancel-scope',
      options: [['occurrence', t('mine.scope_occurrence')], ['following', t('mine.scope_following')]],
    }) : null;
    const answer = await modal(view, {
      title: t('mine.cancel_title'),
      body: [
        h('p', {}, `${r.resource.name} — ${formatRange(r.start_time, r.end_time, r.resource.timezone)}`),
        reasonField,
        scopeField,
      ],
      confirmLabel: t('mine.cancel_confirm'),
      confirmTest: 'cancel-confirm',
      keepLabel: t('mine.cancel_keep'),
    });
    if (!answer) return;
    try {
      const body = { reason: (answer.reason || '').trim() || undefined };
      if (series) body.scope = answer.scope || 'occurrence';
      const result = await post(`/reservations/${r.id}/cancel`, body);
      const count = (result && result.cancelled_reservation_ids || []).length;
      say('success', count > 1 ? t('mine.cancelled_many', { count }) : t('mine.cancelled', { name: r.resource.name }));
      await load();
    } catch (error) {
      say('error', error.message);
    }
  }

  showAll.addEventListener('change', paint);

  // The calendar feed: a private link any calendar app can subscribe to.
  async function loadFeed() {
    let subscription;
    try {
      subscription = await get('/calendar/subscription-url');
    } catch (error) {
      replace(feedRegion, flash('error', error.message));
      return;
    }
    paintFeed(subscription.url);
  }

  function paintFeed(url) {
    const urlField = field(t('mine.feed_url'), { name: 'feed-url', value: url, readonly: true, 'data-test': 'feed-url', hint: t('mine.feed_hint') });
    const input = urlField.querySelector('input');
    input.addEventListener('focus', () => input.select());
    replace(feedRegion,
      h('p', {}, t('mine.feed_intro')),
      urlField,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', 'data-test': 'feed-copy', onclick: () => copy(input) }, t('mine.feed_copy')),
        h('button', { type: 'button', class: 'btn', 'data-test': 'feed-download', onclick: downloadAll }, t('mine.feed_download')),
        h('button', { type: 'button', class: 'btn btn-danger', 'data-test': 'feed-regenerate', onclick: regenerate }, t('mine.feed_regenerate'))));
  }

  async function copy(input) {
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      if (!document.execCommand || !document.execCommand('copy')) {
        say('error', t('mine.copy_failed'));
        return;
      }
    }
    toast(t('mine.copied'), 'success');
  }

  async function downloadAll() {
    try {
      await download('/calendar/my-feed', 'my-reservations.ics');
    } catch (error) {
      say('error', error.message);
    }
  }

  async function regenerate() {
    const answer = await modal(view, {
      title: t('mine.regenerate_title'),
      body: h('p', {}, t('mine.regenerate_body')),
      confirmLabel: t('mine.regenerate_confirm'),
      confirmTest: 'regenerate-confirm',
    });
    if (!answer) return;
    try {
      const result = await post('/calendar/regenerate-token');
      paintFeed(result.url);
      say('success', t('mine.regenerated'));
    } catch (error) {
      say('error', error.message);
    }
  }

  let timer = null;
  const reload = (message) => {
    const id = message && message.reservation_id;
    const known = id != null && (upcoming.some((r) => r.id === id) || past.some((r) => r.id === id));
    if (!known && message && !['reservation_created', 'waitlist_accepted', 'hold_created'].includes(message.type)) return;
    clearTimeout(timer);
    timer = setTimeout(() => load().catch((error) => console.warn(error)), 300);
  };
  const offs = RESERVATION_EVENTS.map((type) => live.on(type, reload));
  offs.push(live.on('resync_required', () => load().catch(() => {})));
  // Check-in windows open and bookings end while the page is open.
  const timeKey = () => upcoming.map((r) => {
    const start = new Date(r.start_time).getTime();
    const window = (r.resource.checkin_window_minutes || 0) * 60000;
    return `${r.id}:${ended(r)}:${Date.now() >= start - CHECKIN_EARLY_MS}:${Date.now() >= start + window}`;
  }).join();
  let lastKey = null;
  const clock = setInterval(() => {
    const key = timeKey();
    if (key !== lastKey) {
      lastKey = key;
      paint();
    }
  }, 30_000);

  await Promise.all([load(), loadFeed()]);
  lastKey = timeKey();
  return () => {
    clearTimeout(timer);
    clearInterval(clock);
    offs.forEach((off) => off());
  };
}
