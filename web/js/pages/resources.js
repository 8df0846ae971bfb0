// `#/resources`: the catalogue, searched by name (or tag), filtered by tags (all of the chosen
// ones) and by status now, a page at a time (the API's cursor pages). The filters live in the
// hash (`?q=…&tags=a,b&status=…`), so a filtered list can be bookmarked and reloaded.

import { h, replace, field, flash } from '../dom.js';
import { t } from '../i18n.js';
import { get } from '../api.js';
import { live } from '../live.js';

const PAGE_SIZE = 20;
const STATUSES = ['all', 'available', 'in_use', 'maintenance', 'closed'];
/** The API's `status` for each filter; "closed now" is read from each resource's answer. */
const API_STATUS = { all: 'all', available: 'available', in_use: 'in_use', maintenance: 'unavailable', closed: 'all' };

/** What a resource is now: available, in_use, maintenance, closed (by its hours) or disabled. */
export function statusOf(resource) {
  if (resource.available === false) return 'disabled';
  if (resource.status === 'unavailable') return 'maintenance';
  if (resource.status === 'in_use') return 'in_use';
  if (resource.current_availability === false) return 'closed';
  return 'available';
}

const BADGE = { available: 'badge-free', in_use: 'badge-busy', maintenance: 'badge-maintenance', closed: 'badge-closed', disabled: 'badge-closed' };

/** The status badge of a resource (`data-status` for tests and styles). */
export function statusBadge(resource) {
  const status = statusOf(resource);
  return h('span', { class: `badge ${BADGE[status]}`, 'data-test': 'resource-status', 'data-status': status }, t(`resources.status_${status}`));
}

export default async function render(view, ctx) {
  ctx.setTitle(t('resources.title'));
  const state = {
    q: ctx.query.q || '',
    tags: (ctx.query.tags || '').split(',').map((tag) => tag.trim()).filter(Boolean),
    status: STATUSES.includes(ctx.query.status) ? ctx.query.status : 'all',
    cursors: [null], // the cursor of each page seen, for "previous"
  };
  const allTags = await get('/resources/tags').catch(() => []);

  const results = h('div', { class: 'resource-results', 'aria-live': 'polite', 'aria-busy': 'false' });
  const tagBox = h('div', { class: 'tag-filter', role: 'group', 'aria-label': t('resources.tags') });
  const search = field(t('resources.search'), { type: 'search', name: 'q', value: state.q, 'data-test': 'resource-search', autocomplete: 'off' });
  const statusField = field(t('resources.status'), {
    tag: 'select', name: 'status', value: state.status, 'data-test': 'resource-status-filter',
    options: STATUSES.map((status) => [status, t(`resources.filter_${status}`)]),
  });
  const form = h('form', { class: 'resource-filters', role: 'search' },
    h('div', { class: 'field-row' }, search, statusField),
    allTags.length ? h('div', { class: 'field' }, h('span', { class: 'field-label', id: 'tag-filter-label' }, t('resources.tags')), tagBox) : null,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'resource-search-submit' }, t('resources.search_button')),
      h('button', { type: 'button', class: 'btn', onclick: () => { form.reset(); state.q = ''; state.tags = []; state.status = 'all'; searchInput.value = ''; statusSelect.value = 'all'; drawTags(); restart(); } }, t('resources.clear'))));
  const searchInput = search.querySelector('input');
  const statusSelect = statusField.querySelector('select');
  tagBox.setAttribute('aria-labelledby', 'tag-filter-label');

  function drawTags() {
    replace(tagBox, allTags.map((tag) => {
      const on = state.tags.some((chosen) => chosen.toLowerCase() === tag.toLowerCase());
      return h('button', {
        type: 'button', class: `chip chip-toggle${on ? ' chip-on' : ''}`, 'aria-pressed': on ? 'true' : 'false', 'data-test': 'tag-chip', 'data-tag': tag,
        onclick: () => {
          state.tags = on ? state.tags.filter((chosen) => chosen.toLowerCase() !== tag.toLowerCase()) : [...state.tags, tag];
          drawTags();
          restart();
        },
      }, tag);
    }));
  }

  function remember() {
    const query = new URLSearchParams();
    if (state.q) query.set('q', state.q);
    if (state.tags.length) query.set('tags', state.tags.join(','));
    if (state.status !== 'all') query.set('status', state.status);
    const text = query.toString();
    history.replaceState(null, '', `#/resources${text ? `?${text}` : ''}`);
  }

  let loadCount = 0;
  async function load(pageIndex) {
    const token = ++loadCount;
    results.setAttribute('aria-busy', 'true');
    let body;
    try {
      body = await get('/resources/search', {
        q: state.q || undefined,
        tags: state.tags,
        status: API_STATUS[state.status],
        limit: PAGE_SIZE,
        cursor: state.cursors[pageIndex] || undefined,
        include_total: state.status !== 'closed',
      });
    } catch (error) {
      if (token === loadCount) replace(results, flash('error', error.message));
      results.setAttribute('aria-busy', 'false');
      return;
    }
    if (token !== loadCount) return;
    state.page = pageIndex;
    results.setAttribute('aria-busy', 'false');
    let rows = body.data || [];
    if (state.status === 'closed') rows = rows.filter((resource) => statusOf(resource) === 'closed');
    state.cursors.length = pageIndex + 1;
    if (body.has_more && body.next_cursor) state.cursors.push(body.next_cursor);
    const summary = body.total_count !== null && body.total_count !== undefined
      ? t('resources.count', { count: body.total_count })
      : t('resources.page', { page: pageIndex + 1 });
    replace(results,
      h('p', { class: 'muted', 'data-test': 'resource-count' }, summary),
      rows.length
        ? h('ul', { class: 'cards resource-cards' }, rows.map(card))
        : h('p', { class: 'empty', 'data-test': 'resource-empty' }, t('resources.none')),
      (pageIndex > 0 || body.has_more) ? h('nav', { class: 'actions pager', 'aria-label': t('resources.paging') },
        h('button', { type: 'button', class: 'btn', disabled: pageIndex === 0, 'data-test': 'page-prev', onclick: () => load(pageIndex - 1) }, t('resources.previous')),
        h('span', { class: 'pager-page' }, t('resources.page', { page: pageIndex + 1 })),
        h('button', { type: 'button', class: 'btn', disabled: !body.has_more, 'data-test': 'page-next', onclick: () => load(pageIndex + 1) }, t('resources.next'))) : null);
  }

  function card(resource) {
    return h('li', { class: 'card resource-card', 'data-test': 'resource-card', 'data-resource-id': resource.id },
      h('h2', { class: 'card-title' }, h('a', { href: `#/resources/${resource.id}` }, resource.name)),
      h('p', { class: 'badges' }, statusBadge(resource),
        resource.requires_approval ? h('span', { class: 'badge badge-warn' }, t('resources.needs_approval')) : null),
      resource.status === 'in_use' && resource.current_user_name
        ? h('p', { class: 'muted' }, t('resources.in_use_by', { name: resource.current_user_name })) : null,
      resource.description ? h('p', { class: 'description' }, resource.description) : null,
      resource.tags?.length ? h('p', { class: 'tags' }, h('span', { class: 'visually-hidden' }, `${t('resources.tags')}: `),
        resource.tags.map((tag) => h('span', { class: 'chip' }, tag))) : null,
      h('p', { class: 'muted resource-zone' }, t('resources.zone', { zone: resource.timezone })));
  }

  function restart() {
    state.cursors = [null];
    remember();
    load(0);
  }

  let typing = null;
  searchInput.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.q = searchInput.value.trim(); restart(); }, 300);
  });
  statusSelect.addEventListener('change', () => { state.status = statusSelect.value; restart(); });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    state.q = searchInput.value.trim();
    restart();
  });

  replace(view, h('h1', {}, t('resources.title')), form, results);
  drawTags();
  await load(0);

  // A resource's status or details changing elsewhere refreshes the current page.
  let refresh = null;
  const again = () => {
    clearTimeout(refresh);
    refresh = setTimeout(() => load(state.page || 0), 300);
  };
  const offs = ['resource_status_changed', 'resource_updated', 'resource_created', 'resource_deleted'].map((type) => live.on(type, again));
  return () => {
    clearTimeout(typing);
    clearTimeout(refresh);
    offs.forEach((off) => off());
  };
}
