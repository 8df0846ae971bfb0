// `#/resources/:id`: one resource — its details, a day or week calendar
// (`?view=day|week&date=YYYY-MM-DD`) of its opening hours, blackout dates and bookings, and
// booking: a single booking, a recurring series, a hold with its countdown, and joining the
// waitlist. Every time is on the resource's own clock (its `timezone`). The page follows the
// resource's schedule live (`live.subscribe({resources: [id]})`).

import { h, replace, field, flash, button, toast } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del } from '../api.js';
import { session } from '../session.js';
import { live } from '../live.js';
import { formatRange, formatDateTime, zoneNote, isoToZonedInput, zonedInputToIso } from '../format.js';
import {
  calendarGrid, calendarLegend, addDays, todayIn, isDate, daysBetween, dayLabel, clockLabel,
  minutesOf, countdown, forgetResource, weekdayName,
} from '../calendar.js';
import { statusBadge, statusOf } from './resources.js';
import { labelChips, resourceFamily, familyLine } from './organise.js';

const HOLD_MINUTES = [1, 2, 5, 10, 15];
const REASONS = ['maintenance', 'closed', 'blackout', 'booked'];

/** The words of a refused occurrence's `reason` (falls back to the server's word). */
export function reasonWords(reason) {
  return REASONS.includes(reason) ? t(`booking.reason_${reason}`) : reason;
}

/** A list of refused occurrences `{start_time, end_time, reason}` in `zone`. */
export function refusedList(items, zone, test = 'refused') {
  return h('ul', { class: 'refused-list' }, items.map((item) => h('li', { 'data-test': test },
    formatRange(item.start_time, item.end_time, zone), ' — ', reasonWords(item.reason))));
}

export default async function render(view, ctx) {
  const id = Number(ctx.params.id);
  if (!Number.isInteger(id) || id <= 0) {
    replace(view, flash('error', t('core.not_found')));
    return undefined;
  }
  let resource = await get(`/resources/${id}`);
  const zone = resource.timezone || 'UTC';
  ctx.setTitle(resource.name);
  const me = session()?.user?.id;

  let mode = ctx.query.view === 'day' ? 'day' : 'week';
  let date = isDate(ctx.query.date) ? ctx.query.date : todayIn(zone);
  // `?start=…&end=…` (UTC, from the search page's "free between"): the booking form is filled
  // in for that window and the calendar opens on its day.
  const prefill = [ctx.query.start, ctx.query.end].every((value) => value && !Number.isNaN(Date.parse(value)))
    && Date.parse(ctx.query.end) > Date.parse(ctx.query.start) ? { start: ctx.query.start, end: ctx.query.end } : null;
  if (prefill && !isDate(ctx.query.date)) date = isoToZonedInput(prefill.start, zone).slice(0, 10);
  let hours = [];
  let blackouts = new Map();
  let schedule = null;
  let selection = null;
  const timers = new Set();

  // ---- details ------------------------------------------------------------------------------
  const header = h('div', { class: 'resource-header' });
  // The parent resource and the children (a desk in a room), read from the hierarchy.
  const familyBox = h('div', { class: 'resource-family' });
  const loadFamily = () => resourceFamily(id).then((family) => replace(familyBox, familyLine(family))).catch(() => replace(familyBox));
  const hoursBox = h('div', { class: 'hours-box' });
  const blackoutBox = h('div', { class: 'blackout-box' });

  async function loadDetails() {
    const [status, rows, dates] = await Promise.all([
      get(`/resources/${id}/status`).catch(() => null),
      get(`/resources/${id}/business-hours`).catch(() => []),
      get(`/resources/${id}/blackout-dates`, { include_global: true }).catch(() => []),
    ]);
    hours = Array.isArray(rows) ? rows : [];
    blackouts = new Map((Array.isArray(dates) ? dates : []).map((row) => [row.date, row.reason || '']));
    drawHeader(status);
    drawHours();
  }

  function drawHeader(status) {
    const closedNow = status && status.is_open === false;
    replace(header,
      h('h1', {}, resource.name),
      h('p', { class: 'badges' },
        closedNow && statusOf(resource) === 'closed' ? null : statusBadge(resource),
        closedNow && resource.status !== 'unavailable' && resource.available !== false
          ? h('span', { class: 'badge badge-closed', 'data-test': 'closed-now' },
            status.next_open_time
              ? t('booking.closed_until', { time: formatDateTime(status.next_open_time, zone) })
              : t('booking.closed_now'))
          : null,
        resource.requires_approval ? h('span', { class: 'badge badge-warn' }, t('resources.needs_approval')) : null,
        resource.checkin_window_minutes ? h('span', { class: 'badge' }, t('booking.checkin_required', { minutes: resource.checkin_window_minutes })) : null),
      resource.description ? h('p', { class: 'description' }, resource.description) : null,
      resource.tags?.length ? h('p', { class: 'tags' }, h('span', { class: 'visually-hidden' }, `${t('resources.tags')}: `),
        resource.tags.map((tag) => h('a', { class: 'chip', href: `#/resources?tags=${encodeURIComponent(tag)}` }, tag))) : null,
      labelChips(resource.labels),
      h('p', { class: 'muted zone-note', 'data-test': 'zone-note' }, zoneNote(zone)));
  }

  function drawHours() {
    const byDay = new Map(hours.map((row) => [row.day_of_week, row]));
    replace(hoursBox,
      h('h3', {}, t('booking.hours')),
      hours.length === 0
        ? h('p', {}, t('booking.hours_always'))
        : h('ul', { class: 'hours-list' }, [0, 1, 2, 3, 4, 5, 6].map((day) => {
          const row = byDay.get(day);
          const text = !row || row.is_closed
            ? t('booking.hours_closed')
            : `${clockLabel(minutesOf(row.open_time))}–${clockLabel(minutesOf(row.close_time))}`;
          return h('li', {}, h('span', { class: 'hours-day' }, weekdayName(day, 'long')), ' ', text);
        })));
    const today = todayIn(zone);
    const upcoming = [...blackouts.entries()].filter(([day]) => day >= today).sort(([a], [b]) => a.localeCompare(b));
    replace(blackoutBox,
      h('h3', {}, t('booking.blackouts')),
      upcoming.length
        ? h('ul', { class: 'blackout-list' }, upcoming.slice(0, 20).map(([day, reason]) =>
          h('li', { 'data-test': 'blackout-date' }, dayLabel(day, true), reason ? ` — ${reason}` : '')))
        : h('p', {}, t('booking.blackouts_none')));
  }

  // ---- calendar -----------------------------------------------------------------------------
  const days = () => (mode === 'day' ? [date] : [0, 1, 2, 3, 4, 5, 6].map((n) => addDays(date, n)));
  const calBox = h('div', { class: 'cal-box' });
  const rangeLabel = h('p', { class: 'cal-range', 'aria-live': 'polite', 'data-test': 'cal-range' });
  const modeButtons = ['day', 'week'].map((name) => h('button', {
    type: 'button', class: 'btn', 'data-test': `cal-${name}`, 'aria-pressed': 'false',
    onclick: () => go(name, date),
  }, t(`booking.view_${name}`)));
  const dateInput = field(t('booking.go_to_date'), { type: 'date', 'data-test': 'cal-date', value: date });
  dateInput.querySelector('input').addEventListener('change', (event) => {
    if (isDate(event.target.value)) go(mode, event.target.value);
  });
  const step = () => (mode === 'day' ? 1 : 7);
  const toolbar = h('div', { class: 'cal-toolbar' },
    h('div', { class: 'btn-group', role: 'group', 'aria-label': t('booking.view') }, modeButtons),
    h('div', { class: 'btn-group', role: 'group', 'aria-label': t('booking.navigate') },
      h('button', { type: 'button', class: 'btn', 'data-test': 'cal-prev', onclick: () => go(mode, addDays(date, -step())) }, t(`booking.prev_${mode === 'day' ? 'day' : 'week'}`)),
      h('button', { type: 'button', class: 'btn', 'data-test': 'cal-today', onclick: () => go(mode, todayIn(zone)) }, t('booking.today')),
      h('button', { type: 'button', class: 'btn', 'data-test': 'cal-next', onclick: () => go(mode, addDays(date, step())) }, t(`booking.next_${mode === 'day' ? 'day' : 'week'}`))),
    dateInput);

  function go(newMode, newDate) {
    mode = newMode;
    date = newDate;
    history.replaceState(null, '', `#/resources/${id}?view=${mode}&date=${date}`);
    const [prev, , next] = toolbar.children[1].children;
    prev.textContent = t(`booking.prev_${mode}`);
    next.textContent = t(`booking.next_${mode}`);
    loadSchedule();
  }

  let scheduleLoads = 0;
  async function loadSchedule() {
    const token = ++scheduleLoads;
    const shown = days();
    const ahead = daysBetween(todayIn(zone), shown[shown.length - 1]) + 2;
    let data = null;
    if (ahead >= 1) {
      try {
        data = (await get(`/resources/${id}/availability`, { days_ahead: Math.min(365, ahead) })).data;
      } catch (error) {
        if (token === scheduleLoads) replace(calBox, flash('error', error.message));
        return;
      }
    }
    if (token !== scheduleLoads) return;
    schedule = data;
    suggest();
    drawCalendar();
  }

  function drawCalendar() {
    const shown = days();
    modeButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.test === `cal-${mode}`)));
    dateInput.querySelector('input').value = date;
    rangeLabel.textContent = shown.length === 1
      ? dayLabel(shown[0], true)
      : `${dayLabel(shown[0])} – ${dayLabel(shown[shown.length - 1])}`;
    replace(calBox,
      daysBetween(todayIn(zone), shown[shown.length - 1]) < 0 ? h('p', { class: 'muted' }, t('booking.cal_past_note')) : null,
      calendarGrid({ days: shown, zone, hours, blackouts, schedule, me, slotMinutes: 30, selection, onPick: pick }));
  }

  // ---- the booking form ---------------------------------------------------------------------
  const startField = field(t('booking.start'), { type: 'datetime-local', name: 'start', id: 'book-start', 'data-test': 'book-start', required: true, hint: zoneNote(zone) });
  const endField = field(t('booking.end'), { type: 'datetime-local', name: 'end', id: 'book-end', 'data-test': 'book-end', required: true });
  const startInput = startField.querySelector('input');
  const endInput = endField.querySelector('input');
  const nextHour = new Date(Math.ceil((Date.now() + 60000) / 3600000) * 3600000);
  startInput.value = isoToZonedInput(nextHour.toISOString(), zone);
  endInput.value = isoToZonedInput(new Date(nextHour.getTime() + 3600000).toISOString(), zone);
  let touched = false;
  if (prefill) {
    startInput.value = isoToZonedInput(prefill.start, zone);
    endInput.value = isoToZonedInput(prefill.end, zone);
    touched = true;
  }
  startInput.addEventListener('input', () => { touched = true; });
  endInput.addEventListener('input', () => { touched = true; });
  /** Until the user picks or types, the form offers the first free hour (or less) ahead. */
  function suggest() {
    if (touched || !schedule) return;
    const half = 30 * 60000;
    for (const period of schedule.free_periods || []) {
      const from = Math.ceil(Math.max(Date.parse(period.start_time), Date.now()) / half) * half;
      const to = Math.min(from + 2 * half, Date.parse(period.end_time));
      if (to - from >= half) {
        startInput.value = isoToZonedInput(new Date(from).toISOString(), zone);
        endInput.value = isoToZonedInput(new Date(to).toISOString(), zone);
        return;
      }
    }
  }
  const results = h('div', { class: 'booking-results', 'data-test': 'booking-results' });
  const seriesResults = h('div', { class: 'series-results', 'data-test': 'series-results' });
  // One message at a time on the page (one `data-test="flash"`): the booking's or the series'.
  const showSeries = (...nodes) => {
    replace(results);
    replace(seriesResults, ...nodes);
  };
  const show = (...nodes) => {
    replace(seriesResults);
    replace(results, ...nodes);
    results.scrollIntoView({ block: 'nearest' });
  };

  /** Clicking a free slot picks it, or stretches the picked time to it on the same day. */
  function pick(startIso, endIso) {
    const current = selection;
    if (current && Date.parse(startIso) >= Date.parse(current.end)
      && isoToZonedInput(startIso, zone).slice(0, 10) === isoToZonedInput(current.start, zone).slice(0, 10)
      && allFree(current.end, startIso)) {
      selection = { start: current.start, end: endIso };
    } else {
      selection = { start: startIso, end: endIso };
    }
    startInput.value = isoToZonedInput(selection.start, zone);
    endInput.value = isoToZonedInput(selection.end, zone);
    touched = true;
    drawCalendar();
    const again = calBox.querySelector(`button[data-start="${startIso}"]`);
    if (again) again.focus();
    replace(seriesResults);
    replace(results, h('p', { class: 'flash flash-info', role: 'status' }, t('booking.picked', { range: formatRange(selection.start, selection.end, zone) })));
  }

  function allFree(fromIso, toIso) {
    const [from, to] = [Date.parse(fromIso), Date.parse(toIso)];
    if (from >= to) return true;
    return (schedule?.free_periods || []).some((p) => Date.parse(p.start_time) <= from && Date.parse(p.end_time) >= to);
  }

  /** The picked slot as UTC ISO, or null (with the reason shown). */
  function slot() {
    if (!startInput.value || !endInput.value) {
      show(flash('error', t('booking.need_times')));
      return null;
    }
    const start = zonedInputToIso(startInput.value, zone);
    const end = zonedInputToIso(endInput.value, zone);
    if (Date.parse(end) <= Date.parse(start)) {
      show(flash('error', t('booking.end_after_start')));
      return null;
    }
    return { start, end };
  }

  /** The bookings of the shown schedule that overlap a slot, in the resource's zone. */
  function overlapping(start, end) {
    const [from, to] = [Date.parse(start), Date.parse(end)];
    return (schedule?.reservations || []).filter((b) => ['active', 'pending_approval', 'held'].includes(b.status)
      && Date.parse(b.start_time) < to && Date.parse(b.end_time) > from);
  }

  function refusal(error, wanted) {
    const parts = [h('p', { class: 'refusal-message' }, error.message)];
    const conflicts = error.body && Array.isArray(error.body.conflicts) ? error.body.conflicts : null;
    if (conflicts && conflicts.length) {
      parts.push(h('p', {}, t('booking.conflicting_occurrences')), refusedList(conflicts, zone, 'conflict'));
    } else if (error.status === 409 && wanted) {
      const clashes = overlapping(wanted.start, wanted.end);
      if (clashes.length) {
        parts.push(h('p', {}, t('booking.conflicting_bookings', { zone })),
          h('ul', { class: 'refused-list' }, clashes.map((b) => h('li', { 'data-test': 'conflict' },
            formatRange(b.start_time, b.end_time, zone), ' — ', t(`booking.status_${b.status}`)))));
      }
      if (conflicts === null && /conflict/i.test(error.message)) {
        parts.push(h('p', {}, t('booking.try_waitlist')));
      }
    }
    return flash('error', parts);
  }

  function bookedMessage(reservation) {
    const range = formatRange(reservation.start_time, reservation.end_time, zone);
    const key = reservation.status === 'pending_approval' ? 'booking.requested' : 'booking.booked';
    return flash('success', [
      t(key, { resource: resource.name, range }), ' ',
      h('a', { href: `#/reservations/${reservation.id}`, 'data-test': 'booking-link' }, t('booking.view_booking')),
      reservation.status === 'pending_approval' ? [' · ', h('a', { href: '#/approvals' }, t('booking.see_requests'))] : null,
    ]);
  }

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'book-submit', id: 'book-submit' },
    t(resource.requires_approval ? 'booking.request' : 'booking.book'));
  // On a resource that needs approval, the request may carry a message to the approver.
  const note = resource.requires_approval
    ? field(t('booking.request_message'), { tag: 'textarea', rows: 2, maxlength: 500, 'data-test': 'book-message', hint: t('booking.request_hint') })
    : null;
  const bookForm = h('form', { class: 'booking-form', 'data-test': 'booking-form', novalidate: true },
    h('div', { class: 'field-row' }, startField, endField),
    note,
    h('div', { class: 'actions' }, submit));
  bookForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const wanted = slot();
    if (!wanted) return;
    submit.disabled = true;
    try {
      const message = note ? note.querySelector('textarea').value.trim() : '';
      let reservation;
      if (message) {
        const answer = await post('/approvals/reservations', { resource_id: id, start_time: wanted.start, end_time: wanted.end, request_message: message });
        reservation = { id: answer.reservation_id, status: answer.status, start_time: wanted.start, end_time: wanted.end };
        note.querySelector('textarea').value = '';
      } else {
        reservation = await post('/reservations', { resource_id: id, start_time: wanted.start, end_time: wanted.end });
      }
      show(bookedMessage(reservation));
      selection = null;
      loadSchedule();
    } catch (error) {
      show(refusal(error, wanted));
    } finally {
      submit.disabled = false;
    }
  });

  // ---- waitlist -----------------------------------------------------------------------------
  const flexible = h('input', { type: 'checkbox', id: 'waitlist-flexible', 'data-test': 'waitlist-flexible' });
  const joinButton = button(t('booking.waitlist_join'), async () => {
    const wanted = slot();
    if (!wanted) return;
    try {
      const entry = await post('/waitlist', { resource_id: id, desired_start: wanted.start, desired_end: wanted.end, flexible_time: flexible.checked });
      if (entry.status === 'offered') {
        show(flash('success', [t('booking.waitlist_offered_now'), ' ', h('a', { href: '#/waitlist' }, t('booking.see_waitlist'))]));
        import('../offers.js').then(({ refreshOffers }) => refreshOffers && refreshOffers()).catch(() => {});
      } else {
        show(flash('success', [t('booking.waitlist_joined', { position: entry.position, range: formatRange(entry.desired_start, entry.desired_end, zone) }), ' ',
          h('a', { href: '#/waitlist' }, t('booking.see_waitlist'))]));
      }
    } catch (error) {
      show(flash('error', error.message));
    }
  }, { 'data-test': 'waitlist-join', id: 'waitlist-join' });
  const waitlistBox = h('div', { class: 'waitlist-box' },
    h('h3', {}, t('booking.waitlist')),
    h('p', { class: 'hint' }, t('booking.waitlist_hint')),
    h('div', { class: 'check' }, flexible, h('label', { for: 'waitlist-flexible' }, t('booking.waitlist_flexible'))),
    h('div', { class: 'actions' }, joinButton));

  // ---- holds --------------------------------------------------------------------------------
  const holdMinutes = field(t('booking.hold_minutes'), {
    tag: 'select', 'data-test': 'hold-minutes', value: '5',
    options: HOLD_MINUTES.map((minutes) => [String(minutes), t('booking.minutes', { minutes })]),
  });
  const holdList = h('div', { class: 'hold-list', 'data-test': 'hold-list' });
  const holdButton = button(t('booking.hold'), async () => {
    const wanted = slot();
    if (!wanted) return;
    try {
      const hold = await post('/holds', { resource_id: id, start_time: wanted.start, end_time: wanted.end, minutes: Number(holdMinutes.querySelector('select').value) });
      show(flash('success', t('booking.held', { range: formatRange(hold.start_time, hold.end_time, zone) })));
      await loadHolds();
      loadSchedule();
    } catch (error) {
      show(refusal(error, wanted));
    }
  }, { 'data-test': 'hold-place' });
  const holdBox = h('div', { class: 'hold-box' },
    h('h3', {}, t('booking.holds')),
    h('p', { class: 'hint' }, t('booking.hold_hint')),
    h('div', { class: 'field-row' }, holdMinutes),
    h('div', { class: 'actions' }, holdButton),
    holdList);

  let holdTimers = [];
  async function loadHolds() {
    let holds;
    try {
      holds = (await get('/holds')).filter((hold) => hold.resource_id === id);
    } catch (error) {
      replace(holdList, flash('error', error.message));
      return;
    }
    holdTimers.forEach((stop) => stop());
    holdTimers = [];
    if (!holds.length) {
      replace(holdList, h('p', { class: 'empty' }, t('booking.holds_none')));
      return;
    }
    replace(holdList, h('ul', { class: 'holds' }, holds.map((hold) => {
      const clock = h('time', { class: 'countdown', role: 'timer', 'data-test': 'hold-countdown' });
      const item = h('li', { class: 'card hold', 'data-test': 'hold', 'data-hold-id': hold.id },
        h('p', {}, h('strong', {}, formatRange(hold.start_time, hold.end_time, zone))),
        hold.expires_at ? h('p', {}, t('booking.hold_expires_in'), ' ', clock) : null,
        h('div', { class: 'actions' },
          button(t('booking.hold_confirm'), async () => {
            try {
              const reservation = await post(`/holds/${hold.id}/confirm`, {});
              show(bookedMessage(reservation));
            } catch (error) {
              show(flash('error', error.message));
            }
            await loadHolds();
            loadSchedule();
          }, { class: 'btn btn-primary', 'data-test': 'hold-confirm' }),
          button(t('booking.hold_release'), async () => {
            await del(`/holds/${hold.id}`);
            toast(t('booking.hold_released'), 'info');
            await loadHolds();
            loadSchedule();
          }, { 'data-test': 'hold-release' })));
      if (hold.expires_at) {
        holdTimers.push(countdown(clock, hold.expires_at, () => {
          item.classList.add('expired');
          replace(item, h('p', {}, formatRange(hold.start_time, hold.end_time, zone), ' — ', t('booking.hold_lapsed')));
          setTimeout(() => { loadHolds(); loadSchedule(); }, 1500);
        }));
      }
      return item;
    })));
  }

  // ---- recurring series ---------------------------------------------------------------------
  const frequency = field(t('booking.frequency'), {
    tag: 'select', name: 'frequency', 'data-test': 'series-frequency', value: 'weekly',
    options: ['daily', 'weekly', 'monthly'].map((name) => [name, t(`booking.frequency_${name}`)]),
  });
  const interval = field(t('booking.interval'), { type: 'number', name: 'interval', min: 1, max: 52, value: '1', 'data-test': 'series-interval', hint: t('booking.interval_hint') });
  const dayBoxes = [0, 1, 2, 3, 4, 5, 6].map((day) => h('input', { type: 'checkbox', id: `series-day-${day}`, value: String(day), 'data-test': 'series-day' }));
  const weekdays = h('fieldset', { class: 'series-days' },
    h('legend', {}, t('booking.days_of_week')),
    dayBoxes.map((box, day) => h('span', { class: 'check' }, box, h('label', { for: box.id }, weekdayName(day, 'short')))));
  const endType = field(t('booking.series_end'), {
    tag: 'select', name: 'end_type', 'data-test': 'series-end-type', value: 'after_count',
    options: ['after_count', 'on_date', 'never'].map((name) => [name, t(`booking.end_${name}`)]),
  });
  const count = field(t('booking.occurrences'), { type: 'number', name: 'occurrence_count', min: 1, max: 365, value: '5', 'data-test': 'series-count' });
  const until = field(t('booking.until'), { type: 'date', name: 'end_date', 'data-test': 'series-until' });
  const skip = h('input', { type: 'checkbox', id: 'series-skip', 'data-test': 'series-skip' });
  const showEnd = () => {
    const kind = endType.querySelector('select').value;
    count.hidden = kind !== 'after_count';
    until.hidden = kind !== 'on_date';
    weekdays.hidden = frequency.querySelector('select').value !== 'weekly';
  };
  endType.querySelector('select').addEventListener('change', showEnd);
  frequency.querySelector('select').addEventListener('change', showEnd);
  showEnd();
  const seriesButton = button(t('booking.series_book'), async () => {
    const wanted = slot();
    if (!wanted) return;
    const kind = endType.querySelector('select').value;
    const recurrence = {
      frequency: frequency.querySelector('select').value,
      interval: Math.max(1, Number(interval.querySelector('input').value) || 1),
      end_type: kind,
    };
    if (recurrence.frequency === 'weekly') recurrence.days_of_week = dayBoxes.filter((box) => box.checked).map((box) => Number(box.value));
    if (kind === 'after_count') recurrence.occurrence_count = Math.max(1, Number(count.querySelector('input').value) || 1);
    if (kind === 'on_date') {
      const value = until.querySelector('input').value;
      if (!isDate(value)) {
        showSeries(flash('error', t('booking.until_needed')));
        return;
      }
      recurrence.end_date = value;
    }
    try {
      const answer = await post('/reservations/recurring', {
        resource_id: id, start_time: wanted.start, end_time: wanted.end, recurrence, skip_conflicts: skip.checked,
      });
      const created = Array.isArray(answer) ? answer : (answer.created || []);
      const skipped = Array.isArray(answer) ? [] : (answer.skipped || []);
      showSeries(flash('success', [
        h('p', {}, t('booking.series_booked', { count: created.length, resource: resource.name })),
        h('ul', { class: 'series-list' }, created.map((r) => h('li', { 'data-test': 'series-created' },
          h('a', { href: `#/reservations/${r.id}` }, formatRange(r.start_time, r.end_time, zone)),
          r.status === 'pending_approval' ? ` — ${t('booking.status_pending_approval')}` : ''))),
        skipped.length ? [h('p', {}, t('booking.series_skipped', { count: skipped.length })), refusedList(skipped, zone, 'series-skipped')] : null,
      ]));
      loadSchedule();
    } catch (error) {
      const conflicts = error.body && Array.isArray(error.body.conflicts) ? error.body.conflicts : [];
      showSeries(flash('error', [
        h('p', { class: 'refusal-message' }, error.message),
        conflicts.length ? [h('p', {}, t('booking.series_refused')), refusedList(conflicts, zone, 'series-conflict'), h('p', { class: 'hint' }, t('booking.series_skip_hint'))] : null,
      ]));
    }
  }, { class: 'btn', 'data-test': 'series-submit' });
  const seriesBox = h('details', { class: 'series-box' },
    h('summary', {}, t('booking.series')),
    h('p', { class: 'hint' }, t('booking.series_hint')),
    h('div', { class: 'field-row' }, frequency, interval),
    weekdays,
    h('div', { class: 'field-row' }, endType, count, until),
    h('div', { class: 'check' }, skip, h('label', { for: 'series-skip' }, t('booking.series_skip'))),
    h('div', { class: 'actions' }, seriesButton),
    seriesResults);

  // ---- the page -----------------------------------------------------------------------------
  await loadDetails();
  loadFamily();
  replace(view,
    header,
    familyBox,
    h('div', { class: 'resource-layout' },
      h('section', { class: 'resource-calendar', 'aria-labelledby': 'calendar-heading' },
        h('h2', { id: 'calendar-heading' }, t('booking.calendar')),
        toolbar, rangeLabel, calBox, calendarLegend()),
      h('section', { class: 'resource-booking card', 'aria-labelledby': 'booking-heading' },
        h('h2', { id: 'booking-heading' }, t('booking.book_heading')),
        h('p', { class: 'hint' }, t('booking.book_hint')),
        prefill ? h('p', { class: 'flash flash-info prefill-note', 'data-test': 'book-prefilled' },
          t('organise.prefilled', { window: formatRange(prefill.start, prefill.end, zone) })) : null,
        bookForm, results, seriesBox, waitlistBox, holdBox)),
    h('section', { class: 'resource-hours', 'aria-labelledby': 'hours-heading' },
      h('h2', { id: 'hours-heading' }, t('booking.hours_heading')),
      h('div', { class: 'cards' }, h('div', { class: 'card' }, hoursBox), h('div', { class: 'card' }, blackoutBox))));
  await Promise.all([loadSchedule(), loadHolds()]);

  // ---- live ---------------------------------------------------------------------------------
  live.subscribe({ resources: [id] });
  let pending = null;
  let detailsToo = false;
  const refresh = (withDetails) => {
    detailsToo = detailsToo || withDetails;
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const again = detailsToo;
      detailsToo = false;
      if (again) {
        forgetResource(id);
        resource = await get(`/resources/${id}`).catch(() => resource);
        await loadDetails();
      }
      loadSchedule();
    }, 150);
  };
  const ours = (message) => message.resource_id === id;
  const offs = [
    ...['reservation_created', 'reservation_cancelled', 'reservation_updated', 'reservation_expired', 'reservation_approved',
      'reservation_rejected', 'reservation_checked_in', 'reservation_released', 'waitlist_offer'].map((type) =>
      live.on(type, (message) => { if (ours(message) || message.resource_id === undefined) refresh(false); })),
    ...['hold_created', 'hold_expired', 'hold_released'].map((type) =>
      live.on(type, (message) => { if (ours(message)) { refresh(false); loadHolds(); } })),
    ...['resource_status_changed', 'resource_updated', 'business_hours_updated', 'blackout_dates_updated'].map((type) =>
      live.on(type, (message) => { if (ours(message) || message.resource_id === null) refresh(true); })),
    live.on('resync_required', () => { refresh(true); loadHolds(); }),
    live.on('resource_hierarchy_changed', () => loadFamily()),
    // A socket opened without `since` may have missed events: read the state again.
    live.on('open', (message) => { if (!message.resumed) { refresh(true); loadHolds(); } }),
  ];
  timers.add(() => clearTimeout(pending));
  return () => {
    offs.forEach((off) => off());
    if (typeof live.unsubscribe === 'function') live.unsubscribe({ resources: [id] });
    holdTimers.forEach((stop) => stop());
    timers.forEach((stop) => stop());
  };
}
