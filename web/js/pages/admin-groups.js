// `#/admin/groups`: the group editor for administrators — create a group under a parent, rename
// it, move it under another parent (the server refuses a move that would make a cycle; its
// refusal is shown in words), set its building/floor/room, assign and remove resources, and
// delete it (after confirmation; with "and its subgroups" for a cascade, without which the
// server refuses a group that has subgroups).

import { h, field, replace, button, flash, table, toast, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, patch, del, ApiError } from '../api.js';
import { adminHeader, refuse, confirmButton } from './admin.js';
import { groupTree, flatten, placeLine, allResources } from './organise.js';

const PERMISSION = 'resource_group:manage';

/** The server's refusal in words; a cycle gets a sentence of its own. */
export function refusalWords(error) {
  const message = error instanceof ApiError ? error.message : String(error?.message || error);
  if (/circular|own parent/i.test(message)) return `${t('organise.cycle_refused')} (${message})`;
  if (/child group/i.test(message)) return `${t('organise.has_subgroups')} (${message})`;
  return message;
}

export default async function render(view, ctx) {
  ctx.setTitle(t('organise.admin_groups_title'));
  if (refuse(view, PERMISSION)) return undefined;
  const message = h('div', { class: 'admin-message', 'aria-live': 'polite', 'data-test': 'group-admin-message' });
  const listBox = h('div', { class: 'group-admin-list' });
  const editor = h('div', { class: 'group-editor' });
  const createBox = h('section', { class: 'card', 'aria-labelledby': 'group-create-heading' });
  let flat = [];
  let resources = [];
  let editing = ctx.query.edit ? Number(ctx.query.edit) : null;

  const say = (kind, words) => replace(message, flash(kind, words));

  /** `[value, label]` options of every group (indented), without `except` and its subtree. */
  function parentOptions(except) {
    const blocked = new Set();
    if (except) {
      const start = flat.find((item) => item.group.id === except);
      if (start) for (const item of flatten([start.group])) blocked.add(item.group.id);
    }
    return [['', t('organise.no_parent')],
      ...flat.filter((item) => !blocked.has(item.group.id)).map(({ group, depth }) => [String(group.id), `${'\u2003'.repeat(depth)}${group.name}`])];
  }

  /** Group fields from a form: blank texts are sent as null (cleared). */
  function groupBody(values) {
    const text = (value) => (value.trim() ? value.trim() : null);
    return {
      name: values.name.trim(),
      description: text(values.description),
      parent_id: values.parent_id ? Number(values.parent_id) : null,
      building: text(values.building),
      floor: text(values.floor),
      room: text(values.room),
    };
  }

  function groupFields(prefix, group = {}, except = null) {
    return [
      field(t('organise.group_name'), { name: 'name', required: true, maxlength: 200, value: group.name || '', 'data-test': `${prefix}-name` }),
      field(t('organise.parent'), { tag: 'select', name: 'parent_id', value: group.parent_id ? String(group.parent_id) : '', options: parentOptions(except), 'data-test': `${prefix}-parent` }),
      h('div', { class: 'field-row' },
        field(t('organise.building'), { name: 'building', maxlength: 200, value: group.building || '', 'data-test': `${prefix}-building` }),
        field(t('organise.floor'), { name: 'floor', maxlength: 50, value: group.floor || '', 'data-test': `${prefix}-floor` }),
        field(t('organise.room'), { name: 'room', maxlength: 100, value: group.room || '', 'data-test': `${prefix}-room` })),
      field(t('organise.description'), { tag: 'textarea', name: 'description', rows: 2, maxlength: 500, value: group.description || '', 'data-test': `${prefix}-description` }),
    ];
  }

  function drawCreate() {
    const form = h('form', { 'data-test': 'group-create-form' },
      groupFields('group-create'),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'group-create-submit' }, t('organise.create_group'))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const group = await post('/resource-groups', groupBody(formValues(form)));
        say('success', t('organise.group_created', { name: group.name }));
        form.reset();
        await reload();
      } catch (error) {
        say('error', refusalWords(error));
      }
    });
    replace(createBox, h('h2', { id: 'group-create-heading' }, t('organise.create_group')), form);
  }

  async function drawEditor() {
    const item = flat.find((entry) => entry.group.id === editing);
    if (!item) {
      replace(editor);
      return;
    }
    const group = item.group;
    const form = h('form', { 'data-test': 'group-edit-form', 'data-group-id': group.id },
      groupFields('group-edit', group, group.id),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'group-edit-submit' }, t('organise.save')),
        h('button', { type: 'button', class: 'btn', 'data-test': 'group-edit-close', onclick: () => { editing = null; drawEditor(); } }, t('organise.close'))));
    // The parent list leaves out the group's own subtree; the server checks again (and under
    // concurrent moves), so a refusal still comes back in words.
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const saved = await patch(`/resource-groups/${group.id}`, groupBody(formValues(form)));
        say('success', t('organise.group_saved', { name: saved.name }));
        await reload();
      } catch (error) {
        say('error', refusalWords(error));
      }
    });

    const members = await get(`/resource-groups/${group.id}/resources`).catch(() => []);
    const memberIds = new Set(members.map((resource) => resource.id));
    const choice = field(t('organise.resource'), {
      tag: 'select', name: 'resource_id', 'data-test': 'group-assign-resource',
      options: [['', t('organise.pick_resource')], ...resources.filter((resource) => !memberIds.has(resource.id)).map((resource) => [String(resource.id), resource.name])],
    });
    const assign = button(t('organise.assign'), async () => {
      const id = Number(choice.querySelector('select').value);
      if (!id) {
        say('error', t('organise.pick_resource'));
        return;
      }
      try {
        await post(`/resource-groups/${group.id}/resources`, { resource_id: id });
        say('success', t('organise.assigned'));
        await drawEditor();
        await drawList();
      } catch (error) {
        say('error', refusalWords(error));
      }
    }, { 'data-test': 'group-assign-submit' });

    replace(editor, h('section', { class: 'card', 'aria-labelledby': 'group-edit-heading', 'data-test': 'group-editor' },
      h('h2', { id: 'group-edit-heading' }, t('organise.edit_group', { name: group.name })),
      form,
      h('h3', {}, t('organise.group_resources')),
      members.length ? h('ul', { class: 'member-list' }, members.map((resource) => h('li', { 'data-test': 'group-member', 'data-resource-id': resource.id },
        h('a', { href: `#/resources/${resource.id}` }, resource.name), ' ',
        button(t('organise.remove'), async () => {
          try {
            await del(`/resource-groups/${group.id}/resources/${resource.id}`);
            say('success', t('organise.removed', { name: resource.name }));
            await drawEditor();
            await drawList();
          } catch (error) {
            say('error', refusalWords(error));
          }
        }, { class: 'btn btn-link', 'data-test': 'group-unassign', 'aria-label': t('organise.remove_named', { name: resource.name }) }))))
        : h('p', { class: 'empty' }, t('organise.no_resources')),
      h('div', { class: 'field-row assign-row' }, choice, h('div', { class: 'field assign-action' }, assign))));
    editor.querySelector('h2')?.scrollIntoView?.({ block: 'nearest' });
  }

  function deleteControl(group) {
    const cascade = h('input', { type: 'checkbox', id: `cascade-${group.id}`, 'data-test': 'group-delete-cascade' });
    return confirmButton(t('organise.delete'), t('organise.delete_group_question', { name: group.name }), async () => {
      try {
        await del(`/resource-groups/${group.id}`, { query: cascade.checked ? { cascade: 'true' } : undefined });
        say('success', t('organise.group_deleted', { name: group.name }));
        if (editing === group.id) editing = null;
        await reload();
      } catch (error) {
        say('error', refusalWords(error));
      }
    }, {
      extra: group.children?.length ? h('label', { class: 'check', for: `cascade-${group.id}` }, cascade, t('organise.cascade')) : null,
      attrs: { 'data-test': 'group-delete', 'aria-label': t('organise.delete_named', { name: group.name }) },
    });
  }

  async function drawList() {
    const tree = await groupTree();
    flat = flatten(tree.groups);
    replace(listBox, table([
      [t('organise.group_name'), ({ group, depth }) => h('span', { class: `depth depth-${Math.min(depth, 6)}` },
        h('a', { href: `#/groups/${group.id}` }, group.name))],
      [t('organise.place'), ({ group }) => placeLine(group)],
      [t('organise.resources_direct'), ({ group }) => String(group.resource_count || 0)],
      [t('organise.actions'), ({ group }) => h('span', { class: 'actions' },
        h('button', {
          type: 'button', class: 'btn', 'data-test': 'group-edit', 'aria-label': t('organise.edit_named', { name: group.name }),
          onclick: () => { editing = group.id; drawEditor(); },
        }, t('organise.edit')),
        deleteControl(group))],
    ], flat, {
      caption: t('organise.groups_title'),
      empty: t('organise.no_groups'),
      rowAttrs: ({ group }) => ({ 'data-test': 'group-row', 'data-group-id': group.id, 'data-name': group.name }),
    }));
  }

  async function reload() {
    await drawList();
    drawCreate();
    await drawEditor();
  }

  replace(view,
    adminHeader(t('organise.admin_groups_title')),
    h('p', {}, h('a', { href: '#/admin/labels', 'data-test': 'admin-labels-link' }, t('organise.admin_labels_title')), ' · ',
      h('a', { href: '#/groups' }, t('organise.groups_title'))),
    message, listBox, editor, createBox);
  resources = await allResources().catch(() => []);
  await reload();
  return undefined;
}
