// `#/groups` and `#/groups/:id`: the group tree navigator (buildings → floors → rooms, each with
// its number of resources) and, for the chosen group, its place, its subgroups and a live view
// of every resource under it (subgroups included): the floor's or building's board in a page.
// The wall-screen board of a group is `#/board?group=ID` (see `groupResourceIds` in
// organise.js). Group and hierarchy changes made elsewhere redraw the tree; bookings and status
// changes of the group's resources redraw its resources.

import { h, replace, flash } from '../dom.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { live } from '../live.js';
import { statusBadge } from './resources.js';
import { groupTree, flatten, groupResourcesWithLabels, placeLine, labelChips, GROUP_EVENTS } from './organise.js';

/** Resource-level events that change what a group's resources show now. */
const RESOURCE_EVENTS = [
  'reservation_created', 'reservation_cancelled', 'reservation_updated', 'reservation_expired',
  'resource_status_changed', 'resource_updated', 'resource_deleted', 'hold_created', 'hold_expired', 'hold_released',
];

/** The resources under a group, subgroups included, summed from a tree node. */
function totalUnder(group) {
  return (group.resource_count || 0) + (group.children || []).reduce((sum, child) => sum + totalUnder(child), 0);
}

function treeList(groups, selected, openPath) {
  if (!groups || !groups.length) return null;
  return h('ul', { class: 'group-tree', role: 'list' }, groups.map((group) => {
    const current = group.id === selected;
    const total = totalUnder(group);
    const childList = treeList(group.children, selected, openPath);
    const link = h('a', {
      href: `#/groups/${group.id}`, class: current ? 'group-link active' : 'group-link', 'aria-current': current ? 'page' : null,
      'data-test': 'group-node', 'data-group-id': group.id,
    },
    h('span', { class: 'group-name' }, group.name),
    ' ',
    h('span', { class: 'group-count', 'data-test': 'group-count', 'data-count': total },
      t('organise.resource_count', { count: total })));
    if (!childList) return h('li', {}, link);
    // Subgroups fold away behind a disclosure button; the chosen group's branch is open.
    const open = openPath.has(group.id);
    childList.hidden = !open;
    const toggle = h('button', {
      type: 'button', class: 'tree-toggle', 'aria-expanded': open ? 'true' : 'false', 'data-test': 'group-toggle',
      onclick: () => {
        const now = toggle.getAttribute('aria-expanded') !== 'true';
        toggle.setAttribute('aria-expanded', now ? 'true' : 'false');
        childList.hidden = !now;
      },
    }, h('span', { class: 'tree-glyph', 'aria-hidden': 'true' }), h('span', { class: 'visually-hidden' }, t('organise.show_subgroups', { name: group.name })));
    return h('li', { class: 'has-children' }, toggle, link, childList);
  }));
}

export default async function render(view, ctx) {
  ctx.setTitle(t('organise.groups_title'));
  const selected = ctx.params.id ? Number(ctx.params.id) : null;
  const treeBox = h('nav', { class: 'group-nav', 'aria-label': t('organise.group_tree'), 'data-test': 'group-tree' });
  const panel = h('section', { class: 'group-panel', 'aria-live': 'polite', 'data-test': 'group-panel' });
  let tree = null;
  let ids = new Set();
  let subscribed = [];

  async function drawTree() {
    tree = await groupTree();
    const flat = flatten(tree.groups);
    const chosen = flat.find((item) => item.group.id === selected);
    // The ids from the root to the chosen group: those branches stay open.
    const openPath = new Set();
    if (chosen) {
      for (const item of flat) {
        if (chosen.path.slice(0, item.depth + 1).join('\u0000') === item.path.join('\u0000')) openPath.add(item.group.id);
      }
    }
    replace(treeBox,
      h('h2', {}, t('organise.group_tree')),
      tree.groups.length
        ? treeList(tree.groups, selected, openPath)
        : h('p', { class: 'empty', 'data-test': 'group-empty' }, t('organise.no_groups')),
      h('p', {}, h('a', { href: '#/groups/ungrouped', 'data-test': 'group-ungrouped' }, t('organise.ungrouped'))),
      h('p', { class: 'muted', 'data-test': 'group-totals' },
        t('organise.totals', { groups: tree.total_groups, resources: tree.total_resources })));
    return chosen;
  }

  function resourceTile(resource) {
    return h('li', { class: 'card group-resource', 'data-test': 'group-resource', 'data-resource-id': resource.id },
      h('h3', { class: 'card-title' }, h('a', { href: `#/resources/${resource.id}` }, resource.name)),
      h('p', { class: 'badges' }, statusBadge(resource)),
      labelChips(resource.labels),
      resource.tags?.length ? h('p', { class: 'tags' }, h('span', { class: 'visually-hidden' }, `${t('organise.tags')}: `),
        resource.tags.map((tag) => h('span', { class: 'chip' }, tag))) : null);
  }

  async function follow(list) {
    const next = list.map((resource) => resource.id);
    const same = next.length === subscribed.length && next.every((id, index) => id === subscribed[index]);
    if (same) return;
    if (subscribed.length && live.unsubscribe) live.unsubscribe({ resources: subscribed });
    subscribed = next;
    ids = new Set(next);
    if (next.length) Promise.resolve(live.subscribe({ resources: next })).catch(() => {});
  }

  async function drawPanel(chosen) {
    if (ctx.params.id === 'ungrouped') {
      const { get } = await import('../api.js');
      const list = await get('/resource-groups/ungrouped');
      await follow(list);
      replace(panel,
        h('h1', {}, t('organise.ungrouped')),
        list.length ? h('ul', { class: 'cards group-resources' }, list.map(resourceTile))
          : h('p', { class: 'empty' }, t('organise.no_resources')));
      return;
    }
    if (!selected) {
      replace(panel,
        h('h1', {}, t('organise.groups_title')),
        h('p', { class: 'muted' }, t('organise.pick_group')),
        h('p', { class: 'actions' },
          can('resource_group:manage') ? h('a', { href: '#/admin/groups', 'data-test': 'groups-admin-link' }, t('organise.edit_groups')) : null,
          can('resource:create') ? h('a', { href: '#/admin/labels', 'data-test': 'labels-admin-link' }, t('organise.admin_labels_title')) : null));
      return;
    }
    if (!chosen) {
      replace(panel, h('h1', {}, t('organise.groups_title')), flash('error', t('organise.group_not_found')));
      return;
    }
    const group = chosen.group;
    ctx.setTitle(group.name);
    const list = await groupResourcesWithLabels(group.id);
    await follow(list);
    const place = placeLine(group);
    replace(panel,
      h('p', { class: 'breadcrumb muted', 'data-test': 'group-path' }, chosen.path.join(' › ')),
      h('h1', { 'data-test': 'group-title' }, group.name),
      place ? h('p', { class: 'muted' }, place) : null,
      group.description ? h('p', {}, group.description) : null,
      h('p', { class: 'actions' },
        // `group` makes the board follow the group; `resources` is the same list today, for a
        // board that reads only `resources`.
        h('a', { class: 'btn btn-primary', href: `#/board?group=${group.id}${list.length ? `&resources=${list.map((r) => r.id).join(',')}` : ''}`, 'data-test': 'group-board-link' }, t('organise.open_board')),
        h('a', { class: 'btn', href: `#/search?group_id=${group.id}`, 'data-test': 'group-search-link' }, t('organise.search_here'))),
      group.children?.length ? [
        h('h2', {}, t('organise.subgroups')),
        h('ul', { class: 'chip-list' }, group.children.map((child) => h('li', {},
          h('a', { class: 'chip', href: `#/groups/${child.id}`, 'data-test': 'subgroup-link' },
            `${child.name} (${t('organise.resource_count', { count: totalUnder(child) })})`)))),
      ] : null,
      h('h2', {}, t('organise.resources_here', { count: list.length })),
      list.length ? h('ul', { class: 'cards group-resources', 'data-test': 'group-resources' }, list.map(resourceTile))
        : h('p', { class: 'empty', 'data-test': 'group-no-resources' }, t('organise.no_resources')));
  }

  async function redraw() {
    const chosen = await drawTree();
    await drawPanel(chosen);
  }

  // The chosen group first (its h1 heads the page), the tree beside it (below it on a phone).
  replace(view, h('div', { class: 'groups-layout' }, panel, treeBox));
  await redraw();

  let timer = null;
  const later = (fn) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn().catch((error) => console.warn(error)), 250);
  };
  const offs = [
    ...GROUP_EVENTS.map((type) => live.on(type, () => later(redraw))),
    ...RESOURCE_EVENTS.map((type) => live.on(type, (message) => {
      const id = message.resource_id ?? message.data?.resource_id;
      if (ids.has(id)) later(() => drawPanel(flatten(tree?.groups).find((item) => item.group.id === selected)));
    })),
    live.on('resync_required', () => later(redraw)),
  ];
  return () => {
    clearTimeout(timer);
    offs.forEach((off) => off());
    if (subscribed.length && live.unsubscribe) live.unsubscribe({ resources: subscribed });
  };
}
