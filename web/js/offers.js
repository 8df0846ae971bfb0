// Waitlist offers, live, on whatever page the user is on. When a slot frees, the resource's
// actor offers it to the first waiting entry and announces `waitlist_offer` on `/ws` (to the
// offered user, and to the resource's subscribers — so each offer is checked to be the
// signed-in user's own with `GET /waitlist/{id}` before it is shown). The panel lists the
// user's open offers with a countdown to expiry, Accept (`POST /waitlist/{id}/accept`, which
// books the held slot) and Decline (`DELETE /waitlist/{id}`, which passes it to the next).
// Offers already open when a page loads are read from `GET /waitlist`, so a reload or a dropped
// connection loses none. On `#/waitlist` the page shows the offers itself and the panel stays
// empty (one card per offer on screen). The panel sits above the page, in the flow (never over
// the page's own controls).

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { get, post, del } from './api.js';
import { session } from './session.js';
import { live } from './live.js';
import { formatRange, zoneNote } from './format.js';
import { countdown } from './calendar.js';

/**
 * One offer as a card (`data-test="offer"`, `data-waitlist-id`), with its countdown and the
 * Accept/Decline buttons. `offer`: `{id, resource_id, resource_name, zone, start, end, expires}`.
 * `on.accepted(reservation)`, `on.declined()`, `on.gone(message)` (expired or no longer open).
 * `headingLevel` 0 makes the title plain text (in the panel, which sits outside the page's
 * heading outline). Returns `{element, stop}` (stop the countdown).
 */
export function offerCard(offer, on = {}, headingLevel = 3) {
  const message = h('div', { class: 'offer-message' });
  const clock = h('time', { class: 'countdown', role: 'timer', 'data-test': 'offer-countdown' });
  const busy = (value) => buttons.querySelectorAll('button').forEach((b) => { b.disabled = value; });
  const fail = (error) => {
    replace(message, h('p', { class: 'flash flash-error', role: 'alert', 'data-test': 'offer-error' }, error.message));
    if (error.status === 404 || error.status === 410 || error.status === 400) {
      busy(true);
      setTimeout(() => on.gone && on.gone(error.message), 4000);
    } else busy(false);
  };
  const accept = h('button', {
    type: 'button', class: 'btn btn-primary', 'data-test': 'offer-accept',
    onclick: async () => {
      busy(true);
      try {
        const reservation = await post(`/waitlist/${offer.id}/accept`, {});
        stop();
        if (on.accepted) on.accepted(reservation);
      } catch (error) {
        fail(error);
      }
    },
  }, t('booking.offer_accept'));
  const decline = h('button', {
    type: 'button', class: 'btn', 'data-test': 'offer-decline',
    onclick: async () => {
      busy(true);
      try {
        await del(`/waitlist/${offer.id}`);
        stop();
        if (on.declined) on.declined();
      } catch (error) {
        fail(error);
      }
    },
  }, t('booking.offer_decline'));
  const buttons = h('div', { class: 'actions' }, accept, decline);
  const range = offer.start && offer.end ? formatRange(offer.start, offer.end, offer.zone) : '';
  const element = h('div', { class: 'card offer', 'data-test': 'offer', 'data-waitlist-id': offer.id, 'data-resource-id': offer.resource_id },
    h(headingLevel ? `h${headingLevel}` : 'p', { class: 'offer-title' }, t('booking.offer_title', { resource: offer.resource_name || `#${offer.resource_id}` })),
    h('p', { class: 'offer-slot' }, t('booking.offer_text', { range })),
    offer.zone ? h('p', { class: 'hint' }, zoneNote(offer.zone)) : null,
    offer.expires ? h('p', { class: 'offer-expiry' }, t('booking.offer_expires_in'), ' ', clock) : null,
    buttons, message);
  const stop = offer.expires ? countdown(clock, offer.expires, () => {
    busy(true);
    replace(message, h('p', { class: 'flash flash-info', role: 'status' }, t('booking.offer_expired')));
    setTimeout(() => on.gone && on.gone(t('booking.offer_expired')), 4000);
  }) : () => {};
  return { element, stop };
}

/** An offer from a waitlist entry as `GET /waitlist` shows it (resource embedded). */
export function offerOfEntry(entry) {
  return {
    id: entry.id,
    resource_id: entry.resource_id,
    resource_name: entry.resource?.name,
    zone: entry.resource?.timezone || 'UTC',
    start: entry.offered_start || entry.desired_start,
    end: entry.offered_end || entry.desired_end,
    expires: entry.offer_expires_at,
  };
}

/** The words after an accepted offer: the booking, linked. */
export function acceptedMessage(reservation, offer) {
  const zone = reservation.resource?.timezone || offer.zone;
  const name = reservation.resource?.name || offer.resource_name;
  const key = reservation.status === 'pending_approval' ? 'booking.offer_accepted_pending' : 'booking.offer_accepted';
  return [t(key, { resource: name, range: formatRange(reservation.start_time, reservation.end_time, zone) }), ' ',
    h('a', { href: `#/reservations/${reservation.id}`, 'data-test': 'offer-booking-link' }, t('booking.view_booking'))];
}

// ---- the panel ------------------------------------------------------------------------------
const offers = new Map(); // waitlist id → offer
const results = []; // {id, nodes}: accepted offers' messages, until dismissed
let panel = null;
let announcer = null;
let mounted = false;
let lastRefresh = 0;
let stops = [];
let resultCounter = 0;
let owner; // the user whose offers are shown

const onWaitlistPage = () => /^#\/waitlist(\?|$)/.test(location.hash);

function ensurePanel() {
  if (!panel || !panel.isConnected) {
    panel = h('aside', { class: 'offer-panel', 'data-test': 'offer-panel', 'aria-labelledby': 'offer-panel-title' });
    announcer = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'data-test': 'offer-announcer' });
    const main = document.getElementById('view');
    if (main) main.before(panel);
    else document.body.append(panel);
    document.body.append(announcer);
  }
}

function draw() {
  ensurePanel();
  stops.forEach((stop) => stop());
  stops = [];
  if (!session()) {
    offers.clear();
    results.length = 0;
  }
  const cards = onWaitlistPage() ? [] : [...offers.values()];
  if (!cards.length && !results.length) {
    replace(panel);
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  const items = cards.map((offer) => {
    const { element, stop } = offerCard(offer, {
      accepted: (reservation) => {
        offers.delete(offer.id);
        const id = ++resultCounter;
        results.push({ id, nodes: () => acceptedMessage(reservation, offer) });
        draw();
        const result = panel.querySelector(`[data-result-id="${id}"]`);
        if (result) result.focus();
      },
      declined: () => {
        offers.delete(offer.id);
        announce(t('booking.offer_declined'));
        draw();
      },
      gone: () => {
        offers.delete(offer.id);
        draw();
      },
    }, 0);
    stops.push(stop);
    return element;
  });
  replace(panel,
    h('p', { id: 'offer-panel-title', class: 'offer-panel-title' }, t('booking.offers_panel')),
    results.map((result) => h('div', { class: 'flash flash-success offer-result', role: 'status', tabindex: '-1', 'data-test': 'offer-result', 'data-result-id': result.id },
      result.nodes(), ' ',
      h('button', { type: 'button', class: 'btn btn-link', 'data-test': 'offer-result-close',
        onclick: () => { results.splice(results.indexOf(result), 1); draw(); } }, t('core.close')))),
    items);
}

function announce(text) {
  ensurePanel();
  announcer.textContent = '';
  setTimeout(() => { announcer.textContent = text; }, 50);
}

/** Re-reads the user's open offers from the server (after a reconnect, or a join). */
export async function refreshOffers() {
  if (!session()) return;
  lastRefresh = Date.now();
  try {
    const page = await get('/waitlist', { limit: 100 });
    const open = (page.data || []).filter((entry) => entry.status === 'offered');
    offers.clear();
    open.forEach((entry) => offers.set(entry.id, offerOfEntry(entry)));
    draw();
  } catch (error) {
    console.warn('waitlist offers', error);
  }
}

async function onOffer(message) {
  const me = session()?.user?.id;
  if (me === undefined || message.waitlist_id === undefined) return;
  let entry;
  try {
    entry = await get(`/waitlist/${message.waitlist_id}`);
  } catch {
    return; // someone else's offer (404), seen as a subscriber of the resource
  }
  if (entry.user_id !== me || entry.status !== 'offered') return;
  const offer = offerOfEntry(entry);
  offer.resource_name ||= message.resource_name;
  offer.expires ||= message.expires_at;
  const fresh = !offers.has(offer.id);
  offers.set(offer.id, offer);
  draw();
  if (fresh) announce(t('booking.offer_new', { resource: offer.resource_name || '', range: formatRange(offer.start, offer.end, offer.zone) }));
}

function drop(message) {
  if (offers.delete(message.waitlist_id)) draw();
}

/** Mounts the offer panel (called by the shell after each render while signed in). */
export function mountOffers() {
  ensurePanel();
  const me = session()?.user?.id;
  if (me !== owner) {
    // Another sign-in in this tab: nothing of the previous user's stays on screen.
    owner = me;
    offers.clear();
    results.length = 0;
    lastRefresh = 0;
  }
  if (!mounted) {
    mounted = true;
    live.on('waitlist_offer', onOffer);
    live.on('waitlist_offer_expired', drop);
    live.on('waitlist_accepted', drop);
    live.on('resync_required', refreshOffers);
    live.onStatus((status) => { if (status === 'live') refreshOffers(); });
    window.addEventListener('hashchange', () => setTimeout(draw, 0));
    // A tab left in the background may have slept through its socket: catch up on return.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && Date.now() - lastRefresh > 10000) refreshOffers();
    });
  }
  if (Date.now() - lastRefresh > 10000) refreshOffers();
  else draw();
}
