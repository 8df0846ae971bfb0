// `#/waitlist`: the user's waitlist entries (position in the queue, status), leaving one, and
// the open offers with their countdown, Accept and Decline. Follows the user's offers live.

import { h, replace, flash, button, table } from '../dom.js';
import { t } from '../i18n.js';
import { get, del } from '../api.js';
import { live } from '../live.js';
import { formatRange, formatDateTime } from '../format.js';
import { offerCard, offerOfEntry, acceptedMessage } from '../offers.js';

const STATUS_BADGE = { waiting: 'badge-warn', offered: 'badge-free', fulfilled: 'badge-confirmed', expired: 'badge-closed', cancelled: 'badge-closed' };

export default async function render(view, ctx) {
  ctx.setTitle(t('booking.waitlist_title'));
  const message = h('div', { class: 'page-message' });
  const offersBox = h('div', { class: 'offers-box' });
  const entriesBox = h('div', { class: 'entries-box', 'aria-busy': 'false' });
  const completed = h('input', { type: 'checkbox', id: 'waitlist-completed', 'data-test': 'waitlist-completed' });
  let stops = [];

  const zoneOf = (entry) => entry.resource?.timezone || 'UTC';

  async function load() {
    entriesBox.setAttribute('aria-busy', 'true');
    let entries = [];
    try {
      let cursor;
      for (let round = 0; round < 5; round += 1) {
        const page = await get('/waitlist', { include_completed: completed.checked, limit: 100, cursor });
        entries = entries.concat(page.data || []);
        if (!page.has_more || !page.next_cursor) break;
        cursor = page.next_cursor;
      }
    } catch (error) {
      replace(entriesBox, flash('error', error.message));
      entriesBox.setAttribute('aria-busy', 'false');
      return;
    }
    entriesBox.setAttribute('aria-busy', 'false');
    stops.forEach((stop) => stop());
    stops = [];
    const offered = entries.filter((entry) => entry.status === 'offered');
    replace(offersBox,
      offered.length
        ? h('div', { class: 'cards offers' }, offered.map((entry) => {
          const offer = offerOfEntry(entry);
          const { element, stop } = offerCard(offer, {
            accepted: (reservation) => {
              replace(message, flash('success', acceptedMessage(reservation, offer)));
              load();
            },
            declined: () => {
              replace(message, flash('info', t('booking.offer_declined')));
              load();
            },
            gone: () => load(),
          }, 3);
          stops.push(stop);
          return element;
        }))
        : h('p', { class: 'empty', 'data-test': 'offers-none' }, t('booking.offers_none')));
    replace(entriesBox, table([
      [t('booking.col_resource'), (entry) => h('a', { href: `#/resources/${entry.resource_id}` }, entry.resource?.name || `#${entry.resource_id}`)],
      [t('booking.col_wanted'), (entry) => [formatRange(entry.desired_start, entry.desired_end, zoneOf(entry)),
        entry.flexible_time ? h('span', { class: 'badge' }, t('booking.flexible')) : null]],
      [t('booking.col_status'), (entry) => h('span', { class: `badge ${STATUS_BADGE[entry.status] || ''}`, 'data-test': 'waitlist-status' }, t(`booking.waitlist_status_${entry.status}`, {}, entry.status))],
      [t('booking.col_position'), (entry) => (entry.position > 0 ? String(entry.position) : '—')],
      [t('booking.col_joined'), (entry) => formatDateTime(entry.created_at, zoneOf(entry))],
      [t('booking.col_actions'), (entry) => (['waiting', 'offered'].includes(entry.status)
        ? button(t('booking.waitlist_leave'), async () => {
          await del(`/waitlist/${entry.id}`);
          replace(message, flash('info', t('booking.waitlist_left')));
          await load();
        }, { 'data-test': 'waitlist-leave', 'aria-label': t('booking.waitlist_leave_named', { resource: entry.resource?.name || entry.resource_id }) })
        : '')],
    ], entries, {
      caption: t('booking.waitlist_entries'),
      empty: t('booking.waitlist_none'),
      rowAttrs: (entry) => ({ 'data-test': 'waitlist-entry', 'data-waitlist-id': entry.id, 'data-status': entry.status }),
    }));
  }

  completed.addEventListener('change', load);
  replace(view,
    h('h1', {}, t('booking.waitlist_title')),
    h('p', { class: 'hint' }, t('booking.waitlist_intro')),
    message,
    h('section', { 'aria-labelledby': 'offers-heading' }, h('h2', { id: 'offers-heading' }, t('booking.offers_heading')), offersBox),
    h('section', { 'aria-labelledby': 'entries-heading' },
      h('h2', { id: 'entries-heading' }, t('booking.entries_heading')),
      h('div', { class: 'check' }, completed, h('label', { for: 'waitlist-completed' }, t('booking.show_completed'))),
      entriesBox));
  await load();

  let pending = null;
  const again = () => {
    clearTimeout(pending);
    pending = setTimeout(load, 200);
  };
  const offs = ['waitlist_offer', 'waitlist_offer_expired', 'waitlist_accepted', 'resync_required'].map((type) => live.on(type, again));
  offs.push(live.on('open', (message) => { if (!message.resumed) again(); }));
  return () => {
    clearTimeout(pending);
    offs.forEach((off) => off());
    stops.forEach((stop) => stop());
  };
}
