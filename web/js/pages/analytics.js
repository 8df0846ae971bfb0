// `#/analytics`: how the space is used over the last N days — the overview, utilisation (booked
// time over OPEN time), the most booked resources, peak hours and weekdays (on each resource's
// clock), booking patterns per user (everyone's for managers, one's own otherwise) and the two
// CSV exports. Every chart is a table with a bar drawn in each row, so the numbers are there for
// screen readers and the bars for the eye (widths are set from JS: the CSP allows no inline style).

import { h, replace, flash, table } from '../dom.js';
import { get, download } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../session.js';

const WINDOWS = [7, 30, 90, 365];
const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** A cell with a bar of `value / max` of the full width and the value as text. */
function bar(value, max, text) {
  const fill = h('span', { class: 'bar-fill' });
  fill.style.width = `${max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0}%`;
  return h('span', { class: 'bar' }, h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill), h('span', { class: 'bar-text' }, text));
}

function card(label, figure, test) {
  return h('div', { class: 'card', 'data-test': test }, h('div', { class: 'hint' }, label), h('div', { class: 'figure' }, figure));
}

function overview(data) {
  const o = data.overview;
  return h('section', { 'aria-labelledby': 'analytics-overview' },
    h('h2', { id: 'analytics-overview' }, t('analytics.overview')),
    h('div', { class: 'cards' },
      card(t('analytics.total_reservations'), o.total_reservations, 'analytics-total'),
      card(t('analytics.active_reservations'), o.active_reservations, 'analytics-active'),
      card(t('analytics.cancellation_rate'), `${o.cancellation_rate} %`, 'analytics-cancellation-rate'),
      card(t('analytics.average_utilization'), `${o.average_utilization} %`, 'analytics-average-utilization'),
      card(t('analytics.peak'), data.top_resources.length
        ? `${t(`analytics.${String(data.peak_times.peak_day).toLowerCase()}`, {}, data.peak_times.peak_day)} · ${String(data.peak_times.peak_hour).padStart(2, '0')}:00`
        : '—', 'analytics-peak')));
}

function utilisation(rows) {
  const max = Math.max(100, ...rows.map((row) => row.utilization_percent));
  return h('section', { 'aria-labelledby': 'analytics-utilisation' },
    h('h2', { id: 'analytics-utilisation' }, t('analytics.utilisation')),
    h('p', { class: 'hint' }, t('analytics.utilisation_hint')),
    table([
      [t('analytics.resource'), (row) => h('a', { href: `#/resources/${row.resource_id}` }, row.resource_name)],
      [t('analytics.open_hours'), (row) => row.total_hours_available],
      [t('analytics.booked_hours'), (row) => row.booked_hours],
      [t('analytics.utilisation'), (row) => bar(row.utilization_percent, max, `${row.utilization_percent} %`)],
    ], rows, { empty: t('analytics.nothing'), rowAttrs: () => ({ 'data-test': 'analytics-utilisation-row' }) }));
}

function popular(rows) {
  const max = Math.max(1, ...rows.map((row) => row.reservation_count));
  return h('section', { 'aria-labelledby': 'analytics-popular' },
    h('h2', { id: 'analytics-popular' }, t('analytics.popular')),
    table([
      [t('analytics.rank'), (row) => row.rank],
      [t('analytics.resource'), (row) => h('a', { href: `#/resources/${row.resource_id}` }, row.resource_name)],
      [t('analytics.bookings'), (row) => bar(row.reservation_count, max, row.reservation_count)],
    ], rows, { empty: t('analytics.nothing') }));
}

function peaks(data) {
  const hourMax = Math.max(1, ...data.hourly_distribution.map((row) => row.count));
  const dayMax = Math.max(1, ...data.daily_distribution.map((row) => row.count));
  return h('section', { 'aria-labelledby': 'analytics-peaks' },
    h('h2', { id: 'analytics-peaks' }, t('analytics.peaks')),
    h('p', { class: 'hint' }, t('analytics.peaks_hint')),
    h('div', { class: 'analytics-columns' },
      table([
        [t('analytics.weekday'), (row) => t(`analytics.${DAY_NAMES[row.day_number] || 'monday'}`)],
        [t('analytics.bookings'), (row) => bar(row.count, dayMax, row.count)],
      ], data.daily_distribution, { caption: t('analytics.by_weekday') }),
      table([
        [t('analytics.hour'), (row) => `${String(row.hour).padStart(2, '0')}:00`],
        [t('analytics.bookings'), (row) => bar(row.count, hourMax, row.count)],
      ], data.hourly_distribution.filter((row) => row.count > 0), { caption: t('analytics.by_hour') })));
}

function patterns(rows) {
  return h('section', { 'aria-labelledby': 'analytics-patterns' },
    h('h2', { id: 'analytics-patterns' }, can('reservation:read_any') ? t('analytics.patterns_everyone') : t('analytics.patterns_mine')),
    table([
      [t('analytics.user'), (row) => row.username],
      [t('analytics.bookings'), (row) => row.total_reservations],
      [t('analytics.cancelled'), (row) => row.cancelled_count],
      [t('analytics.cancellation_rate'), (row) => `${row.cancellation_rate} %`],
    ], rows, { empty: t('analytics.nothing') }));
}

export default async function render(view, ctx) {
  ctx.setTitle(t('analytics.title'));
  const days = WINDOWS.includes(Number(ctx.query.days)) ? Number(ctx.query.days) : 30;
  const picker = h('select', { id: 'analytics-days', 'data-test': 'analytics-days' },
    WINDOWS.map((value) => h('option', { value, selected: value === days }, t('analytics.last_days', { days: value }))));
  picker.addEventListener('change', () => ctx.navigate(`/analytics?days=${picker.value}`));
  const exports = h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'btn', 'data-test': 'analytics-export-utilisation',
      onclick: () => download('/analytics/export/utilization.csv', `utilization_${days}days.csv`, { days }).catch((error) => replace(messages, flash('error', error.message))) },
    t('analytics.export_utilisation')),
    h('button', { type: 'button', class: 'btn', 'data-test': 'analytics-export-reservations',
      onclick: () => download('/analytics/export/reservations.csv', `reservations_${days}days.csv`, { days }).catch((error) => replace(messages, flash('error', error.message))) },
    t('analytics.export_reservations')));
  const messages = h('div');
  const body = h('div', {}, h('p', { class: 'loading' }, t('core.loading')));
  replace(view,
    h('h1', {}, t('analytics.title')),
    h('div', { class: 'field-row analytics-controls' },
      h('div', { class: 'field' }, h('label', { for: 'analytics-days' }, t('analytics.window')), picker)),
    exports, messages, body);
  try {
    const query = { days };
    const [dashboard, usage, top, peakTimes, users] = await Promise.all([
      get('/analytics/dashboard', query),
      get('/analytics/utilization', query),
      get('/analytics/popular-resources', { ...query, limit: 10 }),
      get('/analytics/peak-times', query),
      get('/analytics/user-patterns', { ...query, limit: 20 }),
    ]);
    replace(body, overview(dashboard), utilisation(usage.utilization), popular(top.resources), peaks(peakTimes), patterns(users.users));
  } catch (error) {
    replace(body, flash('error', error.message));
  }
}
