// Charts drawn as inline SVG, with no library: bar charts (vertical or horizontal), stacked bars
// and a weekday × hour heatmap. Each chart is a `<figure>` holding
// - the SVG, `role="img"` with its `<title>` and `<desc>` as its accessible name and description;
// - every mark's value in a `<title>` (a tooltip for the mouse) and in `data-*` attributes;
// - the same numbers as a table in a `<details>` below it, for screen readers and for copying.
// Colours come from the page's CSS variables (classes only, no inline style: the CSP allows
// none), so the charts follow the light and dark themes; text is drawn in `--text`/`--muted`,
// which pass AA contrast on `--surface` in both themes.

import { h } from './dom.js';
import { t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
let chartCounter = 0;

/** An SVG element: `attrs` as attributes (null/undefined skipped), children nodes or strings. */
export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') element.setAttribute('class', value);
    else element.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Rounds to one decimal for display ("12.5", "3"). */
const short = (value) => String(Math.round(value * 10) / 10);

/** The `<svg role="img">` with its title and description. */
function frame(width, height, title, desc, test) {
  const id = `chart-${++chartCounter}`;
  return svg('svg', {
    viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart-svg',
    'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-desc`, 'data-test': test,
    preserveAspectRatio: 'xMidYMid meet',
  }, svg('title', { id: `${id}-title` }, title), svg('desc', { id: `${id}-desc` }, desc));
}

/** A `<details>` with the chart's numbers as a table (`columns`: `[header, row => text]`). */
function dataTable(caption, columns, rows, test) {
  return h('details', { class: 'chart-data', 'data-test': test ? `${test}-data` : null },
    h('summary', {}, t('analytics.chart_data')),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map(([header]) => h('th', { scope: 'col' }, header)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map(([, cell], index) => (index === 0
        ? h('th', { scope: 'row' }, cell(row))
        : h('td', {}, cell(row))))))))));
}

function figure(caption, chart, table, test) {
  return h('figure', { class: 'chart', 'data-test': test },
    caption ? h('figcaption', { class: 'chart-caption' }, caption) : null, chart, table);
}

/**
 * A bar chart. `bars`: `[{key, label, value, text?}]` (`text` is the value as shown, default the
 * number); `orientation`: 'vertical' (columns, labels under them; `every` labels every n-th
 * column) or 'horizontal' (one row per bar, label left, value right). `valueHeader` names the
 * value column of the data table; `caption` (default the title; null for none, when a heading
 * above already says it) is shown over the chart. Bars carry `data-test="<test>-bar"`,
 * `data-key`, `data-value`.
 */
export function barChart({ title, desc, bars, orientation = 'vertical', every = 1, valueHeader, labelHeader, caption = title, test }) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const text = (bar) => bar.text ?? short(bar.value);
  let chart;
  if (orientation === 'horizontal') {
    const row = 28;
    const width = 640;
    const labelWidth = 200;
    const valueWidth = 70;
    const span = width - labelWidth - valueWidth;
    chart = frame(width, Math.max(row, bars.length * row), title, desc, test);
    bars.forEach((bar, index) => {
      const y = index * row;
      const length = (bar.value / max) * span;
      chart.append(
        svg('text', { x: labelWidth - 8, y: y + row / 2, class: 'chart-label', 'text-anchor': 'end', 'dominant-baseline': 'middle' },
          bar.label.length > 28 ? `${bar.label.slice(0, 27)}…` : bar.label),
        svg('rect', { x: labelWidth, y: y + 5, width: span, height: row - 10, class: 'chart-track' }),
        svg('rect', {
          x: labelWidth, y: y + 5, width: Math.max(bar.value > 0 ? 2 : 0, length), height: row - 10, class: 'chart-bar',
          'data-test': `${test}-bar`, 'data-key': bar.key, 'data-value': bar.value,
        }, svg('title', {}, `${bar.label}: ${text(bar)}`)),
        svg('text', { x: width - 4, y: y + row / 2, class: 'chart-value', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, text(bar)));
    });
  } else {
    const height = 180;
    const top = 16;
    const bottom = 24;
    const left = 36;
    const width = 640;
    const slot = (width - left - 4) / Math.max(1, bars.length);
    const plot = height - top - bottom;
    chart = frame(width, height, title, desc, test);
    chart.append(
      svg('line', { x1: left, x2: width, y1: top + plot, y2: top + plot, class: 'chart-axis' }),
      svg('text', { x: left - 6, y: top, class: 'chart-tick', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, short(max)),
      svg('text', { x: left - 6, y: top + plot, class: 'chart-tick', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, '0'));
    bars.forEach((bar, index) => {
      const x = left + index * slot;
      const length = (bar.value / max) * plot;
      const barWidth = Math.min(48, slot * 0.7);
      chart.append(svg('rect', {
        x: x + (slot - barWidth) / 2, y: top + plot - length, width: barWidth, height: length, class: 'chart-bar',
        'data-test': `${test}-bar`, 'data-key': bar.key, 'data-value': bar.value,
      }, svg('title', {}, `${bar.label}: ${text(bar)}`)));
      if (index % every === 0) {
        chart.append(svg('text', { x: x + slot / 2, y: height - 6, class: 'chart-tick', 'text-anchor': 'middle' }, bar.short ?? bar.label));
      }
    });
  }
  return figure(caption, chart, dataTable(title, [
    [labelHeader, (bar) => bar.label],
    [valueHeader, text],
  ], bars, test), test);
}

/**
 * Stacked columns, one per `columns` item `{key, label, short?, parts: [value per series]}`;
 * `series`: `[{name, class}]` bottom first (each part gets the class, e.g. 'chart-bar' or
 * 'chart-bar-alt'). `extra` adds columns to the data table (`[header, column => text]`);
 * `caption` as for `barChart`.
 */
export function stackedChart({ title, desc, series, columns, every = 1, labelHeader, extra = [], caption = title, test }) {
  const height = 180;
  const top = 16;
  const bottom = 24;
  const left = 36;
  const width = 720;
  const slot = (width - left - 4) / Math.max(1, columns.length);
  const plot = height - top - bottom;
  const max = Math.max(1, ...columns.map((column) => column.parts.reduce((sum, part) => sum + part, 0)));
  const chart = frame(width, height + 22, title, desc, test);
  chart.append(
    svg('line', { x1: left, x2: width, y1: top + plot, y2: top + plot, class: 'chart-axis' }),
    svg('text', { x: left - 6, y: top, class: 'chart-tick', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, short(max)),
    svg('text', { x: left - 6, y: top + plot, class: 'chart-tick', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, '0'));
  columns.forEach((column, index) => {
    const x = left + index * slot;
    let base = top + plot;
    column.parts.forEach((value, part) => {
      const length = (value / max) * plot;
      base -= length;
      chart.append(svg('rect', {
        x: x + slot * 0.1, y: base, width: slot * 0.8, height: length, class: series[part].class,
        'data-test': `${test}-bar`, 'data-key': column.key, 'data-series': part, 'data-value': value,
      }, svg('title', {}, `${column.label} — ${series[part].name}: ${value}`)));
    });
    if (index % every === 0) {
      chart.append(svg('text', { x: x + slot / 2, y: height - 6, class: 'chart-tick', 'text-anchor': 'middle' }, column.short ?? column.label));
    }
  });
  // The legend, under the axis.
  let x = left;
  series.forEach((item) => {
    chart.append(svg('rect', { x, y: height + 6, width: 12, height: 12, class: item.class }),
      svg('text', { x: x + 16, y: height + 12, class: 'chart-tick', 'dominant-baseline': 'middle' }, item.name));
    x += 24 + item.name.length * 7;
  });
  return figure(caption, chart, dataTable(title, [
    [labelHeader, (column) => column.label],
    ...series.map((item, part) => [item.name, (column) => column.parts[part]]),
    ...extra,
  ], columns, test), test);
}

/** The heat class of a 0–100 value: five steps, 'heat-closed' for null (not open then). */
export function heatClass(value) {
  if (value === null || value === undefined) return 'heat-closed';
  if (value <= 0) return 'heat-0';
  return `heat-${Math.min(4, Math.ceil(value / 25))}`;
}

/**
 * A weekday × hour heatmap of percentages: `cells` is 7 rows (Monday first) of 24 values 0–100,
 * or null where the resource is closed. `dayNames` are the 7 row labels. Each cell is a rect
 * with `data-test="<test>-cell"`, `data-day` (0 = Monday), `data-hour` and `data-value`
 * ('closed' for null).
 */
export function heatmap({ title, desc, cells, dayNames, test }) {
  const cell = 24;
  const left = 92;
  const top = 20;
  const width = left + cell * 24 + 4;
  const height = top + cell * 7 + 40;
  const chart = frame(width, height, title, desc, test);
  for (let hour = 0; hour < 24; hour += 3) {
    chart.append(svg('text', { x: left + hour * cell + cell / 2, y: top - 6, class: 'chart-tick', 'text-anchor': 'middle' }, String(hour).padStart(2, '0')));
  }
  const valueText = (value) => (value === null || value === undefined ? t('analytics.closed') : `${short(value)} %`);
  (cells || []).forEach((row, day) => {
    chart.append(svg('text', { x: left - 8, y: top + day * cell + cell / 2, class: 'chart-label', 'text-anchor': 'end', 'dominant-baseline': 'middle' }, dayNames[day]));
    (row || []).forEach((value, hour) => {
      chart.append(svg('rect', {
        x: left + hour * cell + 1, y: top + day * cell + 1, width: cell - 2, height: cell - 2, rx: 3,
        class: `heat-cell ${heatClass(value)}`, 'data-test': `${test}-cell`, 'data-day': day, 'data-hour': hour,
        'data-value': value === null || value === undefined ? 'closed' : value,
      }, svg('title', {}, `${dayNames[day]} ${String(hour).padStart(2, '0')}:00 — ${valueText(value)}`)));
    });
  });
  // The legend: the five steps and "closed".
  const steps = [['heat-closed', t('analytics.closed')], ['heat-0', '0 %'], ['heat-1', '≤ 25 %'], ['heat-2', '≤ 50 %'], ['heat-3', '≤ 75 %'], ['heat-4', '≤ 100 %']];
  const legendY = top + cell * 7 + 14;
  steps.forEach(([klass, label], index) => {
    const x = left + index * 92;
    chart.append(svg('rect', { x, y: legendY, width: 14, height: 14, rx: 3, class: `heat-cell ${klass}` }),
      svg('text', { x: x + 20, y: legendY + 7, class: 'chart-tick', 'dominant-baseline': 'middle' }, label));
  });
  const hours = Array.from({ length: 24 }, (_, hour) => hour);
  const table = h('details', { class: 'chart-data', 'data-test': `${test}-data` },
    h('summary', {}, t('analytics.chart_data')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'heat-table' },
      h('caption', { class: 'visually-hidden' }, title),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('analytics.weekday')),
        hours.map((hour) => h('th', { scope: 'col' }, String(hour).padStart(2, '0'))))),
      h('tbody', {}, (cells || []).map((row, day) => h('tr', {}, h('th', { scope: 'row' }, dayNames[day]),
        (row || []).map((value) => h('td', {}, value === null || value === undefined ? '—' : short(value)))))))));
  return figure(title, chart, table, test);
}
