// `#/admin/audit`: the audit log for administrators — filters (action, entity type, outcome,
// user, dates in the viewer's zone, free text), 50 entries a page, one entry's detail (with the
// old and new values), and the CSV and JSON exports of the filtered log.

import { h, field, replace, button, flash, table, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, download } from '../api.js';
import { formatDateTime, zoneNote } from '../format.js';
import { can } from '../session.js';
import { adminHeader, refuse } from './admin.js';

const PAGE_SIZE = 50;

/** A `YYYY-MM-DD` of the viewer's calendar as the instant its day starts (`end`: ends). */
function dayBound(date, end) {
  if (!date) return undefined;
  const local = new Date(`${date}T00:00:00`);
  if (end) local.setDate(local.getDate() + 1);
  return new Date(local.getTime() - (end ? 1000 : 0)).toISOString();
}

function detailView(entry) {
  const rows = [
    ['audit_time', formatDateTime(entry.timestamp)],
    ['audit_user', entry.username ? `${entry.username}${entry.user_id != null ? ` (#${entry.user_id})` : ''}` : '—'],
    ['audit_action', entry.action],
    ['audit_entity', [entry.entity_type, entry.entity_id != null ? ` #${entry.entity_id}` : '', entry.entity_name ? ` — ${entry.entity_name}` : ''].join('')],
    ['audit_outcome', entry.success ? t('admin.audit_success') : t('admin.audit_failure')],
    ['audit_error', entry.error_message || '—'],
    ['audit_details', entry.details || '—'],
    ['audit_ip', entry.ip_address || '—'],
    ['audit_agent', entry.user_agent || '—'],
    ['audit_request', [entry.request_method, entry.request_path].filter(Boolean).join(' ') || '—'],
  ];
  const json = (value) => (value == null ? '—' : h('pre', { class: 'json' }, JSON.stringify(value, null, 2)));
  return h('div', { class: 'audit-detail card', 'data-test': 'audit-detail', tabindex: '-1' },
    h('h2', {}, t('admin.audit_entry', { id: entry.id })),
    h('dl', { class: 'detail-list' },
      rows.map(([key, value]) => [h('dt', {}, t(`admin.${key}`)), h('dd', {}, value)]),
      h('dt', {}, t('admin.audit_old_values')), h('dd', {}, json(entry.old_values)),
      h('dt', {}, t('admin.audit_new_values')), h('dd', {}, json(entry.new_values))));
}

export default async function render(view, ctx) {
  if (refuse(view, 'audit:read')) return;
  ctx.setTitle(t('admin.audit_title'));
  const options = await get('/audit/filters').catch(() => ({ actions: [], entity_types: [] }));
  // Users by name when the admin may list them, else by number.
  const users = can('user:manage') ? await get('/auth/admin/users', { limit: 1000 }).catch(() => null) : null;
  const results = h('div', { class: 'audit-results', 'aria-live': 'polite' });
  const detail = h('div', { class: 'audit-detail-holder' });
  let skip = Number(ctx.query.skip || 0) || 0;

  const form = h('form', { class: 'filters audit-filters', role: 'search', 'data-test': 'audit-filters' },
    h('div', { class: 'field-row' },
      field(t('admin.audit_action'), { tag: 'select', name: 'action', options: [['', t('admin.audit_any')], ...options.actions.map((a) => [a, a])], 'data-test': 'audit-action' }),
      field(t('admin.audit_entity_type'), { tag: 'select', name: 'entity_type', options: [['', t('admin.audit_any')], ...options.entity_types.map((a) => [a, a])], 'data-test': 'audit-entity-type' }),
      field(t('admin.audit_outcome'), { tag: 'select', name: 'success', options: [['', t('admin.audit_any')], ['true', t('admin.audit_success')], ['false', t('admin.audit_failure')]], 'data-test': 'audit-success' })),
    h('div', { class: 'field-row' },
      users
        ? field(t('admin.audit_user'), { tag: 'select', name: 'user_id', options: [['', t('admin.audit_any')], ...users.map((u) => [u.id, u.username])], 'data-test': 'audit-user' })
        : field(t('admin.audit_user_id'), { type: 'number', min: 1, name: 'user_id', 'data-test': 'audit-user' }),
      field(t('admin.audit_from'), { type: 'date', name: 'start', 'data-test': 'audit-from' }),
      field(t('admin.audit_to'), { type: 'date', name: 'end', 'data-test': 'audit-to' }),
      field(t('admin.audit_search'), { type: 'search', name: 'search', 'data-test': 'audit-search' })),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'audit-apply' }, t('admin.apply')),
      h('button', { type: 'reset', class: 'btn' }, t('admin.audit_clear')),
      button(t('admin.audit_export_csv'), () => download('/audit/export/csv', 'audit_logs.csv', exportFilters()), { 'data-test': 'audit-export-csv' }),
      button(t('admin.audit_export_json'), () => download('/audit/export/json', 'audit_logs.json', exportFilters()), { 'data-test': 'audit-export-json' })));

  function filters() {
    const values = formValues(form);
    return {
      action: values.action,
      entity_type: values.entity_type,
      success: values.success,
      user_id: values.user_id,
      start_date: dayBound(values.start, false),
      end_date: dayBound(values.end, true),
      search: values.search.trim(),
    };
  }

  /** The exports take the user, action, entity type and dates (the server's export filters). */
  function exportFilters() {
    const { user_id, action, entity_type, start_date, end_date } = filters();
    return { user_id, action, entity_type, start_date, end_date };
  }

  async function showDetail(id) {
    try {
      const entry = await get(`/audit/logs/${id}`);
      const panel = detailView(entry);
      replace(detail, panel, button(t('core.close'), () => replace(detail), { 'data-test': 'audit-detail-close' }));
      panel.focus();
    } catch (error) {
      replace(detail, flash('error', error.message));
    }
  }

  async function load() {
    let answer;
    try {
      answer = await get('/audit/logs', { ...filters(), skip, limit: PAGE_SIZE });
    } catch (error) {
      replace(results, flash('error', error.message));
      return;
    }
    const { logs, total } = answer;
    replace(results,
      h('p', { class: 'hint', 'data-test': 'audit-count' }, total
        ? t('admin.audit_showing', { from: skip + 1, to: skip + logs.length, total })
        : t('admin.audit_none')),
      logs.length ? table([
        [t('admin.audit_time'), (e) => formatDateTime(e.timestamp)],
        [t('admin.audit_user'), (e) => e.username || '—'],
        [t('admin.audit_action'), (e) => h('code', {}, e.action)],
        [t('admin.audit_entity'), (e) => [e.entity_type, e.entity_name ? ` — ${e.entity_name}` : (e.entity_id != null ? ` #${e.entity_id}` : '')].join('')],
        [t('admin.audit_outcome'), (e) => h('span', { class: `badge ${e.success ? 'badge-free' : 'badge-busy'}` }, e.success ? t('admin.audit_success') : t('admin.audit_failure'))],
        [t('admin.audit_ip'), (e) => e.ip_address || '—'],
        [t('admin.actions'), (e) => h('button', { type: 'button', class: 'btn btn-link', 'data-test': 'audit-show', 'aria-label': t('admin.audit_show_entry', { id: e.id }), onclick: () => showDetail(e.id) }, t('admin.audit_show'))],
      ], logs, { caption: t('admin.audit_caption'), rowAttrs: (e) => ({ 'data-test': 'audit-row', 'data-log-id': e.id }) }) : null,
      h('div', { class: 'pager' },
        skip > 0 ? button(t('admin.previous'), async () => { skip = Math.max(0, skip - PAGE_SIZE); await load(); }, { 'data-test': 'audit-prev' }) : null,
        skip + logs.length < total ? button(t('admin.next'), async () => { skip += PAGE_SIZE; await load(); }, { 'data-test': 'audit-next' }) : null));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    skip = 0;
    replace(detail);
    load();
  });
  form.addEventListener('reset', () => setTimeout(() => {
    skip = 0;
    load();
  }));

  replace(view,
    adminHeader(t('admin.audit_title')),
    h('p', { class: 'hint' }, zoneNote(Intl.DateTimeFormat().resolvedOptions().timeZone)),
    form,
    detail,
    results);
  await load();
}
