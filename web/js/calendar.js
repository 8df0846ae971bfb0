// A resource's day and week calendar: a table of time slots on the resource's own wall clock
// (rows) by local dates (columns), showing its opening hours (closed time shaded), blackout
// dates, bookings, and the free slots a booking would be accepted in (buttons that pick a slot).
//
// What is free comes from the server (`free_periods` of `/resources/{id}/availability`), so the
// calendar and a booking agree; the opening hours and blackout dates are also applied here, so
// days beyond the schedule's window and the past are shaded the same way.
//
// Also the small date helpers the booking pages share (local dates as 'YYYY-MM-DD').

import { h } from './dom.js';
import { t, language } from './i18n.js';
import { localDate, zonedInputToIso, formatTime } from './format.js';
import { get } from './api.js';

const DAY_MS = 86400000;

/** 'YYYY-MM-DD' moved by `n` days. */
export function addDays(date, n) {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + n);
  return day.toISOString().slice(0, 10);
}

/** The weekday of a local date, 0 = Monday (as the API numbers them). */
export function weekday(date) {
  return (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
}

/** The Monday of the week of `date`. */
export const mondayOf = (date) => addDays(date, -weekday(date));

/** Today's date in `zone`. */
export const todayIn = (zone) => localDate(new Date().toISOString(), zone);

/** True for a well-formed 'YYYY-MM-DD'. */
export function isDate(text) {
  return typeof text === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`));
}

/** Days between two local dates (b − a). */
export const daysBetween = (a, b) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);

/** "Mon 7 Dec" for a local date, in the page's language. */
export function dayLabel(date, long = false) {
  const options = long
    ? { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }
    : { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(language(), options).format(new Date(`${date}T12:00:00Z`));
}

/** The name of weekday `day` (0 = Monday), `style` 'long' or 'short'. */
export function weekdayName(day, style = 'long') {
  return new Intl.DateTimeFormat(language(), { weekday: style, timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + day, 12)));
}

/** "09:30" for minutes after local midnight, in the page's language. */
export function clockLabel(minutes) {
  return new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' })
    .format(new Date(Date.UTC(2000, 0, 1, 0, minutes)));
}

const pad = (number) => String(number).padStart(2, '0');

/** 'HH:MM[:SS]' → minutes after midnight ('24:00' → 1440). */
export function minutesOf(time) {
  const [hours, minutes] = String(time).split(':').map(Number);
  return hours * 60 + (minutes || 0);
}

const resourceCache = new Map();

/** One resource (`GET /resources/{id}`), cached for the page's life; for its name and zone. */
export function resourceInfo(id) {
  if (!resourceCache.has(id)) {
    const request = get(`/resources/${id}`).catch((error) => {
      resourceCache.delete(id);
      throw error;
    });
    resourceCache.set(id, request);
  }
  return resourceCache.get(id);
}

/** Forgets a cached resource (after a live change to it). */
export const forgetResource = (id) => resourceCache.delete(id);

/** A "mm:ss" (or "h:mm:ss") countdown to `iso` in `element`; calls `onEnd` at zero. Returns stop(). */
export function countdown(element, iso, onEnd) {
  const end = Date.parse(iso);
  let timer = null;
  const tick = () => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    const hours = Math.floor(left / 3600);
    const minutes = Math.floor((left % 3600) / 60);
    const seconds = left % 60;
    element.textContent = hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
    element.setAttribute('datetime', `PT${left}S`);
    if (left === 0) {
      clearInterval(timer);
      timer = null;
      if (onEnd) onEnd();
    }
  };
  tick();
  if (end > Date.now()) timer = setInterval(tick, 1000);
  return () => { if (timer) clearInterval(timer); };
}

/**
 * The hours to show: from the earliest opening to the latest closing over `days`, by the
 * opening-hour rows (`[]`: always open, the whole day), widened to the bookings shown.
 */
function visibleSpan(days, hoursByDay, alwaysOpen) {
  if (alwaysOpen) return [0, 1440];
  let first = 1440;
  let last = 0;
  for (const day of days) {
    const row = hoursByDay.get(weekday(day));
    if (!row || row.is_closed) continue;
    first = Math.min(first, minutesOf(row.open_time));
    last = Math.max(last, minutesOf(row.close_time));
  }
  if (first >= last) return [8 * 60, 18 * 60];
  return [Math.floor(first / 60) * 60, Math.min(1440, Math.ceil(last / 60) * 60)];
}

const overlaps = (aStart, aEnd, bStart, bEnd) => aStart < bEnd && bStart < aEnd;

/**
 * The calendar table. `opts`: `days` (local dates), `zone`, `hours` (rows in force),
 * `blackouts` (Map date → reason), `schedule` (the availability `data`, or null), `me` (user id),
 * `slotMinutes`, `selection` ({start, end} ISO or null), `onPick(startIso, endIso)`.
 */
export function calendarGrid({ days, zone, hours, blackouts, schedule, me, slotMinutes = 30, selection, onPick }) {
  const hoursByDay = new Map(hours.map((row) => [row.day_of_week, row]));
  const alwaysOpen = hours.length === 0;
  const [spanStart, spanEnd] = visibleSpan(days, hoursByDay, alwaysOpen);
  const now = Date.now();
  const free = (schedule?.free_periods || []).map((p) => [Date.parse(p.start_time), Date.parse(p.end_time)]);
  const closed = (schedule?.closed_periods || []).map((p) => [Date.parse(p.start_time), Date.parse(p.end_time)]);
  const bookings = (schedule?.reservations || [])
    .filter((b) => ['active', 'pending_approval', 'held'].includes(b.status))
    .map((b) => ({ ...b, from: Date.parse(b.start_time), to: Date.parse(b.end_time) }));
  const serverBlackouts = new Map((schedule?.blackout_dates || []).map((b) => [b.date, b.reason]));
  const selected = selection ? [Date.parse(selection.start), Date.parse(selection.end)] : null;

  const closedByHours = (day, minute) => {
    if (alwaysOpen) return false;
    const row = hoursByDay.get(weekday(day));
    if (!row || row.is_closed) return true;
    return minute < minutesOf(row.open_time) || minute + slotMinutes > minutesOf(row.close_time);
  };
  const blackoutOf = (day) => (blackouts.has(day) ? blackouts.get(day) : serverBlackouts.get(day));
  const isBlackout = (day) => blackouts.has(day) || serverBlackouts.has(day);

  const labelled = new Set();
  const cell = (day, minute) => {
    const startIso = zonedInputToIso(`${day}T${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`, zone);
    const from = Date.parse(startIso);
    const to = from + slotMinutes * 60000;
    const endIso = new Date(to).toISOString();
    const booking = bookings.find((b) => overlaps(from, to, b.from, b.to));
    const classes = ['cal-cell'];
    if (selected && from >= selected[0] && to <= selected[1]) classes.push('cal-selected');
    if (booking) {
      classes.push(`cal-booked cal-${booking.status}`);
      const mine = me !== undefined && booking.user_id === me;
      if (mine) classes.push('cal-mine');
      const first = !labelled.has(`${day}:${booking.id}`);
      labelled.add(`${day}:${booking.id}`);
      const who = mine ? t('booking.cal_yours') : (booking.user_name || t(`booking.cal_${booking.status}`));
      const words = `${formatTime(booking.start_time, zone)}–${formatTime(booking.end_time, zone)} ${who}`;
      const content = first
        ? (mine ? h('a', { href: `#/reservations/${booking.id}` }, words) : h('span', {}, words))
        : h('span', { class: 'visually-hidden' }, words);
      return h('td', { class: classes.join(' '), dataset: { state: 'booked' } }, content);
    }
    let state;
    if (isBlackout(day)) state = 'blackout';
    else if (closedByHours(day, minute) || closed.some(([a, b]) => overlaps(from, to, a, b))) state = 'closed';
    else if (to <= now) state = 'past';
    else if (free.some(([a, b]) => from >= a && to <= b)) state = 'free';
    else state = 'unavailable';
    classes.push(`cal-${state}`);
    if (state === 'free') {
      const label = t('booking.cal_pick', { day: dayLabel(day), time: clockLabel(minute) });
      return h('td', { class: classes.join(' '), dataset: { state } },
        h('button', {
          type: 'button', class: 'cal-slot', 'data-test': 'cal-slot', 'data-start': startIso, 'data-end': endIso,
          'aria-pressed': classes.includes('cal-selected') ? 'true' : 'false',
          onclick: () => onPick && onPick(startIso, endIso),
        }, h('span', { class: 'visually-hidden' }, label)));
    }
    const hidden = state === 'unavailable' || state === 'blackout' || state === 'closed'
      ? h('span', { class: 'visually-hidden' }, t(`booking.cal_${state}`)) : null;
    return h('td', { class: classes.join(' '), dataset: { state } }, hidden);
  };

  const rows = [];
  for (let minute = spanStart; minute < spanEnd; minute += slotMinutes) {
    rows.push(h('tr', {},
      h('th', { scope: 'row', class: 'cal-time' }, minute % 60 === 0 ? clockLabel(minute) : h('span', { class: 'cal-half' }, clockLabel(minute))),
      days.map((day) => cell(day, minute))));
  }
  const today = todayIn(zone);
  const grid = h('div', { class: 'table-wrap cal-wrap' },
    h('table', { class: `calendar cal-days-${days.length}`, 'data-test': 'calendar' },
      h('caption', { class: 'visually-hidden' }, t('booking.cal_caption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'cal-time' }, t('booking.cal_time')),
        days.map((day) => h('th', { scope: 'col', class: day === today ? 'cal-today' : null, 'data-date': day },
          h('span', {}, dayLabel(day)),
          isBlackout(day) ? h('span', { class: 'cal-blackout-note' },
            blackoutOf(day) ? t('booking.cal_blackout_reason', { reason: blackoutOf(day) }) : t('booking.cal_blackout')) : null,
          !alwaysOpen && (!hoursByDay.get(weekday(day)) || hoursByDay.get(weekday(day)).is_closed)
            ? h('span', { class: 'cal-closed-note' }, t('booking.cal_closed_day')) : null)))),
      h('tbody', {}, rows)));
  roving(grid.querySelector('tbody'));
  return grid;
}

/**
 * One Tab stop for the whole grid of slots (the picked one, else the first free one); the
 * arrow keys move between free slots (up and down in a day, left and right across days), Home
 * and End to the first and last of the row.
 */
function roving(body) {
  const buttons = [...body.querySelectorAll('.cal-slot')];
  if (!buttons.length) return;
  const place = new Map();
  [...body.rows].forEach((row, r) => [...row.cells].forEach((cell, c) => {
    const slot = cell.querySelector('.cal-slot');
    if (slot) place.set(slot, [r, c]);
  }));
  const current = buttons.find((b) => b.getAttribute('aria-pressed') === 'true') || buttons[0];
  buttons.forEach((b) => { b.tabIndex = b === current ? 0 : -1; });
  body.addEventListener('focusin', (event) => {
    if (!place.has(event.target)) return;
    buttons.forEach((b) => { b.tabIndex = b === event.target ? 0 : -1; });
  });
  body.addEventListener('keydown', (event) => {
    const from = place.get(event.target);
    if (!from) return;
    const [r, c] = from;
    const at = (row, col) => body.rows[row]?.cells[col]?.querySelector('.cal-slot');
    const rowCount = body.rows.length;
    const colCount = body.rows[0].cells.length;
    let next = null;
    const scan = (dr, dc) => {
      for (let row = r + dr, col = c + dc; row >= 0 && row < rowCount && col >= 1 && col < colCount; row += dr, col += dc) {
        const found = at(row, col);
        if (found) return found;
      }
      return null;
    };
    if (event.key === 'ArrowDown') next = scan(1, 0);
    else if (event.key === 'ArrowUp') next = scan(-1, 0);
    else if (event.key === 'ArrowRight') next = scan(0, 1);
    else if (event.key === 'ArrowLeft') next = scan(0, -1);
    else if (event.key === 'Home') next = [...body.rows[r].cells].map((cell) => cell.querySelector('.cal-slot')).find(Boolean);
    else if (event.key === 'End') next = [...body.rows[r].cells].map((cell) => cell.querySelector('.cal-slot')).filter(Boolean).pop();
    else return;
    event.preventDefault();
    if (next) next.focus();
  });
}

/** The calendar's legend. */
export function calendarLegend() {
  return h('ul', { class: 'cal-legend', 'aria-label': t('booking.cal_legend') },
    ['free', 'booked', 'mine', 'closed', 'blackout', 'past', 'selected'].map((state) =>
      h('li', {}, h('span', { class: `cal-swatch cal-${state}`, 'aria-hidden': 'true' }), t(`booking.legend_${state}`))));
}
