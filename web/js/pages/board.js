// `#/board`: the live availability board, made for wall screens. `?resources=1,2` shows those
// resources (one of them: a room's door screen), without it every resource; `?kiosk=1` hides the
// shell (the router's `chrome: 'optional'`).
//
// It reads `GET /api/v1/board` once, then follows `/ws`: every event is applied to the one tile
// it concerns (a Map of id → tile, no re-render of the board). An event that says all there is
// to know (maintenance began, a resource renamed or deleted) is applied as is; one that may move
// "free until" or "busy until" (bookings made, moved, cancelled, ended: back-to-back runs and
// names are not in events) has that resource's entry read again, batched with the others of the
// same moment. Events that cannot change a tile (a booking after the next one) are ignored. One
// timer keeps the clock and reads a tile again when one of its times passes (a booking starts,
// the resource closes). After a reconnect the socket resumes with `?since=`; if it cannot (first
// connection, `resync_required`), the whole board is read again.
//
// For the browser benchmark: `window.__rrBoard = {applied: [ms…], tiles: N}`, the time each
// update took to apply to its tile.

import { h, replace, flash } from '../dom.js';
import { t } from '../i18n.js';
import { get } from '../api.js';
import { live } from '../live.js';
import { groupResourceIds, GROUP_EVENTS } from './organise.js';
import { formatTime, formatDateTime, localDate, viewerZone, zoneNote } from '../format.js';

const STATES = ['free', 'busy', 'maintenance', 'closed', 'disabled'];
const PAGE = 1000; // the server's MAX_BOARD_RESOURCES
const SUBSCRIBE_WAIT_MS = 3000;
const BATCH_MS = 20;
const RETRY_MS = 2000;
const RETRY_MAX_MS = 60_000;
const ANNOUNCE_EVERY_MS = 10_000;
const STALE_AFTER_MS = 5000;
const KEEP_TIMINGS = 2000;

// Events about one booking: they carry `resource_id`, `reservation_id` and usually its times.
const BOOKING_EVENTS = new Set([
  'reservation_created', 'reservation_cancelled', 'reservation_updated', 'reservation_expired',
  'reservation_released', 'reservation_checked_in', 'reservation_approved', 'reservation_rejected',
  'hold_created', 'hold_expired', 'hold_released', 'waitlist_offer', 'waitlist_offer_expired',
  'waitlist_accepted',
]);

/** `"1, 2,3"` → [1, 2, 3]; null when absent; undefined when malformed. */
function parseIds(raw) {
  if (raw === undefined || raw === null || raw.trim() === '') return null;
  const ids = raw.split(',').map((part) => part.trim()).filter(Boolean);
  if (!ids.every((id) => /^\d+$/.test(id))) return undefined;
  return [...new Set(ids.map(Number))];
}

// The server writes up to nanoseconds; Date.parse is only sure of milliseconds.
const ms = (iso) => (iso ? Date.parse(iso.replace(/(\.\d{3})\d+/, '$1')) : NaN);

export default async function render(view, ctx) {
  let ids = parseIds(ctx.query.resources);
  const kiosk = ctx.query.kiosk === '1';
  ctx.setTitle(t('board.title'));
  // `?group=ID`: every resource under the group (subgroups included), a floor's or a building's
  // board; it follows the group when a room moves or a subgroup is added or deleted.
  const group = ctx.query.group;
  if (group !== undefined) {
    if (!/^\d+$/.test(group)) ids = undefined;
    else {
      try {
        ids = await groupResourceIds(Number(group));
      } catch (error) {
        replace(view, h('h1', {}, t('board.title')), flash('error', error.message));
        return undefined;
      }
    }
  }
  if (ids === undefined) {
    replace(view, h('h1', {}, t('board.title')), flash('error', t('board.bad_list')));
    return undefined;
  }
  const board = createBoard(view, { ids, kiosk });
  await board.start();
  if (group === undefined) return board.stop;
  let again = null;
  const recheck = () => {
    clearTimeout(again);
    again = setTimeout(async () => {
      const now = await groupResourceIds(Number(group)).catch(() => null);
      const same = now && now.length === ids.length && now.every((id, i) => id === ids[i]);
      if (!same) ctx.navigate(location.hash.slice(1)); // the page again, with the group's resources now
    }, 300);
  };
  const offs = GROUP_EVENTS.map((type) => live.on(type, recheck));
  return () => {
    clearTimeout(again);
    offs.forEach((off) => off());
    board.stop();
  };
}

function createBoard(view, { ids, kiosk }) {
  const tiles = new Map(); // id → {entry, el, parts}
  const counts = Object.fromEntries(STATES.map((state) => [state, 0]));
  const metrics = { applied: [], tiles: 0 };
  window.__rrBoard = metrics;
  let skew = 0; // server clock − this clock, in ms
  let horizonMs = 24 * 3600 * 1000;
  let loading = true;
  let reading = false; // the first read has begun
  let reloadAfterLoad = false;
  let stopped = false;
  const buffered = [];
  const dirty = new Set();
  let flushTimer = null;
  let inFlight = false;
  let failures = 0; // re-reads failed in a row
  let tickTimer = null;
  let announceTimer = null;
  let lastAnnounce = 0;
  const changes = new Map(); // id → text, waiting to be announced
  let staleTimer = null;
  let wakeLock = null;
  const offs = [];

  const now = () => Date.now() + skew;
  const nowIso = () => new Date(now()).toISOString();

  // ---- the page -------------------------------------------------------------------------
  const clock = h('time', {});
  const note = h('p', { class: 'board-note' });
  const countList = h('ul', { class: 'board-counts', 'aria-label': t('board.counts') },
    STATES.map((state) => h('li', { class: `board-count board-count-${state}`, 'data-state': state })));
  const liveBadge = h('span', { class: 'board-live', role: 'status', 'data-status': live.status() });
  const announcer = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const grid = h('ul', { class: 'board-grid', 'aria-labelledby': 'board-title' });
  const problems = h('div', { class: 'board-problems' });
  const links = kiosk ? null : h('p', { class: 'board-links' },
    h('a', { href: `#/board?${new URLSearchParams({ ...(ids ? { resources: ids.join(',') } : {}), kiosk: '1' })}` }, t('board.kiosk_link')),
    ids ? [' · ', h('a', { href: '#/board' }, t('board.all_link'))] : null);
  const section = h('section', {
    class: `board${kiosk ? ' board-kiosk' : ''}${ids && ids.length === 1 ? ' board-single' : ''}`,
    // The page's own region announces changes, summarised; tiles and the clock stay quiet.
    'aria-live': 'off',
  },
  h('header', { class: 'board-head' },
    h('h1', { id: 'board-title' }, t('board.title')),
    h('p', { class: 'board-clock' }, h('span', { class: 'visually-hidden' }, `${t('board.clock')}: `), clock),
    kiosk ? liveBadge : null),
  note, countList, links, problems, announcer, grid);
  replace(view, section);

  // ---- tiles ------------------------------------------------------------------------------
  function when(iso, zone) {
    return localDate(iso, zone) === localDate(nowIso(), zone) ? formatTime(iso, zone) : formatDateTime(iso, zone);
  }

  function range(booking, zone) {
    const status = booking.status && booking.status !== 'active' ? ` (${t(`board.status_${booking.status}`)})` : '';
    return `${when(booking.start_time, zone)}–${when(booking.end_time, zone)}${status}`;
  }

  function bookingLine(key, booking, zone) {
    if (!booking) return '';
    const vars = { range: range(booking, zone), name: booking.user_name };
    return booking.user_name ? t(`board.${key}_by`, vars) : t(`board.${key}`, vars);
  }

  function untilText(entry) {
    const zone = entry.timezone;
    switch (entry.state) {
      case 'free':
        return entry.free_until
          ? t('board.free_until', { time: when(entry.free_until, zone) })
          : t('board.free_long', { hours: Math.round(horizonMs / 3600000) });
      case 'busy':
        return entry.busy_until ? t('board.busy_until', { time: when(entry.busy_until, zone) }) : t('board.state_busy');
      case 'maintenance':
        return entry.maintenance_until
          ? t('board.maintenance_until', { time: when(entry.maintenance_until, zone) })
          : t('board.maintenance');
      case 'closed':
        return entry.opens_at ? t('board.closed_until', { time: when(entry.opens_at, zone) }) : t('board.closed');
      default:
        return t('board.disabled');
    }
  }

  function detailText(entry) {
    if (entry.state === 'closed' && entry.closed_reason === 'blackout') {
      return entry.blackout_reason ? t('board.blackout', { reason: entry.blackout_reason }) : t('board.blackout_plain');
    }
    return bookingLine('now', entry.current, entry.timezone);
  }

  function newTile(entry) {
    const parts = {
      name: h('h2', { class: 'board-name' }),
      state: h('span', { class: 'board-state-text' }),
      until: h('p', { class: 'board-until', 'data-test': 'board-until' }),
      detail: h('p', { class: 'board-detail' }),
      next: h('p', { class: 'board-next' }),
      zone: h('p', { class: 'board-zone' }),
    };
    const el = h('li', { class: 'board-tile', 'data-test': 'board-tile', 'data-resource-id': entry.id },
      parts.name,
      h('p', { class: 'board-state' }, h('span', { class: 'board-icon', 'aria-hidden': 'true' }), parts.state),
      parts.until, parts.detail, parts.next, parts.zone);
    return { entry: null, el, parts, texts: {} };
  }

  function setText(tile, key, text) {
    if (tile.texts[key] === text) return;
    tile.texts[key] = text;
    tile.parts[key].textContent = text;
    tile.parts[key].hidden = !text;
  }

  /** Writes `entry` into its tile's DOM (only what changed). */
  function paint(tile, entry) {
    const previous = tile.entry;
    tile.entry = entry;
    if (tile.el.dataset.state !== entry.state) {
      if (previous) counts[previous.state] -= 1;
      counts[entry.state] += 1;
      tile.el.dataset.state = entry.state;
      paintCounts();
    }
    setText(tile, 'name', entry.name);
    setText(tile, 'state', t(`board.state_${entry.state}`));
    setText(tile, 'until', untilText(entry));
    setText(tile, 'detail', detailText(entry));
    setText(tile, 'next', bookingLine('next', entry.next, entry.timezone));
    setText(tile, 'zone', sharedZone() === entry.timezone ? '' : zoneNote(entry.timezone));
    return previous;
  }

  function insertSorted(tile) {
    const name = tile.entry.name;
    let before = null;
    for (const other of grid.children) {
      const otherTile = tiles.get(Number(other.dataset.resourceId));
      if (otherTile && otherTile !== tile && otherTile.entry.name.localeCompare(name) > 0) {
        before = other;
        break;
      }
    }
    grid.insertBefore(tile.el, before);
  }

  /** Applies a resource's new entry to its tile (made if new); `timed` records the duration. */
  function apply(entry, { timed = true, announce = true } = {}) {
    const started = performance.now();
    let tile = tiles.get(entry.id);
    const fresh = !tile;
    if (fresh) {
      tile = newTile(entry);
      tiles.set(entry.id, tile);
    }
    if (fresh || tile.entry.timezone !== entry.timezone) zoneCache = null;
    tile.waiting = false;
    const previous = paint(tile, entry);
    if (fresh) insertSorted(tile);
    else if (previous && previous.name !== entry.name) insertSorted(tile);
    metrics.tiles = tiles.size;
    if (timed) record(performance.now() - started);
    if (announce && (!previous || previous.state !== entry.state || tile.texts.until !== untilText(previous))) {
      queueAnnouncement(entry.id, t('board.changed_one', { name: entry.name, text: tile.texts.until }));
    }
    scheduleTick();
  }

  function remove(id, timed = true) {
    const started = performance.now();
    const tile = tiles.get(id);
    if (!tile) return;
    tiles.delete(id);
    zoneCache = null;
    counts[tile.entry.state] -= 1;
    tile.el.remove();
    paintCounts();
    metrics.tiles = tiles.size;
    if (timed) record(performance.now() - started);
  }

  function record(duration) {
    metrics.applied.push(duration);
    if (metrics.applied.length > KEEP_TIMINGS) metrics.applied.splice(0, metrics.applied.length - KEEP_TIMINGS);
  }

  function paintCounts() {
    for (const item of countList.children) {
      const state = item.dataset.state;
      item.textContent = t('board.count', { label: t(`board.state_${state}`), n: counts[state] });
      item.hidden = counts[state] === 0;
    }
  }

  function countsText() {
    return STATES.filter((state) => counts[state] > 0)
      .map((state) => t('board.count', { label: t(`board.state_${state}`), n: counts[state] })).join(', ');
  }

  let zoneCache = null;
  /** The one zone of every tile, or null when they differ. */
  function sharedZone() {
    if (zoneCache !== null) return zoneCache || null;
    const zones = new Set([...tiles.values()].map((tile) => tile.entry && tile.entry.timezone).filter(Boolean));
    zoneCache = zones.size === 1 ? [...zones][0] : '';
    return zoneCache || null;
  }

  function repaintAll() {
    zoneCache = null;
    for (const tile of tiles.values()) paint(tile, tile.entry);
    paintHead();
  }

  function paintHead() {
    const zone = sharedZone() || viewerZone();
    clock.dateTime = nowIso();
    clock.textContent = formatTime(nowIso(), zone);
    const shared = sharedZone();
    note.textContent = shared ? zoneNote(shared) : '';
    note.hidden = !shared;
  }

  // ---- reading the server --------------------------------------------------------------
  /** Takes the server's clock from an answer; its entries, each with the answer's horizon. */
  function adopt(body) {
    const serverNow = ms(body.now);
    if (!Number.isNaN(serverNow)) skew = serverNow - Date.now();
    const horizon = ms(body.horizon_end) - serverNow;
    if (horizon > 0) horizonMs = horizon;
    // Past its horizon an entry may miss a booking that was too far ahead to be read.
    return body.resources.map((entry) => ({ ...entry, horizon_end: body.horizon_end }));
  }

  /** Every shown resource's entry, page by page. */
  async function readAll() {
    const entries = [];
    if (ids) {
      for (let i = 0; i < ids.length; i += PAGE) {
        const body = await get('/board', { resources: ids.slice(i, i + PAGE).join(',') });
        entries.push(...adopt(body));
      }
    } else {
      let after = 0;
      for (;;) {
        const body = await get('/board', after ? { after } : undefined);
        entries.push(...adopt(body));
        if (!body.has_more || body.next_after === null) break;
        after = body.next_after;
      }
    }
    return entries;
  }

  async function reloadAll() {
    let entries;
    try {
      entries = await readAll();
    } catch (error) {
      if (stopped) return;
      replace(problems, flash('error', error.message || String(error)));
      setTimeout(() => { if (!stopped) reloadAll(); }, RETRY_MS * 5);
      return;
    }
    if (stopped) return;
    replace(problems);
    const seen = new Set();
    const fragmentWasEmpty = tiles.size === 0;
    if (fragmentWasEmpty) {
      // First paint: build every tile off-document, in name order, and insert them at once.
      entries.sort((a, b) => a.name.localeCompare(b.name));
      const fragment = document.createDocumentFragment();
      for (const entry of entries) {
        const tile = newTile(entry);
        tiles.set(entry.id, tile);
        paint(tile, entry);
        fragment.append(tile.el);
        seen.add(entry.id);
      }
      grid.append(fragment);
    } else {
      for (const entry of entries) {
        seen.add(entry.id);
        apply(entry, { timed: false, announce: false });
      }
      for (const id of [...tiles.keys()]) if (!seen.has(id)) remove(id, false);
    }
    metrics.tiles = tiles.size;
    if (ids) {
      const missing = ids.filter((id) => !seen.has(id));
      if (missing.length) problems.append(flash('info', t('board.missing', { ids: missing.join(', ') })));
    }
    if (!tiles.size) problems.append(h('p', { class: 'empty' }, t('board.empty')));
    repaintAll();
    scheduleTick();
  }

  /** Reads these resources' entries again (batched with others asked for meanwhile). */
  function refetch(resourceIds) {
    for (const id of resourceIds) dirty.add(id);
    if (!flushTimer && !inFlight) flushTimer = setTimeout(flush, BATCH_MS);
  }

  async function flush() {
    flushTimer = null;
    if (stopped || !dirty.size) return;
    const batch = [...dirty].slice(0, PAGE);
    batch.forEach((id) => dirty.delete(id));
    inFlight = true;
    let delay = BATCH_MS;
    try {
      const body = await get('/board', { resources: batch.join(',') });
      if (stopped) return;
      failures = 0;
      const seen = new Set();
      for (const entry of adopt(body)) {
        seen.add(entry.id);
        if (tiles.has(entry.id) || !ids) apply(entry);
      }
      for (const id of batch) if (!seen.has(id)) remove(id);
    } catch (error) {
      console.warn('board: cannot read resources again', error);
      batch.forEach((id) => dirty.add(id));
      failures += 1;
      delay = Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** (failures - 1)); // e.g. over the quota: back off
    } finally {
      inFlight = false;
      if (!stopped && dirty.size) flushTimer = setTimeout(flush, delay);
    }
  }

  // ---- events ---------------------------------------------------------------------------
  /** Whether a booking from `start` to `end` (ISO) may change what `entry` shows. */
  function bookingMatters(entry, start, end, reservationId) {
    if (entry.current?.reservation_id === reservationId || entry.next?.reservation_id === reservationId) return true;
    const s = ms(start);
    const e = ms(end);
    if (Number.isNaN(s) || Number.isNaN(e)) return true;
    if (e <= now() || s >= now() + horizonMs) return false;
    if (s <= now()) return true; // in progress
    if (!entry.next || s < ms(entry.next.start_time)) return true; // becomes (or was) the next one
    if (entry.state === 'free') return !entry.free_until || s < ms(entry.free_until);
    if (entry.state === 'busy') return s <= ms(entry.busy_until); // inside or extending the run
    return false;
  }

  function onBookingEvent(message) {
    const tile = tiles.get(message.resource_id);
    if (!tile) return;
    const entry = tile.entry;
    const matters = bookingMatters(entry, message.start_time, message.end_time, message.reservation_id)
      || (message.previous_start_time
        && bookingMatters(entry, message.previous_start_time, message.previous_end_time, message.reservation_id));
    if (matters) refetch([message.resource_id]);
  }

  function onStatusChanged(message) {
    const tile = tiles.get(message.resource_id);
    if (!tile) return;
    const blank = {
      free_until: null, busy_until: null, maintenance_until: null, opens_at: null,
      closed_reason: null, blackout_reason: null,
    };
    if (message.available === false) {
      apply({ ...tile.entry, ...blank, state: 'disabled' });
    } else if (message.status === 'unavailable') {
      const hours = message.auto_reset_hours;
      const until = hours && message.timestamp ? new Date(ms(message.timestamp) + hours * 3600000).toISOString() : null;
      apply({ ...tile.entry, ...blank, state: 'maintenance', maintenance_until: until });
      if (hours === undefined) refetch([message.resource_id]); // its end is not in this message
    } else {
      refetch([message.resource_id]); // back in service: free, busy or closed, as the data says
    }
  }

  function onMessage(message) {
    if (loading) {
      buffered.push(message);
      return;
    }
    handle(message);
  }

  function handle(message) {
    const type = message.type;
    if (BOOKING_EVENTS.has(type)) onBookingEvent(message);
    else if (type === 'resource_status_changed') onStatusChanged(message);
    else if (type === 'resource_updated') {
      const tile = tiles.get(message.resource_id);
      if (!tile) return;
      const { name, tags, timezone } = message;
      const zoneChanged = timezone && timezone !== tile.entry.timezone;
      apply({ ...tile.entry, name: name ?? tile.entry.name, tags: tags ?? tile.entry.tags, timezone: timezone ?? tile.entry.timezone }, { announce: false });
      if (zoneChanged) repaintAll();
    } else if (type === 'resource_created') {
      if (!ids) refetch([message.resource_id]);
    } else if (type === 'resource_deleted') {
      remove(message.resource_id);
    } else if (type === 'tag_renamed' || type === 'tag_deleted') {
      const old = (type === 'tag_renamed' ? message.old_name : message.name || '').toLowerCase();
      for (const tile of tiles.values()) {
        if (!tile.entry.tags?.some((tag) => tag.toLowerCase() === old)) continue;
        const tags = type === 'tag_renamed'
          ? tile.entry.tags.map((tag) => (tag.toLowerCase() === old ? message.new_name : tag))
          : tile.entry.tags.filter((tag) => tag.toLowerCase() !== old);
        tile.entry = { ...tile.entry, tags };
      }
    } else if (type === 'business_hours_updated' || type === 'blackout_dates_updated') {
      if (message.resource_id === null || message.resource_id === undefined) reloadAll();
      else if (tiles.has(message.resource_id)) refetch([message.resource_id]);
    } else if (type === 'resync_required') {
      reloadAll();
    }
  }

  function onOpen({ resumed }) {
    if (resumed) return;
    // A first connection: whatever happened before it is not replayed, so read it all (unless
    // the first read has not begun: it comes after this).
    if (!loading) reloadAll();
    else if (reading) reloadAfterLoad = true;
  }

  function onStatus(status) {
    liveBadge.dataset.status = status;
    liveBadge.textContent = t(`core.live_${status}`);
    clearTimeout(staleTimer);
    if (status === 'live') section.removeAttribute('data-stale');
    else staleTimer = setTimeout(() => section.setAttribute('data-stale', 'true'), STALE_AFTER_MS);
  }

  // ---- time -----------------------------------------------------------------------------
  /** When a tile's texts or state change by themselves: the earliest of its times. */
  function deadlineOf(entry) {
    let earliest = Infinity;
    for (const iso of [entry.free_until, entry.busy_until, entry.maintenance_until, entry.opens_at,
      entry.current?.end_time, entry.next?.start_time, entry.horizon_end]) {
      const at = ms(iso);
      if (!Number.isNaN(at) && at < earliest) earliest = at;
    }
    return earliest;
  }

  let tickAt = Infinity;
  let lastDay = null;

  /** The one timer: the next minute of the clock, or a tile's time, whichever comes first. */
  function scheduleTick() {
    if (stopped) return;
    const nextMinute = Math.floor(now() / 60000) * 60000 + 60000;
    let target = nextMinute;
    for (const tile of tiles.values()) {
      if (tile.waiting) continue; // already being read again
      const at = deadlineOf(tile.entry);
      if (at < target) target = at;
    }
    target = Math.max(target, now() + 250);
    if (tickTimer && target >= tickAt) return;
    clearTimeout(tickTimer);
    tickAt = target;
    tickTimer = setTimeout(tick, target - now());
  }

  function tick() {
    tickTimer = null;
    tickAt = Infinity;
    if (stopped) return;
    const current = now();
    const due = [];
    for (const [id, tile] of tiles) {
      if (!tile.waiting && deadlineOf(tile.entry) <= current) {
        tile.waiting = true;
        due.push(id);
      }
    }
    if (due.length) refetch(due);
    const day = localDate(nowIso(), sharedZone() || viewerZone());
    if (lastDay !== null && day !== lastDay) repaintAll(); // "Tue 09:00" becomes "09:00"
    else paintHead();
    lastDay = day;
    scheduleTick();
  }

  // ---- announcements --------------------------------------------------------------------
  function queueAnnouncement(id, text) {
    if (loading) return;
    changes.set(id, text);
    if (announceTimer) return;
    const wait = Math.max(0, lastAnnounce + ANNOUNCE_EVERY_MS - Date.now());
    announceTimer = setTimeout(announce, wait);
  }

  function announce() {
    announceTimer = null;
    if (stopped || !changes.size) return;
    lastAnnounce = Date.now();
    announcer.textContent = changes.size === 1
      ? [...changes.values()][0]
      : t('board.changed_many', { n: changes.size, counts: countsText() });
    changes.clear();
  }

  // ---- wall screens ---------------------------------------------------------------------
  async function keepAwake() {
    if (!kiosk || stopped || document.visibilityState !== 'visible' || !navigator.wakeLock) return;
    try {
      wakeLock = await navigator.wakeLock.request('screen');
    } catch {
      wakeLock = null; // refused (battery saver, no user gesture): the screen's own settings apply
    }
  }

  function onVisible() {
    if (document.visibilityState === 'visible') {
      keepAwake();
      tick(); // timers may have been throttled while hidden
    }
  }

  // ---- life cycle -----------------------------------------------------------------------
  async function start() {
    offs.push(live.on('*', onMessage));
    offs.push(live.on('open', onOpen));
    offs.push(live.onStatus(onStatus));
    onStatus(live.status());
    document.addEventListener('visibilitychange', onVisible);
    const subscription = ids ? { resources: ids } : { availability: true };
    // Subscribed before reading, so nothing that changes after the read goes unheard.
    await Promise.race([live.subscribe(subscription), new Promise((resolve) => setTimeout(resolve, SUBSCRIBE_WAIT_MS))]);
    reading = true;
    await reloadAll();
    loading = false;
    if (reloadAfterLoad) await reloadAll();
    for (const message of buffered.splice(0)) handle(message);
    lastDay = localDate(nowIso(), sharedZone() || viewerZone());
    scheduleTick();
    keepAwake();
  }

  function stop() {
    stopped = true;
    offs.forEach((off) => off());
    live.unsubscribe(ids ? { resources: ids } : { availability: true });
    document.removeEventListener('visibilitychange', onVisible);
    [flushTimer, tickTimer, announceTimer, staleTimer].forEach(clearTimeout);
    if (wakeLock) wakeLock.release().catch(() => {});
  }

  return { start, stop };
}
