// `#/bulk`: booking many slots at once — several resources × a time pattern (a date range, some
// weekdays, a start and an end time of day on each resource's own clock). The page builds the
// items itself (at most `MAX_ITEMS` per batch, as the API allows, and says so beyond), asks the
// server for a dry run (`POST /bulk/reservations` with `dry_run: true`) and shows what would be
// booked and what would be refused (resource, time, reason), then commits the same items
// (`dry_run: false`). The commit is all-or-nothing: on any refusal nothing is booked and the
// page says so with the server's message and the refusals; on success it lists the bookings.
// Changing the pattern after a dry run asks for a new one before booking.

import { h, replace, flash } from '../dom.js';
import { t } from '../i18n.js';
import { post } from '../api.js';
import { formatRange, zonedInputToIso } from '../format.js';
import { addDays, weekday, todayIn, isDate, daysBetween } from '../calendar.js';
import { dayNames } from './admin.js';
import { allResources } from './organise.js';

/** The API's limit on one batch (original-api §2.15: 1..100 items). */
export const MAX_ITEMS = 100;
/** The longest date range the page expands (a year), so a typo cannot freeze the tab. */
const MAX_DAYS = 366;

/**
 * The items of a pattern: for each date from `from` to `to` whose weekday (0 = Monday) is in
 * `weekdays`, for each resource, `start`–`end` as wall time on the resource's clock, in UTC.
 * Each item keeps its resource for display (`resource`), which is not sent.
 */
export function buildItems({ resources, from, to, weekdays, start, end }) {
  const items = [];
  for (let date = from; date <= to; date = addDays(date, 1)) {
    if (!weekdays.has(weekday(date))) continue;
    for (const resource of resources) {
      const zone = resource.timezone || 'UTC';
      items.push({
        resource,
        resource_id: resource.id,
        start_time: zonedInputToIso(`${date}T${start}`, zone),
        end_time: zonedInputToIso(`${date}T${end}`, zone),
      });
    }
  }
  return items;
}

/** What is wrong with a pattern before any item is built (words), or null. */
function patternProblem({ resources, from, to, weekdays, start, end }) {
  if (!resources.length) return t('bulk.need_resource');
  if (!isDate(from) || !isDate(to)) return t('bulk.need_dates');
  if (to < from) return t('bulk.dates_order');
  if (daysBetween(from, to) >= MAX_DAYS) return t('bulk.too_long', { days: MAX_DAYS });
  if (!weekdays.size) return t('bulk.need_weekday');
  if (!start || !end) return t('bulk.need_times');
  if (end <= start) return t('bulk.times_order');
  return null;
}

const wire = (items) => items.map(({ resource_id: id, start_time: start, end_time: end }) => ({ resource_id: id, start_time: start, end_time: end }));

/** "Room A — Mon 7 Dec, 09:00 – 10:00" for an item (on the resource's clock). */
function itemWords(item) {
  return [h('span', { class: 'bulk-resource' }, item.resource.name), ' — ',
    formatRange(item.start_time, item.end_time, item.resource.timezone || 'UTC')];
}

function refusals(errors, items, test) {
  return h('ul', { class: 'bulk-errors', 'data-test': test },
    errors.map((error) => {
      const item = items[error.index];
      return h('li', { 'data-test': 'bulk-error', 'data-index': error.index },
        item ? itemWords(item) : t('bulk.item', { index: error.index + 1 }), ': ', h('strong', {}, error.error));
    }));
}

function createdList(created, items, test) {
  return h('ul', { class: 'bulk-created', 'data-test': test },
    created.map((entry) => {
      const item = items[entry.index];
      const words = item ? itemWords(item) : [entry.resource_name, ' — ', formatRange(entry.start_time, entry.end_time)];
      return h('li', { 'data-test': 'bulk-created-item', 'data-index': entry.index },
        entry.reservation_id ? h('a', { href: `#/reservations/${entry.reservation_id}` }, words) : words);
    }));
}

export default async function render(view, ctx) {
  ctx.setTitle(t('bulk.title'));
  const resources = (await allResources()).filter((resource) => resource.available !== false);
  const today = todayIn();
  const names = dayNames();

  const resourceBoxes = resources.map((resource) => {
    const zone = resource.timezone || 'UTC';
    const id = `bulk-resource-${resource.id}`;
    const box = h('input', { type: 'checkbox', id, value: resource.id, 'data-test': 'bulk-resource', 'data-name': resource.name });
    box.resource = { id: resource.id, name: resource.name, timezone: zone };
    return { box, row: h('div', { class: 'check' }, box, h('label', { for: id }, resource.name, ' ', h('span', { class: 'hint' }, `(${zone})`))) };
  });
  const dayBoxes = names.map((name, day) => {
    const id = `bulk-day-${day}`;
    const box = h('input', { type: 'checkbox', id, value: day, checked: day < 5, 'data-test': `bulk-day-${day}` });
    return { box, row: h('div', { class: 'check' }, box, h('label', { for: id }, name)) };
  });
  const from = h('input', { type: 'date', id: 'bulk-from', value: addDays(today, 1), 'data-test': 'bulk-from' });
  const to = h('input', { type: 'date', id: 'bulk-to', value: addDays(today, 7), 'data-test': 'bulk-to' });
  const start = h('input', { type: 'time', id: 'bulk-start', value: '09:00', 'data-test': 'bulk-start' });
  const end = h('input', { type: 'time', id: 'bulk-end', value: '10:00', 'data-test': 'bulk-end' });
  const summary = h('p', { class: 'bulk-summary', role: 'status', 'aria-live': 'polite', 'data-test': 'bulk-summary' });
  const checkButton = h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'bulk-dry-run' }, t('bulk.dry_run'));
  const commitButton = h('button', { type: 'button', class: 'btn btn-primary', disabled: true, 'data-test': 'bulk-commit' }, t('bulk.commit'));
  const result = h('div', { class: 'bulk-result', 'data-test': 'bulk-result' });

  // The items of the last successful dry run; any change to the pattern forgets them.
  let checked = null;

  /** Shows an answer under `title`, and moves the focus there (the answer may be below the fold). */
  function show(title, ...parts) {
    const heading = h('h2', { tabindex: '-1', class: 'bulk-result-title' }, title);
    replace(result, heading, ...parts);
    heading.focus();
  }

  const pattern = () => ({
    resources: resourceBoxes.filter(({ box }) => box.checked).map(({ box }) => box.resource),
    from: from.value,
    to: to.value,
    weekdays: new Set(dayBoxes.filter(({ box }) => box.checked).map(({ box }) => Number(box.value))),
    start: start.value,
    end: end.value,
  });

  /** The items of the pattern, or null after saying what is wrong. */
  function current() {
    const values = pattern();
    const problem = patternProblem(values);
    if (problem) {
      replace(summary, flash('info', problem));
      return null;
    }
    const items = buildItems(values);
    if (!items.length) {
      replace(summary, flash('info', t('bulk.no_items')));
      return null;
    }
    if (items.length > MAX_ITEMS) {
      replace(summary, flash('error', t('bulk.too_many', { count: items.length, max: MAX_ITEMS })));
      return null;
    }
    replace(summary, t('bulk.count', { count: items.length, resources: values.resources.length }));
    return items;
  }

  function changed() {
    checked = null;
    commitButton.disabled = true;
    replace(result);
    current();
  }

  const form = h('form', { class: 'bulk-form', 'data-test': 'bulk-form', novalidate: true },
    h('fieldset', { class: 'choice-boxes bulk-resources' },
      h('legend', {}, t('bulk.resources')),
      resources.length ? resourceBoxes.map(({ row }) => row) : h('p', { class: 'empty' }, t('bulk.no_resources'))),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'bulk-from' }, t('bulk.from')), from),
      h('div', { class: 'field' }, h('label', { for: 'bulk-to' }, t('bulk.to')), to)),
    h('fieldset', { class: 'choice-boxes bulk-days' },
      h('legend', {}, t('bulk.weekdays')),
      dayBoxes.map(({ row }) => row)),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'bulk-start' }, t('bulk.start')), start),
      h('div', { class: 'field' }, h('label', { for: 'bulk-end' }, t('bulk.end')), end)),
    h('p', { class: 'hint' }, t('bulk.clock_hint', { max: MAX_ITEMS })),
    summary,
    h('div', { class: 'actions' }, checkButton, commitButton));
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const items = current();
    if (!items) return;
    checkButton.disabled = true;
    replace(result, h('p', { class: 'loading' }, t('core.loading')));
    try {
      const answer = await post('/bulk/reservations', { reservations: wire(items), dry_run: true });
      const clean = !answer.errors.length;
      checked = clean ? items : null;
      commitButton.disabled = !clean;
      show(t('bulk.dry_run_title'),
        flash(clean ? 'success' : 'error', clean
          ? t('bulk.dry_run_ok', { count: answer.success })
          : t('bulk.dry_run_refused', { failed: answer.failed, total: answer.total })),
        answer.errors.length ? [h('h3', {}, t('bulk.refused')), refusals(answer.errors, items, 'bulk-dry-errors')] : null,
        answer.created.length ? [h('h3', {}, t('bulk.would_book')), createdList(answer.created, items, 'bulk-dry-created')] : null);
    } catch (error) {
      replace(result, flash('error', error.message));
    } finally {
      checkButton.disabled = false;
    }
  });

  commitButton.addEventListener('click', async () => {
    const items = checked;
    if (!items) return;
    commitButton.disabled = true;
    checkButton.disabled = true;
    try {
      const answer = await post('/bulk/reservations', { reservations: wire(items), dry_run: false });
      checked = null;
      if (answer.errors.length || !answer.success) {
        show(t('bulk.commit_title'),
          flash('error', [answer.message || t('bulk.rolled_back'), ' ', t('bulk.nothing_booked')]),
          refusals(answer.errors, items, 'bulk-commit-errors'));
      } else {
        show(t('bulk.commit_title'),
          flash('success', t('bulk.committed', { count: answer.success })),
          createdList(answer.created, items, 'bulk-committed'),
          h('p', {}, h('a', { href: '#/mine' }, t('bulk.see_mine'))));
      }
    } catch (error) {
      // A refusal of the whole batch may still list the items that caused it.
      const errors = Array.isArray(error.body?.errors) ? error.body.errors : [];
      show(t('bulk.commit_title'),
        flash('error', [error.body?.message || error.message, ' ', t('bulk.nothing_booked')]),
        errors.length ? refusals(errors, items, 'bulk-commit-errors') : null);
    } finally {
      checkButton.disabled = false;
    }
  });

  replace(view,
    h('h1', {}, t('bulk.title')),
    h('p', { class: 'hint' }, t('bulk.intro')),
    form,
    result);
  current();
}
