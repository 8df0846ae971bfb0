// Shared parts of the organisation pages (groups, labels, search), not a page itself: label
// chips in the label's own colour with a readable text colour, the list of every label, the
// group tree, and the resource ids under a group (what a group's board shows and follows).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { get } from '../api.js';

/** `#rrggbb` → [r, g, b] in 0..255 (null when it is not a hex colour). */
function rgb(hex) {
  const found = /^#?([0-9a-f]{6})$/i.exec(String(hex || '').trim());
  if (!found) return null;
  const n = parseInt(found[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** WCAG relative luminance. */
function luminance([r, g, b]) {
  const linear = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/**
 * The text colour for a chip of background `hex`: black or white, whichever contrasts more
 * (for any background one of them reaches at least 4.58:1, so the chip passes WCAG AA).
 */
export function textColorFor(hex) {
  const colour = rgb(hex);
  if (!colour) return null;
  const l = luminance(colour);
  const withBlack = (l + 0.05) / 0.05;
  const withWhite = 1.05 / (l + 0.05);
  return withBlack >= withWhite ? '#000000' : '#ffffff';
}

/** `category:value` of a label (what the API's `label=` filter takes). */
export const labelKey = (label) => `${label.category}:${label.value}`;

/**
 * A label as a chip in its colour. Colours are set from JS (`element.style`), which the page's
 * CSP allows; `style="…"` in markup would not be.
 */
export function labelChip(label, attrs = {}) {
  const chip = h('span', { class: 'chip label-chip', 'data-test': 'label-chip', 'data-label': labelKey(label), ...attrs },
    h('span', { class: 'label-category' }, `${label.category}: `), label.value);
  const fg = textColorFor(label.color);
  if (fg) {
    chip.style.backgroundColor = label.color;
    chip.style.color = fg;
    chip.style.borderColor = label.color;
  }
  return chip;
}

/** The chips of a resource's labels (null when it has none). */
export function labelChips(labels) {
  if (!labels || !labels.length) return null;
  return h('p', { class: 'label-chips', 'data-test': 'label-chips' },
    h('span', { class: 'visually-hidden' }, `${t('organise.labels')}: `),
    labels.map((label) => labelChip(label)));
}

/** Every label (all pages of `GET /labels`), sorted by category then value. */
export async function allLabels() {
  const labels = [];
  let cursor;
  for (let pages = 0; pages < 50; pages += 1) {
    const body = await get('/labels', { limit: 100, cursor });
    labels.push(...(body.data || []));
    if (!body.has_more || !body.next_cursor) break;
    cursor = body.next_cursor;
  }
  return labels;
}

/** Every resource (for pickers and lists), name order, at most 1,000. */
export async function allResources() {
  const out = [];
  let cursor;
  for (let pages = 0; pages < 10; pages += 1) {
    const body = await get('/resources/search', { status: 'all', limit: 100, cursor });
    out.push(...(body.data || []));
    if (!body.has_more || !body.next_cursor) break;
    cursor = body.next_cursor;
  }
  return out;
}

/** The group tree: `{groups: [...roots with children and resource_count], total_groups, total_resources}`. */
export const groupTree = () => get('/resource-groups/tree');

/** Each group of a tree, depth first, as `{group, depth, path}` (path: the names from the root). */
export function flatten(roots) {
  const out = [];
  const walk = (group, depth, path) => {
    const here = [...path, group.name];
    out.push({ group, depth, path: here });
    for (const child of group.children || []) walk(child, depth + 1, here);
  };
  for (const root of roots || []) walk(root, 0, []);
  return out;
}

/**
 * Every resource's place in the hierarchy, as a Map id → `{id, name, parent_id, group_id, …}`:
 * the ungrouped resources and those under each root group (the resource answer itself carries
 * no parent, the hierarchy's answers do).
 */
export async function hierarchyIndex() {
  const [ungrouped, tree] = await Promise.all([get('/resource-groups/ungrouped'), groupTree()]);
  const lists = await Promise.all((tree.groups || []).map((root) => groupResources(root.id)));
  return new Map([ungrouped, ...lists].flat().map((resource) => [resource.id, resource]));
}

/** Resource `id`'s parent resource (`{id, name}` or null), its children, and the whole index. */
export async function resourceFamily(id) {
  const [index, children] = await Promise.all([hierarchyIndex(), get(`/resource-groups/resources/${id}/children`)]);
  const parentId = index.get(id)?.parent_id;
  const parent = parentId === null || parentId === undefined ? null : (index.get(parentId) || { id: parentId, name: `#${parentId}` });
  return { parent, children, index };
}

/** "Part of: Room 301" and "Contains: Desk 1, Desk 2" as links to `hash(resource)`, or null. */
export function familyLine({ parent, children }, hash = (resource) => `#/resources/${resource.id}`) {
  if (!parent && !children.length) return null;
  const links = (list, test) => list.map((resource, index) => [index ? ', ' : '',
    h('a', { href: hash(resource), 'data-test': test, 'data-id': resource.id }, resource.name)]);
  return h('p', { class: 'family-line', 'data-test': 'family' },
    parent ? h('span', {}, `${t('organise.part_of')}: `, links([parent], 'family-parent')) : null,
    parent && children.length ? ' · ' : null,
    children.length ? h('span', {}, `${t('organise.contains')}: `, links(children, 'family-child')) : null);
}

/** A group's resources, subgroups included (`include_children`). */
export const groupResources = (groupId) => get(`/resource-groups/${groupId}/resources`, { include_children: true });

/**
 * The same resources with their labels: the hierarchy's answer has none, so they are read from
 * the search under the group (a page of 100 at a time; resources the search leaves out keep
 * no labels).
 */
export async function groupResourcesWithLabels(groupId) {
  const [list, labelled] = await Promise.all([groupResources(groupId), labelsUnder(groupId)]);
  return list.map((resource) => ({ ...resource, labels: labelled.get(resource.id) || [] }));
}

async function labelsUnder(groupId) {
  const byId = new Map();
  for (let offset = 0; offset < 2000; offset += 100) {
    const body = await get('/search/resources', { group_id: groupId, limit: 100, offset }).catch(() => null);
    if (!body) break;
    for (const hit of body.results || []) byId.set(hit.id, hit.labels || []);
    if (!body.has_more) break;
  }
  return byId;
}

/**
 * The ids of the resources under a group, subgroups included: what a group board shows. The
 * board (`#/board?group=ID`) subscribes to these ids and reads them again when
 * `resource_group_changed` or `resource_hierarchy_changed` arrives (a room moved to another
 * floor, a group deleted).
 */
export async function groupResourceIds(groupId) {
  const list = await groupResources(groupId);
  return list.map((resource) => resource.id);
}

/** The live event types after which a group's membership must be read again. */
export const GROUP_EVENTS = ['resource_group_changed', 'resource_hierarchy_changed'];

/** "Building A · Floor 3 · Room 301" from the group's fields (empty parts skipped). */
export function placeLine(group) {
  return [
    group.building ? t('organise.building_is', { building: group.building }) : null,
    group.floor ? t('organise.floor_is', { floor: group.floor }) : null,
    group.room ? t('organise.room_is', { room: group.room }) : null,
  ].filter(Boolean).join(' · ');
}
