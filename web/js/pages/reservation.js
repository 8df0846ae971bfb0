// `#/reservations/:id`: one booking — when and where (on the resource's clock), its status, and
// what its owner can do: move it to another slot (`PATCH`), cancel it with a reason (this one or
// this and the later ones of its series), check in, download it as `.ics`; and its history.
// Follows the booking live.

import { h, replace, field, flash, button, table } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, patch, download as fetchFile } from '../api.js';
import { session } from '../session.js';
import { live } from '../live.js';
import { formatRange, formatDateTime, zoneNote, isoToZonedInput, zonedInputToIso } from '../format.js';

const OPEN = ['active', 'pending_approval', 'held'];
const STATUS_BADGE = {
  active: 'badge-confirmed', pending_approval: 'badge-pending', held: 'badge-warn', cancelled: 'badge-cancelled',
  expired: 'badge-closed', released: 'badge-closed', rejected: 'badge-rejected',
};

/** The status badge of a reservation. */
export function reservationBadge(status) {
  return h('span', { class: `badge ${STATUS_BADGE[status] || ''}`, 'data-test': 'reservation-status', 'data-status': status },
    t(`booking.status_${status}`, {}, status));
}

export default async function render(view, ctx) {
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id <= 0) {
    replace(view, flash('error', t('core.not_found')));
    return undefined;
  }
  const me = session()?.user?.id;
  const message = h('div', { class: 'page-message' });
  const body = h('div', { class: 'reservation-body' });
  const say = (node) => {
    replace(message, node);
    message.scrollIntoView({ block: 'nearest' });
  };

  async function load() {
    const [reservation, history] = await Promise.all([
      get(`/reservations/${id}`),
      get(`/reservations/${id}/history`).catch(() => []),
    ]);
    draw(reservation, Array.isArray(history) ? history : []);
  }

  function draw(r, history) {
    const zone = r.resource?.timezone || 'UTC';
    const name = r.resource?.name || `#${r.resource_id}`;
    ctx.setTitle(t('booking.reservation_title', { resource: name }));
    const open = OPEN.includes(r.status);
    const future = Date.parse(r.start_time) > Date.now();
    const ended = Date.parse(r.end_time) <= Date.now();
    const series = r.recurrence_rule_id !== null && r.recurrence_rule_id !== undefined;

    const facts = h('dl', { class: 'facts' },
      h('dt', {}, t('booking.col_resource')), h('dd', {}, h('a', { href: `#/resources/${r.resource_id}` }, name)),
      h('dt', {}, t('booking.when')), h('dd', { 'data-test': 'reservation-when' }, formatRange(r.start_time, r.end_time, zone), h('br'), h('small', { class: 'hint' }, zoneNote(zone))),
      h('dt', {}, t('booking.col_status')), h('dd', {}, reservationBadge(r.status)),
      h('dt', {}, t('booking.created')), h('dd', {}, formatDateTime(r.created_at, zone)),
      r.cancelled_at ? [h('dt', {}, t('booking.cancelled_at')), h('dd', {}, formatDateTime(r.cancelled_at, zone))] : null,
      r.cancellation_reason ? [h('dt', {}, t('booking.reason')), h('dd', { 'data-test': 'cancellation-reason' }, r.cancellation_reason)] : null,
      series ? [h('dt', {}, t('booking.series_fact')), h('dd', {}, t('booking.part_of_series'))] : null,
      r.resource?.checkin_window_minutes ? [h('dt', {}, t('booking.checkin')), h('dd', {}, t('booking.checkin_required', { minutes: r.resource.checkin_window_minutes }))] : null);

    const ics = h('a', {
      href: `/api/v1/calendar/export/${r.id}.ics`, download: `reservation-${r.id}.ics`, class: 'btn', 'data-test': 'ics-download',
      onclick: async (event) => {
        event.preventDefault();
        try {
          await fetchFile(`/calendar/export/${r.id}.ics`, `reservation-${r.id}.ics`);
        } catch (error) {
          say(flash('error', error.message));
        }
      },
    }, t('booking.ics'));

    // Check-in is possible from 15 minutes before the start until the resource's window closes.
    const checkWindow = r.resource?.checkin_window_minutes;
    const checkInOpens = Date.parse(r.start_time) - 15 * 60000;
    const checkInCloses = Date.parse(r.start_time) + (checkWindow || 0) * 60000;
    const checkInNow = r.status === 'active' && checkWindow && Date.now() >= checkInOpens && Date.now() < checkInCloses && !ended;
    const actions = h('div', { class: 'actions' }, ics,
      r.status === 'active' && checkWindow && Date.now() < checkInOpens
        ? h('p', { class: 'hint', 'data-test': 'check-in-later' }, t('booking.checkin_opens', { time: formatDateTime(new Date(checkInOpens).toISOString(), zone) }))
        : null,
      checkInNow
        ? button(t('booking.check_in'), async () => {
          try {
            await post(`/reservations/${r.id}/check-in`, {});
            say(flash('success', t('booking.checked_in')));
            await load();
          } catch (error) {
            say(flash('error', error.message));
          }
        }, { 'data-test': 'check-in', class: 'btn btn-primary' })
        : null);

    // Reschedule: before the start, to another free slot.
    let reschedule = null;
    if (open && r.status !== 'held' && future && (r.user_id === me)) {
      const start = field(t('booking.new_start'), { type: 'datetime-local', 'data-test': 'reschedule-start', required: true, value: isoToZonedInput(r.start_time, zone), hint: zoneNote(zone) });
      const end = field(t('booking.new_end'), { type: 'datetime-local', 'data-test': 'reschedule-end', required: true, value: isoToZonedInput(r.end_time, zone) });
      const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'reschedule-submit' }, t('booking.reschedule_submit'));
      reschedule = h('form', { class: 'card', 'aria-labelledby': 'reschedule-heading', novalidate: true },
        h('h2', { id: 'reschedule-heading' }, t('booking.reschedule')),
        h('div', { class: 'field-row' }, start, end),
        h('div', { class: 'actions' }, submit));
      reschedule.addEventListener('submit', async (event) => {
        event.preventDefault();
        const [s, e] = [start.querySelector('input').value, end.querySelector('input').value];
        if (!s || !e) {
          say(flash('error', t('booking.need_times')));
          return;
        }
        const startIso = zonedInputToIso(s, zone);
        const endIso = zonedInputToIso(e, zone);
        if (Date.parse(endIso) <= Date.parse(startIso)) {
          say(flash('error', t('booking.end_after_start')));
          return;
        }
        submit.disabled = true;
        try {
          const moved = await patch(`/reservations/${r.id}`, { start_time: startIso, end_time: endIso });
          say(flash('success', t(moved.status === 'pending_approval' ? 'booking.rescheduled_pending' : 'booking.rescheduled', { range: formatRange(moved.start_time, moved.end_time, zone) })));
          await load();
        } catch (error) {
          say(flash('error', error.message));
        } finally {
          submit.disabled = false;
        }
      });
    }

    // Cancel, with a reason; for a series, this one or this and the later ones.
    let cancel = null;
    if (open) {
      const reason = field(t('booking.cancel_reason'), { tag: 'textarea', 'data-test': 'cancel-reason', maxlength: 500, rows: 2 });
      const scope = series ? field(t('booking.cancel_scope'), {
        tag: 'select', 'data-test': 'cancel-scope', value: 'occurrence',
        options: [['occurrence', t('booking.scope_occurrence')], ['following', t('booking.scope_following')]],
      }) : null;
      const submit = h('button', { type: 'submit', class: 'btn btn-danger', 'data-test': 'cancel-reservation' }, t('booking.cancel_submit'));
      cancel = h('form', { class: 'card', 'aria-labelledby': 'cancel-heading' },
        h('h2', { id: 'cancel-heading' }, t('booking.cancel')),
        reason, scope,
        h('div', { class: 'actions' }, submit));
      cancel.addEventListener('submit', async (event) => {
        event.preventDefault();
        submit.disabled = true;
        try {
          const answer = await post(`/reservations/${r.id}/cancel`, {
            reason: reason.querySelector('textarea').value.trim() || undefined,
            scope: scope ? scope.querySelector('select').value : undefined,
          });
          const count = (answer.cancelled_reservation_ids || []).length;
          say(flash('success', count > 1 ? t('booking.cancelled_many', { count }) : t('booking.cancelled')));
          await load();
        } catch (error) {
          say(flash('error', error.message));
        } finally {
          submit.disabled = false;
        }
      });
    }

    const historyTable = table([
      [t('booking.col_when'), (row) => formatDateTime(row.timestamp, zone)],
      [t('booking.col_action'), (row) => t(`booking.history_${row.action}`, {}, row.action)],
      [t('booking.col_by'), (row) => (row.user_id === null || row.user_id === undefined ? t('booking.by_system') : (row.user_id === me ? t('booking.by_you') : t('booking.by_user', { id: row.user_id })))],
      [t('booking.col_details'), (row) => row.details || ''],
    ], history, { caption: t('booking.history_caption'), empty: t('booking.history_none'), rowAttrs: () => ({ 'data-test': 'history-row' }) });

    replace(body,
      h('h1', {}, t('booking.reservation_title', { resource: name })),
      message,
      facts, actions,
      h('div', { class: 'cards reservation-forms' }, reschedule, cancel),
      h('section', { 'aria-labelledby': 'history-heading' }, h('h2', { id: 'history-heading' }, t('booking.history')), historyTable));
  }

  replace(view, body);
  await load();

  let pending = null;
  const again = (event) => {
    if (event.reservation_id !== id) return;
    clearTimeout(pending);
    pending = setTimeout(() => load().catch((error) => say(flash('error', error.message))), 200);
  };
  const offs = ['reservation_cancelled', 'reservation_updated', 'reservation_expired', 'reservation_approved', 'reservation_rejected',
    'reservation_checked_in', 'reservation_released'].map((type) => live.on(type, again));
  offs.push(live.on('open', (message) => { if (!message.resumed) again({ reservation_id: id }); }));
  return () => {
    clearTimeout(pending);
    offs.forEach((off) => off());
  };
}
