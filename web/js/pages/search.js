// `#/search`: find a resource by name, tags, labels (every chosen one), group or building,
// status, approval, and a "free between" window. The window is typed in the viewer's time zone
// (two datetime-local inputs) and sent in UTC; the server lists a resource as free only where a
// booking would be accepted, so each result links to the resource's page with its booking form
// filled in for that window (`#/resources/ID?start=…&end=…`). The filters live in the hash, so a
// search can be bookmarked; saved searches (per user, by name) are listed, run, and deleted.

import { h, replace, field, flash, button, toast, table } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del } from '../api.js';
import { viewerZone, zoneNote, zonedInputToIso, isoToZonedInput, formatRange } from '../format.js';
import { statusBadge } from './resources.js';
import { allLabels, labelChip, labelChips, labelKey, groupTree, flatten } from './organise.js';

const STATUSES = ['all', 'available', 'in_use', 'unavailable'];
const APPROVAL = ['any', 'yes', 'no'];
const PAGE_SIZE = 25;

/** Filters from the hash or a saved search → the form's state (unknown values dropped). */
function stateFrom(source) {
  const list = (value) => (Array.isArray(value) ? value : String(value || '').split(','))
    .map((item) => String(item).trim()).filter(Boolean);
  const approval = source.requires_approval === true || source.requires_approval === 'true' ? 'yes'
    : source.requires_approval === false || source.requires_approval === 'false' ? 'no' : 'any';
  return {
    query: source.query || source.q || '',
    tags: list(source.tags),
    labels: list(source.labels ?? source.label),
    status: STATUSES.includes(source.status) ? source.status : 'all',
    approval,
    group_id: source.group_id ? String(source.group_id) : '',
    building: source.building || '',
    available_from: source.available_from || '',
    available_until: source.available_until || '',
  };
}

/** The form's state → the API's filters (what is sent, saved, and kept in the hash). */
function filtersOf(state) {
  const filters = {};
  if (state.query) filters.query = state.query;
  if (state.tags.length) filters.tags = state.tags;
  if (state.labels.length) filters.labels = state.labels;
  if (state.status !== 'all') filters.status = state.status;
  if (state.approval !== 'any') filters.requires_approval = state.approval === 'yes';
  if (state.group_id) filters.group_id = Number(state.group_id);
  if (state.building) filters.building = state.building;
  if (state.available_from && state.available_until) {
    filters.available_from = state.available_from;
    filters.available_until = state.available_until;
  }
  return filters;
}

/** The query string of `GET /search/resources` (labels repeat `label=`). */
function queryOf(filters, offset) {
  return {
    query: filters.query,
    tags: filters.tags?.join(','),
    label: filters.labels,
    status: filters.status,
    requires_approval: filters.requires_approval === undefined ? undefined : String(filters.requires_approval),
    group_id: filters.group_id,
    building: filters.building,
    available_from: filters.available_from,
    available_until: filters.available_until,
    limit: PAGE_SIZE,
    offset,
  };
}

export default async function render(view, ctx) {
  ctx.setTitle(t('organise.search_title'));
  const zone = viewerZone();
  let state = stateFrom(ctx.query);
  const [labels, tree, buildings] = await Promise.all([
    allLabels().catch(() => []),
    groupTree().catch(() => ({ groups: [] })),
    get('/resource-groups/buildings').then((body) => body.buildings || []).catch(() => []),
  ]);
  const groups = flatten(tree.groups);

  // ---- the form -----------------------------------------------------------------------------
  const queryField = field(t('organise.name'), { type: 'search', name: 'query', value: state.query, 'data-test': 'search-query', autocomplete: 'off' });
  const tagsField = field(t('organise.tags'), { name: 'tags', value: state.tags.join(', '), 'data-test': 'search-tags', hint: t('organise.tags_hint'), autocomplete: 'off' });
  const statusField = field(t('organise.status'), {
    tag: 'select', name: 'status', value: state.status, 'data-test': 'search-status',
    options: STATUSES.map((status) => [status, t(`organise.status_${status}`)]),
  });
  const approvalField = field(t('organise.requires_approval'), {
    tag: 'select', name: 'approval', value: state.approval, 'data-test': 'search-approval',
    options: APPROVAL.map((value) => [value, t(`organise.approval_${value}`)]),
  });
  const groupField = field(t('organise.group'), {
    tag: 'select', name: 'group_id', value: state.group_id, 'data-test': 'search-group',
    options: [['', t('organise.any_group')], ...groups.map(({ group, depth }) => [String(group.id), `${'\u2003'.repeat(depth)}${group.name}`])],
  });
  const buildingField = field(t('organise.building'), {
    tag: 'select', name: 'building', value: state.building, 'data-test': 'search-building',
    options: [['', t('organise.any_building')], ...buildings.map((building) => [building, building])],
  });
  const fromField = field(t('organise.free_from'), {
    type: 'datetime-local', name: 'free_from', 'data-test': 'search-free-from',
    value: state.available_from ? isoToZonedInput(state.available_from, zone) : '', hint: zoneNote(zone),
  });
  const untilField = field(t('organise.free_until'), {
    type: 'datetime-local', name: 'free_until', 'data-test': 'search-free-until',
    value: state.available_until ? isoToZonedInput(state.available_until, zone) : '',
  });
  const input = (wrapper) => wrapper.querySelector('input, select');

  const labelBox = h('div', { class: 'label-filter', role: 'group', 'aria-labelledby': 'search-label-filter', 'data-test': 'search-labels' });
  function drawLabels() {
    replace(labelBox, labels.length ? labels.map((label) => {
      const key = labelKey(label);
      const on = state.labels.some((chosen) => chosen.toLowerCase() === key.toLowerCase());
      const chip = labelChip(label);
      chip.setAttribute('data-test', 'label-chip');
      return h('button', {
        type: 'button', class: `label-toggle${on ? ' label-toggle-on' : ''}`, 'aria-pressed': on ? 'true' : 'false',
        'data-test': 'search-label-toggle', 'data-label': key,
        onclick: () => {
          state.labels = on ? state.labels.filter((chosen) => chosen.toLowerCase() !== key.toLowerCase()) : [...state.labels, key];
          drawLabels();
        },
      }, chip);
    }) : h('span', { class: 'muted' }, t('organise.no_labels')));
  }

  const windowError = h('div', { class: 'window-error', 'aria-live': 'polite' });
  const form = h('form', { class: 'search-form', role: 'search', 'data-test': 'search-form' },
    h('div', { class: 'field-row' }, queryField, tagsField),
    h('fieldset', { class: 'free-window' },
      h('legend', {}, t('organise.free_between')),
      h('div', { class: 'field-row' }, fromField, untilField),
      windowError),
    h('div', { class: 'field' }, h('span', { class: 'field-label', id: 'search-label-filter' }, t('organise.labels_all')), labelBox),
    h('div', { class: 'field-row' }, groupField, buildingField, statusField, approvalField),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'search-submit' }, t('organise.search_button')),
      h('button', { type: 'button', class: 'btn', 'data-test': 'search-clear', onclick: () => { state = stateFrom({}); fill(); runSearch(0); } }, t('organise.clear'))));

  /** The form's controls from `state`. */
  function fill() {
    input(queryField).value = state.query;
    input(tagsField).value = state.tags.join(', ');
    input(statusField).value = state.status;
    input(approvalField).value = state.approval;
    input(groupField).value = state.group_id;
    input(buildingField).value = state.building;
    input(fromField).value = state.available_from ? isoToZonedInput(state.available_from, zone) : '';
    input(untilField).value = state.available_until ? isoToZonedInput(state.available_until, zone) : '';
    drawLabels();
  }

  /** `state` from the form's controls; false (with words shown) when the window is incomplete. */
  function read() {
    replace(windowError);
    const from = input(fromField).value;
    const until = input(untilField).value;
    if (Boolean(from) !== Boolean(until)) {
      replace(windowError, flash('error', t('organise.window_both')));
      return false;
    }
    const fromIso = from ? zonedInputToIso(from, zone) : '';
    const untilIso = until ? zonedInputToIso(until, zone) : '';
    if (from && Date.parse(untilIso) <= Date.parse(fromIso)) {
      replace(windowError, flash('error', t('organise.window_order')));
      return false;
    }
    state = {
      ...state,
      query: input(queryField).value.trim(),
      tags: input(tagsField).value.split(',').map((tag) => tag.trim()).filter(Boolean),
      status: input(statusField).value,
      approval: input(approvalField).value,
      group_id: input(groupField).value,
      building: input(buildingField).value,
      available_from: fromIso,
      available_until: untilIso,
    };
    return true;
  }

  // ---- results ------------------------------------------------------------------------------
  const results = h('section', { class: 'search-results', 'aria-live': 'polite', 'aria-busy': 'false', 'data-test': 'search-results' });

  function bookHref(resource, filters) {
    if (!filters.available_from) return `#/resources/${resource.id}`;
    const query = new URLSearchParams({ start: filters.available_from, end: filters.available_until });
    return `#/resources/${resource.id}?${query}`;
  }

  function showResults(body, filters, offset, heading) {
    const rows = body.results || [];
    const window = filters.available_from ? formatRange(filters.available_from, filters.available_until, zone) : null;
    replace(results,
      heading ? h('h2', {}, heading) : null,
      h('p', { class: 'muted', 'data-test': 'search-count', 'data-count': body.total }, window
        ? t('organise.count_free', { count: body.total, window })
        : t('organise.count', { count: body.total })),
      rows.length ? table([
        [t('organise.name'), (row) => h('a', { href: bookHref(row, filters), 'data-test': 'search-result-link' }, row.name)],
        [t('organise.status'), (row) => (row.status ? statusBadge(row) : null)],
        [t('organise.labels'), (row) => labelChips(row.labels)],
        [t('organise.tags'), (row) => (row.tags || []).map((tag) => h('span', { class: 'chip' }, tag))],
        [t('organise.requires_approval'), (row) => (row.requires_approval ? t('organise.approval_yes') : t('organise.approval_no'))],
      ], rows, {
        caption: t('organise.results'),
        rowAttrs: (row) => ({ 'data-test': 'search-result', 'data-resource-id': row.id }),
      }) : h('p', { class: 'empty', 'data-test': 'search-empty' }, t('organise.no_results')),
      (offset > 0 || body.has_more) ? h('nav', { class: 'actions pager', 'aria-label': t('organise.paging') },
        h('button', { type: 'button', class: 'btn', disabled: offset === 0, 'data-test': 'search-prev', onclick: () => runSearch(Math.max(0, offset - PAGE_SIZE)) }, t('organise.previous')),
        h('button', { type: 'button', class: 'btn', disabled: !body.has_more, 'data-test': 'search-next', onclick: () => runSearch(offset + PAGE_SIZE) }, t('organise.next'))) : null);
  }

  function remember(filters) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) query.set(key, Array.isArray(value) ? value.join(',') : String(value));
    const text = query.toString();
    history.replaceState(null, '', `#/search${text ? `?${text}` : ''}`);
  }

  let searchCount = 0;
  async function runSearch(offset = 0, heading = null) {
    const token = ++searchCount;
    const filters = filtersOf(state);
    remember(filters);
    results.setAttribute('aria-busy', 'true');
    try {
      const body = await get('/search/resources', queryOf(filters, offset));
      if (token === searchCount) showResults(body, filters, offset, heading);
    } catch (error) {
      if (token === searchCount) replace(results, flash('error', error.message));
    } finally {
      if (token === searchCount) results.setAttribute('aria-busy', 'false');
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (read()) runSearch(0);
  });

  // ---- saved searches -----------------------------------------------------------------------
  const savedList = h('div', { class: 'saved-list', 'data-test': 'saved-searches' });
  const nameField = field(t('organise.saved_name'), { name: 'saved_name', 'data-test': 'saved-name', maxlength: 100, autocomplete: 'off', hint: t('organise.saved_hint') });
  const saveForm = h('form', { class: 'saved-form' },
    nameField,
    h('button', { type: 'submit', class: 'btn', 'data-test': 'saved-save' }, t('organise.save_search')));
  saveForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = input(nameField).value.trim();
    if (!name) {
      toast(t('organise.saved_name_needed'), 'error');
      input(nameField).focus();
      return;
    }
    if (!read()) return;
    try {
      await post('/search/saved', { name, search_type: 'resources', filters: filtersOf(state) });
      toast(t('organise.saved_done', { name }), 'success');
      input(nameField).value = '';
      await drawSaved();
    } catch (error) {
      toast(error.message, 'error');
    }
  });

  async function drawSaved() {
    let body;
    try {
      body = await get('/search/saved', { search_type: 'resources' });
    } catch (error) {
      replace(savedList, flash('error', error.message));
      return;
    }
    const list = body.saved_searches || [];
    replace(savedList, list.length ? h('ul', { class: 'saved-items' }, list.map((saved) => h('li', { 'data-test': 'saved-search', 'data-saved-id': saved.id, 'data-name': saved.name },
      h('span', { class: 'saved-name' }, saved.name),
      h('span', { class: 'actions' },
        button(t('organise.run'), async () => {
          // The server runs the stored filters first: a stored filter that is no longer valid
          // (a window now in the past) is refused in words. Then the form shows the filters
          // and the results come with their labels and links, like any search.
          try {
            await post(`/search/saved/${saved.id}/execute`, undefined, { query: { limit: 1 } });
          } catch (error) {
            replace(results, flash('error', t('organise.saved_refused', { name: saved.name, reason: error.message })));
            return;
          }
          state = stateFrom(saved.filters || {});
          fill();
          await runSearch(0, t('organise.saved_results', { name: saved.name }));
        }, { 'data-test': 'saved-run', 'aria-label': t('organise.run_named', { name: saved.name }) }),
        button(t('organise.delete'), async () => {
          await del(`/search/saved/${saved.id}`);
          toast(t('organise.saved_deleted', { name: saved.name }), 'success');
          await drawSaved();
        }, { class: 'btn btn-danger', 'data-test': 'saved-delete', 'aria-label': t('organise.delete_named', { name: saved.name }) })))))
      : h('p', { class: 'empty', 'data-test': 'saved-empty' }, t('organise.no_saved')));
  }

  replace(view,
    h('h1', {}, t('organise.search_title')),
    h('div', { class: 'search-layout' },
      h('div', { class: 'search-main' }, form, results),
      h('aside', { class: 'card saved-box', 'aria-labelledby': 'saved-heading' },
        h('h2', { id: 'saved-heading' }, t('organise.saved_title')), saveForm, savedList)));
  drawLabels();
  await Promise.all([runSearch(0), drawSaved()]);
  return undefined;
}
