// `#/admin/users`: accounts and roles for administrators — the user list (50 a page), disabling
// and re-enabling an account (which ends its sessions), resetting a password, granting and
// removing roles, and the roles themselves (list, create).

import { h, field, replace, button, flash, table, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del } from '../api.js';
import { can, session } from '../session.js';
import { formatDateTime } from '../format.js';
import { adminHeader, refuse, confirmButton, statusLine, words } from './admin.js';

const PAGE_SIZE = 50;

export default async function render(view, ctx) {
  if (refuse(view, 'user:manage')) return;
  ctx.setTitle(t('admin.users_title'));
  const me = session()?.user?.id;
  const manageRoles = can('role:manage');
  const status = statusLine();
  const listHolder = h('div', { class: 'user-list' });
  const rolesHolder = h('div', { class: 'role-list' });
  let skip = 0;
  let roles = [];

  const run = async (work, done) => {
    try {
      const answer = await work();
      status.say('success', done(answer));
      await loadUsers();
    } catch (error) {
      status.say('error', words(error));
    }
  };

  function roleCell(user) {
    const chips = user.roles.map((role) => h('span', { class: 'chip role-chip', 'data-test': 'user-role' }, role,
      manageRoles ? h('button', {
        type: 'button', class: 'chip-remove', 'aria-label': t('admin.role_remove', { role, user: user.username }), 'data-test': 'role-remove',
        onclick: () => run(() => del('/roles/assign', { body: { user_id: user.id, role_name: role } }), () => t('admin.role_removed', { role, user: user.username })),
      }, '×') : null));
    if (!manageRoles) return chips;
    const missing = roles.filter((role) => !user.roles.includes(role.name));
    if (!missing.length) return chips;
    const select = h('select', { 'aria-label': t('admin.role_to_add', { user: user.username }), 'data-test': 'role-select' },
      missing.map((role) => h('option', { value: role.name }, role.name)));
    return [chips, h('span', { class: 'role-add' }, select, button(t('admin.role_add'), () => run(
      () => post('/roles/assign', { user_id: user.id, role_name: select.value }),
      () => t('admin.role_added', { role: select.value, user: user.username })), { 'data-test': 'role-add' }))];
  }

  function resetForm(user, cell) {
    const input = h('input', { type: 'password', autocomplete: 'new-password', required: true, 'aria-label': t('admin.new_password_for', { user: user.username }), 'data-test': 'reset-password-input' });
    const form = h('form', { class: 'inline-form' }, input,
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'reset-password-submit' }, t('admin.reset_password')),
      h('button', { type: 'button', class: 'btn', onclick: () => loadUsers() }, t('core.cancel')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run(() => post('/auth/admin/reset-password', { username: user.username, new_password: input.value }),
        () => t('admin.password_reset_done', { user: user.username }));
    });
    replace(cell, form);
    input.focus();
  }

  function actions(user) {
    const cell = h('div', { class: 'row-actions' });
    const parts = [];
    if (user.id !== me) {
      parts.push(user.is_active
        ? confirmButton(t('admin.disable'), t('admin.disable_user_question', { user: user.username }), () => run(
          () => post(`/auth/admin/users/${user.id}/disable`), () => t('admin.user_disabled', { user: user.username })), { attrs: { 'data-test': 'user-disable' } })
        : button(t('admin.enable'), () => run(
          () => post(`/auth/admin/users/${user.id}/enable`), () => t('admin.user_enabled', { user: user.username })), { 'data-test': 'user-enable' }));
      parts.push(button(t('admin.reset_password'), () => resetForm(user, cell), { 'data-test': 'reset-password' }));
    } else {
      parts.push(h('span', { class: 'hint' }, t('admin.this_is_you')));
    }
    return replace(cell, parts);
  }

  async function loadUsers() {
    const users = await get('/auth/admin/users', { skip, limit: PAGE_SIZE + 1 });
    const more = users.length > PAGE_SIZE;
    const shown = users.slice(0, PAGE_SIZE);
    replace(listHolder,
      table([
        [t('admin.username'), (u) => h('span', { 'data-test': 'user-name' }, u.username)],
        [t('admin.email'), (u) => u.email || '—'],
        [t('admin.roles'), roleCell],
        [t('admin.state'), (u) => h('span', { class: `badge ${u.is_active ? 'badge-free' : 'badge-closed'}` }, u.is_active ? t('admin.active') : t('admin.state_disabled'))],
        [t('admin.mfa'), (u) => (u.mfa_enabled ? t('admin.mfa_on') : t('admin.mfa_off'))],
        [t('admin.created_at'), (u) => (u.created_at ? formatDateTime(u.created_at) : '—')],
        [t('admin.actions'), actions],
      ], shown, { caption: t('admin.users_caption'), empty: t('admin.users_empty'), rowAttrs: (u) => ({ 'data-test': 'user-row', 'data-user-id': u.id }) }),
      h('div', { class: 'pager' },
        skip > 0 ? button(t('admin.previous'), async () => { skip = Math.max(0, skip - PAGE_SIZE); await loadUsers(); }) : null,
        more ? button(t('admin.next'), async () => { skip += PAGE_SIZE; await loadUsers(); }) : null));
  }

  async function loadRoles() {
    if (!can('user:read')) return;
    roles = await get('/roles');
    replace(rolesHolder, table([
      [t('admin.role_name'), (role) => h('code', {}, role.name)],
      [t('admin.description'), (role) => (BUILT_IN.includes(role.name) ? t(`admin.role_${role.name}_text`) : role.description || '—')],
    ], roles, { caption: t('admin.roles_caption'), rowAttrs: () => ({ 'data-test': 'role-row' }) }));
  }

  const roleStatus = statusLine();
  const roleForm = h('form', { class: 'role-form', 'data-test': 'role-create' },
    h('div', { class: 'field-row' },
      field(t('admin.role_name'), { name: 'name', required: true, maxlength: 50, 'data-test': 'role-create-name' }),
      field(t('admin.description'), { name: 'description' })),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'role-create-submit' }, t('admin.role_create')),
    h('p', { class: 'hint' }, t('admin.role_create_hint')),
    roleStatus);
  roleForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(roleForm);
    try {
      const role = await post('/roles', { name: values.name.trim(), description: values.description.trim() || null });
      roleForm.reset();
      roleStatus.say('success', t('admin.role_created', { role: role.name }));
      await loadRoles();
      await loadUsers();
    } catch (error) {
      roleStatus.say('error', error.message);
    }
  });

  await loadRoles().catch((error) => replace(rolesHolder, flash('error', error.message)));
  await loadUsers();
  replace(view,
    adminHeader(t('admin.users_title')),
    h('section', { 'aria-labelledby': 'users-h' }, h('h2', { id: 'users-h' }, t('admin.users_list')), status, listHolder),
    can('user:read') ? h('section', { 'aria-labelledby': 'roles-h' },
      h('h2', { id: 'roles-h' }, t('admin.roles_title')), rolesHolder, manageRoles ? roleForm : null) : null);
}

const BUILT_IN = ['admin', 'manager', 'user', 'guest'];
