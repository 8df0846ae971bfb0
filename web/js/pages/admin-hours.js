// `#/admin/hours`: the global opening hours (used by every resource without hours of its own)
// and the global blackout dates. Also the opening-hours and blackout editors that the
// resource page (`admin-resource.js`) uses for one resource.
//
// Opening hours as the server enforces them: no rows at all means always open; with rows, a day
// without hours is closed. Times are the resource's wall clock; a closing time of 00:00 is sent
// as 24:00 (open until midnight).

import { h, field, replace, button, flash, table, toast } from '../dom.js';
import { t } from '../i18n.js';
import { get, put, post, del } from '../api.js';
import { can } from '../session.js';
import { adminHeader, refuse, confirmButton, dayNames, statusLine } from './admin.js';

const hhmm = (text) => String(text || '').slice(0, 5);

/**
 * The weekly hours editor. `rows` are the server's `BusinessHoursOut` rows. `onSave(hours)`
 * stores a list (`[]` means "no hours"); `clearLabel` names what saving no hours means
 * (always open, or back to the global hours). Returns the section element.
 */
export function hoursEditor({ rows, onSave, clearLabel, clearQuestion, note }) {
  const names = dayNames();
  const byDay = new Map(rows.map((row) => [row.day_of_week, row]));
  const status = statusLine();
  const days = names.map((name, day) => {
    const row = byDay.get(day);
    const open = !!row && !row.is_closed;
    const openInput = h('input', { type: 'time', value: open ? hhmm(row.open_time) : '09:00', 'aria-label': t('admin.hours_opens_on', { day: name }), 'data-test': `hours-open-${day}` });
    const closeInput = h('input', { type: 'time', value: open ? (hhmm(row.close_time) === '24:00' ? '00:00' : hhmm(row.close_time)) : '17:00', 'aria-label': t('admin.hours_closes_on', { day: name }), 'data-test': `hours-close-${day}` });
    const openBox = h('input', { type: 'checkbox', checked: open, id: `hours-day-${day}-${Math.random().toString(36).slice(2)}`, 'data-test': `hours-day-${day}` });
    const sync = () => {
      openInput.disabled = !openBox.checked;
      closeInput.disabled = !openBox.checked;
    };
    openBox.addEventListener('change', sync);
    sync();
    return { day, name, openBox, openInput, closeInput };
  });

  const values = () => days.map(({ day, openBox, openInput, closeInput }) => {
    if (!openBox.checked) return { day_of_week: day, open_time: '00:00', close_time: '00:00', is_closed: true };
    const close = closeInput.value === '00:00' ? '24:00' : closeInput.value;
    return { day_of_week: day, open_time: openInput.value, close_time: close, is_closed: false };
  });

  const save = button(t('admin.hours_save'), async () => {
    const hours = values();
    const bad = hours.find((d) => !d.is_closed && (!d.open_time || !d.close_time || (d.close_time !== '24:00' && d.close_time <= d.open_time)));
    if (bad) {
      status.say('error', t('admin.hours_order', { day: names[bad.day_of_week] }));
      return;
    }
    try {
      await onSave(hours);
      status.say('success', t('admin.hours_saved'));
    } catch (error) {
      status.say('error', error.message);
    }
  }, { class: 'btn btn-primary', 'data-test': 'hours-save' });

  const clear = confirmButton(clearLabel, clearQuestion, async () => {
    try {
      await onSave([]);
      status.say('success', t('admin.hours_saved'));
    } catch (error) {
      status.say('error', error.message);
    }
  }, { danger: false, attrs: { 'data-test': 'hours-clear' } });

  return h('div', { class: 'hours-editor' },
    note ? h('p', { class: 'hint' }, note) : null,
    h('div', { class: 'table-wrap' }, h('table', { class: 'hours-table' },
      h('caption', { class: 'visually-hidden' }, t('admin.hours_caption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('admin.hours_day')),
        h('th', { scope: 'col' }, t('admin.hours_open')),
        h('th', { scope: 'col' }, t('admin.hours_from')),
        h('th', { scope: 'col' }, t('admin.hours_until')))),
      h('tbody', {}, days.map(({ day, name, openBox, openInput, closeInput }) => h('tr', { 'data-day': day },
        h('th', { scope: 'row' }, h('label', { for: openBox.id }, name)),
        h('td', {}, openBox),
        h('td', {}, openInput),
        h('td', {}, closeInput)))))),
    h('p', { class: 'hint' }, t('admin.hours_midnight_hint')),
    h('div', { class: 'actions' }, save, clear),
    status);
}

/**
 * The blackout-dates editor: the list (with a remove button for those `removable(row)`), and a
 * form adding one (`onAdd({date, reason})`). `reload()` fetches the rows again.
 */
export function blackoutEditor({ load, onAdd, removable, hint }) {
  const list = h('div', { class: 'blackout-list' });
  const status = statusLine();
  const canDelete = can('resource:delete');

  async function reload() {
    let rows;
    try {
      rows = await load();
    } catch (error) {
      replace(list, flash('error', error.message));
      return;
    }
    replace(list, table([
      [t('admin.blackout_date'), (row) => h('span', { 'data-test': 'blackout-date' }, row.date)],
      [t('admin.blackout_reason'), (row) => row.reason || '—'],
      [t('admin.blackout_scope'), (row) => (row.resource_id == null ? h('span', { class: 'badge' }, t('admin.blackout_global')) : t('admin.blackout_this_resource'))],
      [t('admin.actions'), (row) => (canDelete && removable(row)
        ? confirmButton(t('admin.blackout_remove'), t('admin.blackout_remove_question', { date: row.date }), async () => {
          try {
            await del(`/blackout-dates/${row.id}`);
            status.say('success', t('admin.blackout_removed', { date: row.date }));
            await reload();
          } catch (error) {
            status.say('error', error.message);
          }
        }, { attrs: { 'data-test': 'blackout-remove' } })
        : '')],
    ], rows, { caption: t('admin.blackout_caption'), empty: t('admin.blackout_none'), rowAttrs: (row) => ({ 'data-test': 'blackout-row', 'data-blackout-id': row.id }) }));
  }

  const form = h('form', { class: 'inline-form', 'data-test': 'blackout-form' },
    h('div', { class: 'field-row' },
      field(t('admin.blackout_date'), { type: 'date', name: 'date', required: true, 'data-test': 'blackout-date-input' }),
      field(t('admin.blackout_reason'), { name: 'reason', maxlength: 255, 'data-test': 'blackout-reason' })),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'blackout-add' }, t('admin.blackout_add')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const date = form.elements.date.value;
    const reason = form.elements.reason.value.trim();
    if (!date) {
      status.say('error', t('admin.blackout_need_date'));
      return;
    }
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      await onAdd({ date, reason: reason || null });
      form.reset();
      status.say('success', t('admin.blackout_added', { date }));
      await reload();
    } catch (error) {
      status.say('error', error.message);
    } finally {
      submit.disabled = false;
    }
  });

  reload();
  return h('div', { class: 'blackout-editor' }, hint ? h('p', { class: 'hint' }, hint) : null, list, form, status);
}

export default async function render(view, ctx) {
  if (refuse(view, 'resource:update')) return;
  ctx.setTitle(t('admin.hours_title'));
  const rows = await get('/business-hours/global');
  const hoursSection = h('section', { 'aria-labelledby': 'global-hours-h' },
    h('h2', { id: 'global-hours-h' }, t('admin.hours_global')));
  const draw = (current) => {
    replace(hoursSection,
      h('h2', { id: 'global-hours-h' }, t('admin.hours_global')),
      hoursEditor({
        rows: current,
        note: current.length ? t('admin.hours_global_note') : t('admin.hours_always_open'),
        clearLabel: t('admin.hours_clear_global'),
        clearQuestion: t('admin.hours_clear_global_question'),
        onSave: async (hours) => {
          await put('/business-hours/global', { hours });
          if (!hours.length) {
            draw([]);
            toast(t('admin.hours_saved'), 'success');
          }
        },
      }));
  };
  draw(rows);
  replace(view,
    adminHeader(t('admin.hours_title')),
    hoursSection,
    h('section', { 'aria-labelledby': 'global-blackouts-h' },
      h('h2', { id: 'global-blackouts-h' }, t('admin.blackout_global_title')),
      blackoutEditor({
        load: () => get('/blackout-dates'),
        onAdd: (body) => post('/blackout-dates', body),
        removable: (row) => row.resource_id == null,
        hint: t('admin.blackout_global_hint'),
      })));
}
