// `#/admin/resources/:id`: one resource for administrators — its fields (name, description,
// tags, time zone, check-in window), its approval settings, its parent resource in the hierarchy
// (a desk inside a room; the server refuses cycles and the page shows its words), its own opening
// hours (or the global ones) and its blackout dates. Each section saves on its own and says what
// the server answered.

import { h, field, replace, flash, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, put, post } from '../api.js';
import { can } from '../session.js';
import { adminHeader, refuse, timeZoneList, splitTags, statusLine, words } from './admin.js';
import { hoursEditor, blackoutEditor } from './admin-hours.js';
import { resourceFamily, familyLine } from './organise.js';

function detailsSection(resource, onSaved) {
  const status = statusLine();
  const form = h('form', { 'data-test': 'resource-edit-form' },
    field(t('admin.name'), { name: 'name', required: true, maxlength: 200, value: resource.name, 'data-test': 'edit-name' }),
    field(t('admin.description'), { tag: 'textarea', name: 'description', rows: 3, value: resource.description || '', 'data-test': 'edit-description' }),
    field(t('admin.tags'), { name: 'tags', value: resource.tags.join(', '), hint: t('admin.tags_hint'), 'data-test': 'edit-tags' }),
    h('div', { class: 'field-row' },
      field(t('admin.timezone'), { name: 'timezone', value: resource.timezone, list: 'edit-zones', autocomplete: 'off', hint: t('admin.timezone_hint'), 'data-test': 'edit-timezone' }),
      field(t('admin.checkin_window'), { type: 'number', name: 'checkin', min: 0, max: 1440, value: resource.checkin_window_minutes ?? 0, hint: t('admin.checkin_hint_edit'), 'data-test': 'edit-checkin' })),
    timeZoneList('edit-zones'),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'edit-save' }, t('core.save')),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = {
      name: values.name.trim(),
      description: values.description,
      tags: splitTags(values.tags),
      timezone: values.timezone.trim() || 'UTC',
      checkin_window_minutes: Number(values.checkin || 0),
    };
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const saved = await put(`/resources/${resource.id}`, body);
      status.say('success', t('admin.saved'));
      await onSaved(saved);
    } catch (error) {
      status.say('error', error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'details-h' }, h('h2', { id: 'details-h' }, t('admin.details')), form);
}

async function approvalSection(resource) {
  const status = statusLine();
  const section = h('section', { class: 'card', 'aria-labelledby': 'approval-h' }, h('h2', { id: 'approval-h' }, t('admin.approval')));
  let settings;
  try {
    settings = await get(`/approvals/resources/${resource.id}/settings`);
  } catch (error) {
    section.append(flash('error', error.message));
    return section;
  }
  // Approvers are picked by name when the admin may list users, else by their number.
  let users = null;
  if (can('user:manage')) users = await get('/auth/admin/users', { limit: 1000 }).catch(() => null);
  const approver = users
    ? field(t('admin.approver'), {
      tag: 'select', name: 'approver', value: settings.default_approver_id ?? '', 'data-test': 'approval-approver',
      options: [['', t('admin.approver_none')], ...users.filter((u) => u.is_active || u.id === settings.default_approver_id).map((u) => [u.id, u.username])],
    })
    : field(t('admin.approver_id'), { type: 'number', min: 1, name: 'approver', value: settings.default_approver_id ?? '', hint: settings.default_approver_username || '', 'data-test': 'approval-approver' });
  const box = h('input', { type: 'checkbox', id: 'requires-approval', name: 'requires_approval', checked: settings.requires_approval, 'data-test': 'approval-required' });
  const form = h('form', {},
    h('div', { class: 'check' }, box, h('label', { for: 'requires-approval' }, t('admin.requires_approval'))),
    approver,
    h('p', { class: 'hint' }, t('admin.approval_hint')),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'approval-save' }, t('core.save')),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      await put(`/approvals/resources/${resource.id}/settings`, {
        requires_approval: values.requires_approval,
        default_approver_id: values.approver === '' ? null : Number(values.approver),
      });
      status.say('success', t('admin.saved'));
    } catch (error) {
      status.say('error', words(error));
    } finally {
      submit.disabled = false;
    }
  });
  section.append(form);
  return section;
}

/**
 * The parent picker (every other resource, or none) and the current parent and children. It is
 * filled in once the hierarchy is read (several requests), without holding up the page.
 */
function parentSection(resource) {
  const section = h('section', { class: 'card', 'aria-labelledby': 'parent-h', 'data-test': 'parent-section' });
  const status = statusLine();
  const draw = async () => {
    const family = await resourceFamily(resource.id);
    const others = [...family.index.values()].filter((other) => other.id !== resource.id)
      .sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
    const picker = field(t('admin.parent'), {
      tag: 'select', name: 'parent', value: family.parent ? family.parent.id : '', 'data-test': 'parent-select',
      options: [['', t('admin.parent_none')], ...others.map((other) => [other.id, other.name])],
    });
    const form = h('form', { 'data-test': 'parent-form' },
      picker,
      h('p', { class: 'hint' }, t('admin.parent_hint')),
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'parent-save' }, t('core.save')),
      status);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const { parent } = formValues(form);
      const submit = form.querySelector('button[type=submit]');
      submit.disabled = true;
      try {
        const answer = await post('/resource-groups/resources/set-parent', { resource_id: resource.id, parent_id: parent === '' ? null : Number(parent) });
        await draw();
        status.say('success', answer.message);
      } catch (error) {
        // The picker goes back to the parent the resource really has.
        await draw().catch(() => {});
        status.say('error', error.message);
      } finally {
        submit.disabled = false;
      }
    });
    replace(section,
      h('h2', { id: 'parent-h' }, t('admin.parent_title')),
      familyLine(family, (other) => `#/admin/resources/${other.id}`) || h('p', { class: 'hint', 'data-test': 'family-none' }, t('admin.family_none')),
      form);
  };
  replace(section, h('h2', { id: 'parent-h' }, t('admin.parent_title')), h('p', { class: 'loading' }, t('core.loading')));
  draw().catch((error) => replace(section, h('h2', { id: 'parent-h' }, t('admin.parent_title')), flash('error', error.message)));
  return section;
}

async function hoursSection(resource) {
  const section = h('section', { class: 'card', 'aria-labelledby': 'hours-h' });
  const draw = async () => {
    const rows = await get(`/resources/${resource.id}/business-hours`);
    const own = rows.some((row) => row.resource_id != null);
    replace(section,
      h('h2', { id: 'hours-h' }, t('admin.hours_resource')),
      h('p', { class: 'hint' }, t('admin.times_in', { zone: resource.timezone })),
      hoursEditor({
        rows,
        note: own ? t('admin.hours_own_note') : (rows.length ? t('admin.hours_inherits') : t('admin.hours_inherits_open')),
        clearLabel: t('admin.hours_use_global'),
        clearQuestion: t('admin.hours_use_global_question'),
        onSave: async (hours) => {
          await put(`/resources/${resource.id}/business-hours`, { hours });
          if (!hours.length) await draw();
        },
      }));
  };
  await draw().catch((error) => replace(section, h('h2', { id: 'hours-h' }, t('admin.hours_resource')), flash('error', error.message)));
  return section;
}

function blackoutSection(resource) {
  return h('section', { class: 'card', 'aria-labelledby': 'blackout-h' },
    h('h2', { id: 'blackout-h' }, t('admin.blackout_title')),
    blackoutEditor({
      load: () => get(`/resources/${resource.id}/blackout-dates`, { include_global: true }),
      onAdd: (body) => post(`/resources/${resource.id}/blackout-dates`, body),
      removable: (row) => row.resource_id === resource.id,
      hint: t('admin.blackout_resource_hint', { zone: resource.timezone }),
    }));
}

export default async function render(view, ctx) {
  if (refuse(view, 'resource:update')) return;
  const id = Number(ctx.params.id);
  const resource = await get(`/resources/${id}`);
  ctx.setTitle(resource.name);
  const heading = adminHeader(resource.name, { hash: '#/admin/resources', label: t('admin.resources_title') });
  const title = heading[1];
  const [approval, hours, parent] = await Promise.all([
    approvalSection(resource), hoursSection(resource), can('resource_group:manage') ? parentSection(resource) : null]);
  let hoursPart = hours;
  let blackoutPart = blackoutSection(resource);
  replace(view,
    heading,
    h('p', {}, h('a', { href: `#/resources/${id}` }, t('admin.view_public'))),
    h('div', { class: 'admin-columns' },
      detailsSection(resource, async (saved) => {
        title.textContent = saved.name;
        ctx.setTitle(saved.name);
        const zoneChanged = saved.timezone !== resource.timezone;
        Object.assign(resource, saved);
        if (zoneChanged) {
          // Hours and blackout dates are read on the resource's calendar: say which one now.
          const [nextHours, nextBlackouts] = [await hoursSection(resource), blackoutSection(resource)];
          hoursPart.replaceWith(nextHours);
          blackoutPart.replaceWith(nextBlackouts);
          [hoursPart, blackoutPart] = [nextHours, nextBlackouts];
        }
      }),
      approval),
    parent,
    hoursPart,
    blackoutPart);
}
