// `#/admin`: the administration hub, linking the admin pages the signed-in user may use (the
// server checks the permission again on every call). Also the helpers the admin pages share:
// a page header with the way back, an inline confirmation (no `window.confirm`, which a wall
// screen or a test browser may block), and week-day names in the page's language.

import { h, flash, replace } from '../dom.js';
import { t, language } from '../i18n.js';
import { can } from '../session.js';

/** The admin pages, with the permission each needs. */
export const ADMIN_PAGES = [
  { hash: '#/admin/resources', key: 'resources', permission: 'resource:create' },
  { hash: '#/admin/hours', key: 'hours', permission: 'resource:update' },
  { hash: '#/admin/groups', key: 'groups', permission: 'resource_group:manage' },
  { hash: '#/admin/labels', key: 'labels', permission: 'resource:create' },
  { hash: '#/admin/users', key: 'users', permission: 'user:manage' },
  { hash: '#/admin/audit', key: 'audit', permission: 'audit:read' },
];

/** The page's heading with a breadcrumb back to the hub (and to `parent` when given). */
export function adminHeader(title, parent) {
  return [
    h('nav', { class: 'breadcrumb', 'aria-label': t('admin.breadcrumb') },
      h('a', { href: '#/admin' }, t('admin.title')),
      parent ? [' › ', h('a', { href: parent.hash }, parent.label)] : null),
    h('h1', {}, title),
  ];
}

/**
 * Refuses the page (and returns true) unless the user holds `permission`; the server enforces
 * it anyway, this only spares a page of errors.
 */
export function refuse(view, permission) {
  if (can(permission)) return false;
  replace(view, h('h1', {}, t('admin.title')), flash('error', t('core.forbidden')));
  return true;
}

/**
 * A button that asks first: clicking it shows `question` with a confirming button (running
 * `action`) and a cancel button, in place. `extra` (optional nodes) is shown with the question,
 * e.g. a checkbox that changes what `action` does.
 */
export function confirmButton(label, question, action, { extra = null, danger = true, attrs = {} } = {}) {
  const holder = h('span', { class: 'confirm' });
  const start = h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn', ...attrs }, label);
  const reset = () => {
    replace(holder, start);
    start.focus();
  };
  start.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-test': 'confirm-yes' }, label);
    const no = h('button', { type: 'button', class: 'btn', 'data-test': 'confirm-no', onclick: reset }, t('core.cancel'));
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      try {
        await action();
      } finally {
        if (holder.isConnected) reset();
      }
    });
    replace(holder, h('span', { class: 'confirm-question', role: 'group', 'aria-label': question },
      h('span', {}, question), extra, yes, no));
    yes.focus();
  });
  replace(holder, start);
  return holder;
}

/** Server refusals an administrator meets often, said in the page's language. */
const KNOWN_REFUSALS = {
  'A resource that requires approval needs a default approver': 'admin.refused_needs_approver',
  'Cannot remove the last admin': 'admin.refused_last_admin',
  'Default approver not found': 'admin.refused_no_approver',
};

/** The words of an API failure: a known refusal translated, anything else as the server said it. */
export function words(error) {
  const key = KNOWN_REFUSALS[error && error.message];
  return key ? t(key) : (error && error.message) || String(error);
}

/** Monday-first week-day names ('Monday' …) in the page's language. */
export function dayNames(width = 'long') {
  const format = new Intl.DateTimeFormat(language(), { weekday: width, timeZone: 'UTC' });
  // 1 January 2024 was a Monday.
  return Array.from({ length: 7 }, (_, index) => format.format(new Date(Date.UTC(2024, 0, 1 + index))));
}

/** Every IANA time zone the browser knows (for a `<datalist>`), UTC first. */
export function timeZones() {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...zones.filter((zone) => zone !== 'UTC')];
}

/** A `<datalist id>` of time zones, to attach to an input with `list: id`. */
export function timeZoneList(id) {
  return h('datalist', { id }, timeZones().map((zone) => h('option', { value: zone })));
}

/** Splits "a, b ,c" into ['a', 'b', 'c']. */
export function splitTags(text) {
  return String(text || '').split(',').map((tag) => tag.trim()).filter(Boolean);
}

/** A live status line for a section: set its text with `.say(kind, words)`. */
export function statusLine() {
  const element = h('div', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
  element.say = (kind, words) => replace(element, words ? flash(kind, words) : null);
  return element;
}

export default async function render(view, ctx) {
  ctx.setTitle(t('admin.title'));
  const pages = ADMIN_PAGES.filter((page) => can(page.permission));
  replace(view,
    h('h1', {}, t('admin.title')),
    pages.length
      ? h('ul', { class: 'cards admin-hub' }, pages.map((page) => h('li', { class: 'card' },
        h('h2', {}, h('a', { href: page.hash, 'data-test': `admin-${page.key}` }, t(`admin.hub_${page.key}`))),
        h('p', {}, t(`admin.hub_${page.key}_text`)))))
      : flash('info', t('admin.hub_none')));
}
