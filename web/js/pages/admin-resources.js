// `#/admin/resources`: the resource catalogue for administrators — the list (search, status,
// maintenance on and off, enable and disable, delete after confirmation), creating one resource,
// and importing many from CSV with the server's own preview (`POST /resources/upload?preview=true`
// checks every row exactly as the import will and reports each bad row with its line number).

import { h, field, replace, button, flash, table, toast, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, put, del, api, ApiError } from '../api.js';
import { can } from '../session.js';
import { adminHeader, refuse, confirmButton, timeZoneList, splitTags, statusLine } from './admin.js';

const PAGE_SIZE = 50;

/** The resource's state as one word key: disabled, maintenance, in_use or available. */
function stateOf(resource) {
  if (!resource.available) return 'disabled';
  if (resource.status === 'unavailable') return 'maintenance';
  return resource.status === 'in_use' ? 'in_use' : 'available';
}

const BADGE = { available: 'badge-free', in_use: 'badge-busy', maintenance: 'badge-maintenance', disabled: 'badge-closed' };

/** "Row 4: Missing resource name" → {line: 4, message: 'Missing resource name'}. */
function splitRow(text) {
  const found = /^Row (\d+):\s*(.*)$/s.exec(String(text));
  return found ? { line: Number(found[1]), message: found[2] } : { line: null, message: String(text) };
}

/** The CSV import section: paste or pick a file, preview, import. `onImported()` refreshes the list. */
function csvSection(onImported) {
  let fileName = 'resources.csv';
  const text = h('textarea', { id: 'csv-text', name: 'csv', rows: 8, spellcheck: 'false', 'data-test': 'csv-text', 'aria-describedby': 'csv-format' });
  const fileInput = h('input', { id: 'csv-file', type: 'file', accept: '.csv,text/csv', 'data-test': 'csv-file' });
  const results = h('div', { class: 'csv-results', 'aria-live': 'polite' });

  // Reading the chosen file is asynchronous: preview and import wait for it.
  let reading = Promise.resolve();
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    fileName = /\.csv$/i.test(file.name) ? file.name : `${file.name}.csv`;
    reading = file.text().then((content) => {
      text.value = content;
      replace(results, flash('info', t('admin.csv_file_loaded', { name: file.name })));
    }).catch(() => replace(results, flash('error', t('admin.csv_unreadable'))));
  });

  const errorList = (errors) => h('ul', { class: 'csv-errors', 'data-test': 'csv-errors' }, errors.map((raw) => {
    const { line, message } = splitRow(raw);
    return h('li', { 'data-test': 'csv-error', 'data-line': line ?? '' },
      line != null ? h('strong', {}, t('admin.csv_line', { line })) : null, line != null ? ' ' : null, message);
  }));

  /** Sends the text as the multipart `file` field the server expects. */
  const upload = (preview) => {
    const form = new FormData();
    form.append('file', new Blob([text.value], { type: 'text/csv' }), fileName);
    return api('POST', '/resources/upload', { form, query: preview ? { preview: 'true' } : undefined });
  };

  /** A refusal of the whole file (400, 413) or of rows (422) as csv errors with line numbers. */
  const showFailure = (error) => {
    if (error instanceof ApiError && error.status === 422 && Array.isArray(error.body?.detail)) {
      replace(results, flash('error', t('admin.csv_refused')), errorList(error.body.detail.map((item) => item.msg)));
    } else if (error instanceof ApiError && error.status === 400 && /CSV|header/i.test(error.message)) {
      // The header is line 1: a file without a 'name' column is refused as a whole.
      replace(results, flash('error', t('admin.csv_refused')),
        errorList([`Row 1: ${/no 'name' column/.test(error.message) ? t('admin.csv_no_name_column') : error.message}`]));
    } else {
      replace(results, flash('error', error.message));
    }
  };

  const empty = async () => {
    await reading;
    if (text.value.trim()) return false;
    replace(results, flash('error', t('admin.csv_empty')));
    return true;
  };

  const previewButton = button(t('admin.csv_preview'), async () => {
    if (await empty()) return;
    let answer;
    try {
      answer = await upload(true);
    } catch (error) {
      showFailure(error);
      return;
    }
    const rows = answer.would_create || [];
    const errors = answer.errors || [];
    replace(results,
      errors.length
        ? [flash('error', t('admin.csv_preview_errors', { count: errors.length })), errorList(errors)]
        : flash('success', t('admin.csv_preview_ok', { count: rows.length })),
      rows.length ? table([
        [t('admin.csv_col_line'), (row) => row.line],
        [t('admin.name'), (row) => row.name],
        [t('admin.description'), (row) => row.description || '—'],
        [t('admin.tags'), (row) => row.tags.map((tag) => h('span', { class: 'chip' }, tag))],
        [t('admin.available'), (row) => (row.available ? t('core.yes') : t('core.no'))],
        [t('admin.timezone'), (row) => row.timezone],
      ], rows, { caption: t('admin.csv_preview_caption'), rowAttrs: () => ({ 'data-test': 'csv-preview-row' }) }) : null);
  }, { 'data-test': 'csv-preview' });

  const importButton = button(t('admin.csv_import'), async () => {
    if (await empty()) return;
    let answer;
    try {
      answer = await upload(false);
    } catch (error) {
      showFailure(error);
      return;
    }
    replace(results, flash('success', t('admin.csv_imported', { count: answer.created_count })));
    text.value = '';
    fileInput.value = '';
    await onImported();
  }, { class: 'btn btn-primary', 'data-test': 'csv-import' });

  return h('section', { class: 'card csv-import', 'aria-labelledby': 'csv-h' },
    h('h2', { id: 'csv-h' }, t('admin.csv_title')),
    h('p', { id: 'csv-format', class: 'hint' }, t('admin.csv_format')),
    h('pre', { class: 'csv-example' }, 'name,tags,available,description,timezone\nRoom A,"projector,quiet",true,Second floor,Europe/Paris'),
    h('div', { class: 'field' }, h('label', { for: 'csv-file' }, t('admin.csv_file')), fileInput),
    h('div', { class: 'field' }, h('label', { for: 'csv-text' }, t('admin.csv_text')), text),
    h('div', { class: 'actions' }, previewButton, importButton),
    results);
}

/** The create-a-resource form. */
function createSection(onCreated) {
  const status = statusLine();
  const form = h('form', { 'data-test': 'resource-create' },
    field(t('admin.name'), { name: 'name', required: true, maxlength: 200, 'data-test': 'resource-name' }),
    field(t('admin.description'), { tag: 'textarea', name: 'description', rows: 2 }),
    field(t('admin.tags'), { name: 'tags', hint: t('admin.tags_hint') }),
    h('div', { class: 'field-row' },
      field(t('admin.timezone'), { name: 'timezone', value: 'UTC', list: 'admin-zones', autocomplete: 'off', hint: t('admin.timezone_hint') }),
      field(t('admin.checkin_window'), { type: 'number', name: 'checkin', min: 1, max: 1440, hint: t('admin.checkin_hint_create') })),
    h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'new-available', name: 'available', checked: true }), h('label', { for: 'new-available' }, t('admin.enabled_label'))),
    timeZoneList('admin-zones'),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'resource-create-submit' }, t('admin.create')),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = {
      name: values.name.trim(),
      description: values.description.trim() || null,
      tags: splitTags(values.tags),
      available: values.available,
      timezone: values.timezone.trim() || 'UTC',
    };
    if (values.checkin) body.checkin_window_minutes = Number(values.checkin);
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const created = await post('/resources', body);
      form.reset();
      status.say('success', t('admin.created', { name: created.name }));
      await onCreated();
    } catch (error) {
      status.say('error', error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'create-h' }, h('h2', { id: 'create-h' }, t('admin.create_title')), form);
}

/** The actions of one row: maintenance, enable/disable, delete. */
function rowActions(resource, reload, status) {
  const run = async (work, done) => {
    try {
      await work();
      status.say('success', done);
      await reload();
    } catch (error) {
      status.say('error', error.message);
    }
  };
  const parts = [h('a', { class: 'btn', href: `#/admin/resources/${resource.id}`, 'data-test': 'resource-edit' }, t('core.edit'))];
  if (can('resource:maintenance')) {
    if (resource.status === 'unavailable') {
      parts.push(button(t('admin.maintenance_end'), () => run(
        () => put(`/resources/${resource.id}/status/available`),
        t('admin.maintenance_ended', { name: resource.name })), { 'data-test': 'maintenance-end' }));
    } else {
      const hours = h('input', { type: 'number', min: 1, max: 8760, value: 8, class: 'hours-input', 'aria-label': t('admin.maintenance_hours_for', { name: resource.name }), 'data-test': 'maintenance-hours' });
      parts.push(h('span', { class: 'maintenance' }, hours, h('span', { 'aria-hidden': 'true' }, 'h'), button(t('admin.maintenance_start'), () => run(
        () => put(`/resources/${resource.id}/status/unavailable`, undefined, { query: { auto_reset_hours: hours.value || 8 } }),
        t('admin.maintenance_started', { name: resource.name, hours: hours.value || 8 })), { 'data-test': 'maintenance-start' })));
    }
    parts.push(button(resource.available ? t('admin.disable') : t('admin.enable'), () => run(
      () => put(`/resources/${resource.id}/availability`, { available: !resource.available }),
      resource.available ? t('admin.disabled_done', { name: resource.name }) : t('admin.enabled_done', { name: resource.name })),
    { 'data-test': resource.available ? 'resource-disable' : 'resource-enable' }));
  }
  if (can('resource:delete')) {
    const cancelBox = h('input', { type: 'checkbox', id: `cancel-upcoming-${resource.id}` });
    parts.push(confirmButton(t('core.delete'), t('admin.delete_question', { name: resource.name }), () => run(
      async () => {
        try {
          await del(`/resources/${resource.id}`, { query: { cancel_reservations: cancelBox.checked ? 'true' : undefined } });
        } catch (error) {
          // The server refuses while bookings are ahead; say how to go on, in the page's words.
          const upcoming = /has (\d+) upcoming reservation/.exec(error.message || '');
          if (upcoming) error.message = t('admin.delete_has_bookings', { count: upcoming[1] });
          throw error;
        }
      },
      t('admin.deleted', { name: resource.name })),
    { extra: h('span', { class: 'check' }, cancelBox, h('label', { for: cancelBox.id }, t('admin.delete_cancel_upcoming'))), attrs: { 'data-test': 'resource-delete' } }));
  }
  return h('div', { class: 'row-actions' }, parts);
}

/** The list with a search box and a status filter, 50 at a time. */
function listSection() {
  const status = statusLine();
  const holder = h('div', { class: 'resource-list' });
  const search = h('input', { type: 'search', id: 'admin-resource-q', name: 'q', 'data-test': 'admin-resource-search' });
  const statusSelect = h('select', { id: 'admin-resource-status', 'data-test': 'admin-resource-status' },
    ['all', 'available', 'in_use', 'unavailable'].map((value) => h('option', { value }, t(`admin.filter_${value}`))));
  let rows = [];
  let cursor = null;

  async function load(more = false) {
    const answer = await get('/resources/search', {
      q: search.value.trim(), status: statusSelect.value, limit: PAGE_SIZE, cursor: more ? cursor : undefined,
    });
    rows = more ? rows.concat(answer.data) : answer.data;
    cursor = answer.has_more ? answer.next_cursor : null;
    draw();
  }

  function draw() {
    replace(holder,
      table([
        [t('admin.name'), (r) => h('a', { href: `#/admin/resources/${r.id}` }, r.name)],
        [t('admin.state'), (r) => h('span', { class: `badge ${BADGE[stateOf(r)]}`, 'data-test': 'resource-state' }, t(`admin.state_${stateOf(r)}`))],
        [t('admin.tags'), (r) => r.tags.map((tag) => h('span', { class: 'chip' }, tag))],
        [t('admin.timezone'), (r) => r.timezone],
        [t('admin.actions'), (r) => rowActions(r, () => load(false), status)],
      ], rows, {
        caption: t('admin.list_caption'),
        empty: t('admin.list_empty'),
        rowAttrs: (r) => ({ 'data-test': 'admin-resource-row', 'data-resource-id': r.id }),
      }),
      cursor ? button(t('admin.load_more'), () => load(true), { 'data-test': 'load-more' }) : null);
  }

  const filter = h('form', { class: 'filters', role: 'search' },
    h('div', { class: 'field' }, h('label', { for: 'admin-resource-q' }, t('admin.search')), search),
    h('div', { class: 'field' }, h('label', { for: 'admin-resource-status' }, t('admin.state')), statusSelect),
    h('button', { type: 'submit', class: 'btn' }, t('admin.apply')));
  filter.addEventListener('submit', (event) => {
    event.preventDefault();
    load(false).catch((error) => status.say('error', error.message));
  });
  statusSelect.addEventListener('change', () => load(false).catch((error) => status.say('error', error.message)));

  const section = h('section', { 'aria-labelledby': 'list-h' }, h('h2', { id: 'list-h' }, t('admin.list_title')), filter, status, holder);
  section.reload = () => load(false).catch((error) => status.say('error', error.message));
  return section;
}

/** Tags across all resources: rename one everywhere, or remove it from every resource. */
function tagsSection(onChanged) {
  const status = statusLine();
  const holder = h('div', {});
  const section = h('section', { class: 'card', 'aria-labelledby': 'tags-h' },
    h('h2', { id: 'tags-h' }, t('admin.tags_title')), h('p', { class: 'hint' }, t('admin.tags_explain')), status, holder);
  const changed = async (words) => {
    status.say('success', words);
    await load();
    await onChanged();
  };
  async function load() {
    let tags;
    try {
      tags = await get('/resources/tags/details');
    } catch (error) {
      status.say('error', error.message);
      return;
    }
    replace(holder, table([
      [t('admin.tag'), (tag) => h('span', { class: 'chip' }, tag.name)],
      [t('admin.tag_count'), (tag) => String(tag.resource_count)],
      [t('admin.actions'), (tag) => {
        const input = h('input', { type: 'text', value: tag.name, maxlength: 100, class: 'tag-input', 'aria-label': t('admin.tag_new_name', { tag: tag.name }), 'data-test': 'tag-new-name' });
        return h('div', { class: 'row-actions' },
          input,
          button(t('admin.tag_rename'), async () => {
            const name = input.value.trim();
            if (!name || name === tag.name) return;
            try {
              await put('/resources/tags/rename', { old_name: tag.name, new_name: name });
              await changed(t('admin.tag_renamed', { tag: tag.name, name }));
            } catch (error) {
              status.say('error', error.message);
            }
          }, { 'data-test': 'tag-rename' }),
          confirmButton(t('core.delete'), t('admin.tag_delete_question', { tag: tag.name, count: tag.resource_count }), async () => {
            try {
              await del(`/resources/tags/${encodeURIComponent(tag.name)}`);
              await changed(t('admin.tag_deleted', { tag: tag.name }));
            } catch (error) {
              status.say('error', error.message);
            }
          }, { attrs: { 'data-test': 'tag-delete' } }));
      }],
    ], tags, { caption: t('admin.tags_caption'), empty: t('admin.tags_none'), rowAttrs: () => ({ 'data-test': 'tag-row' }) }));
  }
  section.reload = load;
  return section;
}

export default async function render(view, ctx) {
  if (refuse(view, 'resource:create')) return;
  ctx.setTitle(t('admin.resources_title'));
  const list = listSection();
  const canTags = can('resource:update');
  const tags = canTags ? tagsSection(list.reload) : null;
  const refresh = async () => {
    await list.reload();
    if (tags) await tags.reload();
  };
  replace(view,
    adminHeader(t('admin.resources_title')),
    list,
    h('div', { class: 'admin-columns' }, createSection(refresh), csvSection(refresh)),
    tags);
  await refresh();
}
