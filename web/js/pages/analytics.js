// `#/analytics`: how the space is used over a period (the last N days) — the overview,
// utilisation (booked time over OPEN time), booking patterns per user (everyone's for managers,
// one's own otherwise), the two CSV exports, and as SVG charts (`charts.js`, each with its
// numbers as a table under it): a utilisation heatmap per resource over weekday × hour, peak
// weekdays and hours (on each resource's clock), the most booked resources and the bookings
// made and cancelled per day. The utilisation table draws a bar in each row (widths are set
// from JS: the CSP allows no inline style). A section whose endpoint fails says so on its own;
// the rest of the page still shows.

import { h, replace, flash, table } from '../dom.js';
import { get, download } from '../api.js';
import { t, language } from '../i18n.js';
import { can } from '../session.js';
import { barChart, stackedChart, heatmap } from '../charts.js';
import { formatDate } from '../format.js';
import { dayNames } from './admin.js';

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
  return h('section', { 'aria-labelledby': 'analytics-popular' },
    h('h2', { id: 'analytics-popular' }, t('analytics.popular')),
    rows.length ? barChart({
      title: t('analytics.popular'),
      desc: t('analytics.popular_desc', { count: rows.length }),
      orientation: 'horizontal',
      caption: null,
      bars: rows.map((row) => ({ key: row.resource_id, label: row.resource_name, value: row.reservation_count })),
      labelHeader: t('analytics.resource'),
      valueHeader: t('analytics.bookings'),
      test: 'chart-popular',
    }) : h('p', { class: 'empty' }, t('analytics.nothing')));
}

const two = (number) => String(number).padStart(2, '0');

function peaks(data) {
  const days = dayNames();
  const shortDays = dayNames('short');
  const byDay = new Map(data.daily_distribution.map((row) => [row.day_number, row.count]));
  const byHour = new Map(data.hourly_distribution.map((row) => [row.hour, row.count]));
  const peakDay = DAY_NAMES.indexOf(String(data.peak_day).toLowerCase());
  return h('section', { 'aria-labelledby': 'analytics-peaks' },
    h('h2', { id: 'analytics-peaks' }, t('analytics.peaks')),
    h('p', { class: 'hint' }, t('analytics.peaks_hint')),
    h('div', { class: 'analytics-columns' },
      barChart({
        title: t('analytics.by_weekday'),
        desc: t('analytics.peak_day_desc', { day: days[peakDay] || data.peak_day, count: data.peak_day_count }),
        bars: days.map((name, day) => ({ key: day, label: name, short: shortDays[day], value: byDay.get(day) || 0 })),
        labelHeader: t('analytics.weekday'),
        valueHeader: t('analytics.bookings'),
        test: 'chart-weekdays',
      }),
      barChart({
        title: t('analytics.by_hour'),
        desc: t('analytics.peak_hour_desc', { hour: `${two(data.peak_hour)}:00`, count: data.peak_hour_count }),
        bars: Array.from({ length: 24 }, (_, hour) => ({ key: hour, label: `${two(hour)}:00`, short: two(hour), value: byHour.get(hour) || 0 })),
        every: 3,
        labelHeader: t('analytics.hour'),
        valueHeader: t('analytics.bookings'),
        test: 'chart-hours',
      })));
}

/** The heatmap section: one resource at a time, picked among those the server answered. */
function heatmaps(data) {
  const section = h('section', { 'aria-labelledby': 'analytics-heatmap', 'data-test': 'analytics-heatmap' },
    h('h2', { id: 'analytics-heatmap' }, t('analytics.heatmap')),
    h('p', { class: 'hint' }, t('analytics.heatmap_hint')));
  const resources = data.resources || [];
  if (!resources.length) {
    section.append(h('p', { class: 'empty' }, t('analytics.nothing')));
    return section;
  }
  const picker = h('select', { id: 'analytics-heatmap-resource', 'data-test': 'analytics-heatmap-resource' },
    resources.map((resource) => h('option', { value: resource.resource_id }, resource.resource_name)));
  const holder = h('div');
  const draw = () => {
    const resource = resources.find((item) => String(item.resource_id) === picker.value) || resources[0];
    const open = (resource.cells || []).flat().filter((value) => value !== null && value !== undefined);
    const busiest = open.length ? Math.max(...open) : 0;
    replace(holder, heatmap({
      title: t('analytics.heatmap_of', { name: resource.resource_name }),
      desc: t('analytics.heatmap_desc', { zone: resource.timezone, max: Math.round(busiest * 10) / 10 }),
      cells: resource.cells,
      dayNames: dayNames(),
      test: 'chart-heatmap',
    }));
  };
  picker.addEventListener('change', draw);
  section.append(h('div', { class: 'field analytics-controls' },
    h('label', { for: 'analytics-heatmap-resource' }, t('analytics.resource')), picker), holder);
  draw();
  return section;
}

const rate = (made, gone) => (made > 0 ? `${Math.round((gone / made) * 1000) / 10} %` : '—');

/** Bookings made per day, the cancelled part stacked on the kept part, the rate in the table. */
function cancellations(data) {
  const rows = data.days || [];
  const created = rows.reduce((sum, row) => sum + row.created, 0);
  const cancelled = rows.reduce((sum, row) => sum + row.cancelled, 0);
  const summary = t('analytics.cancellations_summary', { cancelled, created, rate: rate(created, cancelled) });
  const dayLabel = new Intl.DateTimeFormat(language(), { day: 'numeric', month: 'short', timeZone: 'UTC' });
  return h('section', { 'aria-labelledby': 'analytics-cancellations' },
    h('h2', { id: 'analytics-cancellations' }, t('analytics.cancellations')),
    h('p', { class: 'hint', 'data-test': 'analytics-cancellation-summary' }, summary),
    created ? stackedChart({
      title: t('analytics.cancellations'),
      desc: summary,
      series: [{ name: t('analytics.kept'), class: 'chart-bar' }, { name: t('analytics.cancelled'), class: 'chart-bar-alt' }],
      columns: rows.map((row) => ({
        key: row.date,
        label: row.date,
        short: dayLabel.format(new Date(`${row.date}T00:00:00Z`)),
        parts: [Math.max(0, row.created - row.cancelled), row.cancelled],
      })),
      every: Math.max(1, Math.ceil(rows.length / 8)),
      labelHeader: t('analytics.date'),
      caption: null,
      extra: [[t('analytics.cancellation_rate'), (column) => rate(column.parts[0] + column.parts[1], column.parts[1])]],
      test: 'chart-cancellations',
    }) : null);
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


/** "From 7 November 2026 to 7 December 2026". */
function period(span) {
  if (!span || !span.start || !span.end) return null;
  return h('p', { class: 'hint analytics-period', 'data-test': 'analytics-period' },
    t('analytics.period', { start: formatDate(span.start, 'UTC'), end: formatDate(span.end, 'UTC') }));
}

/** A section whose endpoint failed: its heading and the error. */
function failed(titleKey, error) {
  return h('section', {}, h('h2', {}, t(titleKey)), flash('error', error.message));
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
  const query = { days };
  const part = (promise, draw, titleKey) => promise.then(draw, (error) => failed(titleKey, error));
  const parts = await Promise.all([
    part(get('/analytics/dashboard', query), overview, 'analytics.overview'),
    part(get('/analytics/heatmap', query), heatmaps, 'analytics.heatmap'),
    part(get('/analytics/peak-times', query), (data) => [period(data.period), peaks(data)], 'analytics.peaks'),
    part(get('/analytics/popular-resources', { ...query, limit: 10 }), (top) => popular(top.resources), 'analytics.popular'),
    part(get('/analytics/cancellations', query), cancellations, 'analytics.cancellations'),
    part(get('/analytics/utilization', query), (usage) => utilisation(usage.utilization), 'analytics.utilisation'),
    part(get('/analytics/user-patterns', { ...query, limit: 20 }), (users) => patterns(users.users), 'analytics.patterns_everyone'),
  ]);
  // The period line (from the peak times' answer) goes first.
  const periodLine = Array.isArray(parts[2]) ? parts[2].shift() : null;
  replace(body, periodLine, parts);
}
