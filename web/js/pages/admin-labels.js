// `#/admin/labels`: the label editor for administrators — create a label (category, value,
// colour), change its colour or words, delete it (after confirmation; its assignments go with
// it), merge labels of one category into another (after a confirmation that says how many
// resources move; the server merges atomically), and set a resource's labels.

import { h, field, replace, button, flash, table, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, put, del } from '../api.js';
import { adminHeader, refuse, confirmButton } from './admin.js';
import { allLabels, labelChip, labelKey } from './organise.js';

const PERMISSION = 'resource:create';
const DEFAULT_COLOUR = '#6366f1';

export default async function render(view, ctx) {
  ctx.setTitle(t('organise.admin_labels_title'));
  if (refuse(view, PERMISSION)) return undefined;
  const message = h('div', { class: 'admin-message', 'aria-live': 'polite', 'data-test': 'label-admin-message' });
  const listBox = h('div', { class: 'label-admin-list' });
  const createBox = h('section', { class: 'card', 'aria-labelledby': 'label-create-heading' });
  const mergeBox = h('section', { class: 'card', 'aria-labelledby': 'label-merge-heading', 'data-test': 'label-merge' });
  const assignBox = h('section', { class: 'card', 'aria-labelledby': 'label-assign-heading', 'data-test': 'label-assign' });
  let labels = [];
  const say = (kind, words) => replace(message, flash(kind, words));

  function colourEditor(label) {
    const colour = h('input', { type: 'color', value: label.color, id: `label-colour-${label.id}`, 'data-test': 'label-colour', 'aria-label': t('organise.colour_of', { name: labelKey(label) }) });
    const save = button(t('organise.save'), async () => {
      try {
        await put(`/labels/${label.id}`, { color: colour.value });
        say('success', t('organise.label_saved', { name: labelKey(label) }));
        await reload();
      } catch (error) {
        say('error', error.message);
      }
    }, { 'data-test': 'label-colour-save', 'aria-label': t('organise.save_colour_of', { name: labelKey(label) }) });
    return h('span', { class: 'colour-edit' }, colour, save);
  }

  function deleteControl(label) {
    return confirmButton(t('organise.delete'), t('organise.delete_label_question', { name: labelKey(label), count: label.resource_count }), async () => {
      try {
        await del(`/labels/${label.id}`);
        say('success', t('organise.label_deleted', { name: labelKey(label) }));
        await reload();
      } catch (error) {
        say('error', error.message);
      }
    }, { attrs: { 'data-test': 'label-delete', 'aria-label': t('organise.delete_named', { name: labelKey(label) }) } });
  }

  function drawList() {
    replace(listBox, table([
      [t('organise.label'), (label) => labelChip(label)],
      [t('organise.category'), (label) => label.category],
      [t('organise.value'), (label) => label.value],
      [t('organise.resources_direct'), (label) => String(label.resource_count)],
      [t('organise.colour'), (label) => colourEditor(label)],
      [t('organise.actions'), (label) => deleteControl(label)],
    ], labels, {
      caption: t('organise.labels'),
      empty: t('organise.no_labels'),
      rowAttrs: (label) => ({ 'data-test': 'label-row', 'data-label-id': label.id, 'data-label': labelKey(label) }),
    }));
  }

  function drawCreate() {
    const form = h('form', { 'data-test': 'label-create-form' },
      h('div', { class: 'field-row' },
        field(t('organise.category'), { name: 'category', required: true, maxlength: 100, 'data-test': 'label-create-category', autocomplete: 'off' }),
        field(t('organise.value'), { name: 'value', required: true, maxlength: 200, 'data-test': 'label-create-value', autocomplete: 'off' }),
        field(t('organise.colour'), { type: 'color', name: 'color', value: DEFAULT_COLOUR, 'data-test': 'label-create-colour' })),
      field(t('organise.description'), { name: 'description', maxlength: 500, 'data-test': 'label-create-description' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'label-create-submit' }, t('organise.create_label'))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = formValues(form);
      try {
        const label = await post('/labels', {
          category: values.category.trim(), value: values.value.trim(), color: values.color,
          description: values.description.trim() || undefined,
        });
        say('success', t('organise.label_created', { name: labelKey(label) }));
        form.reset();
        await reload();
      } catch (error) {
        say('error', error.message);
      }
    });
    replace(createBox, h('h2', { id: 'label-create-heading' }, t('organise.create_label')), form);
  }

  function drawMerge() {
    const target = field(t('organise.merge_target'), {
      tag: 'select', name: 'target', 'data-test': 'label-merge-target',
      options: [['', t('organise.pick_label')], ...labels.map((label) => [String(label.id), labelKey(label)])],
    });
    const targetSelect = target.querySelector('select');
    const sources = h('fieldset', { class: 'merge-sources', 'data-test': 'label-merge-sources' });
    const result = h('div', { 'aria-live': 'polite' });
    function drawSources() {
      const chosen = labels.find((label) => String(label.id) === targetSelect.value);
      const same = chosen ? labels.filter((label) => label.category === chosen.category && label.id !== chosen.id) : [];
      replace(sources, h('legend', {}, t('organise.merge_sources')),
        !chosen ? h('p', { class: 'muted' }, t('organise.merge_pick_target'))
          : same.length ? same.map((label) => h('label', { class: 'check' },
            h('input', { type: 'checkbox', name: 'source', value: label.id, 'data-test': 'label-merge-source', 'data-label': labelKey(label) }),
            labelChip(label), ' ', t('organise.resource_count', { count: label.resource_count })))
            : h('p', { class: 'muted' }, t('organise.merge_none', { category: chosen.category })));
      replace(result);
    }
    targetSelect.addEventListener('change', drawSources);
    const go = button(t('organise.merge'), async () => {
      const chosen = labels.find((label) => String(label.id) === targetSelect.value);
      const picked = [...sources.querySelectorAll('input[name="source"]:checked')].map((input) => Number(input.value));
      if (!chosen || !picked.length) {
        replace(result, flash('error', t('organise.merge_pick_both')));
        return;
      }
      const moving = labels.filter((label) => picked.includes(label.id));
      const count = moving.reduce((sum, label) => sum + label.resource_count, 0);
      // Ask first, in place: what goes into what, and how many resources that touches.
      const confirm = confirmButton(t('organise.merge_confirm'), t('organise.merge_question', {
        sources: moving.map(labelKey).join(', '), target: labelKey(chosen), count,
      }), async () => {
        try {
          const merged = await post('/labels/merge', { source_label_ids: picked, target_label_id: chosen.id });
          say('success', t('organise.merged', { name: labelKey(merged), count: merged.resource_count }));
          await reload();
        } catch (error) {
          replace(result, flash('error', error.message));
        }
      }, { attrs: { 'data-test': 'label-merge-confirm' } });
      replace(result, confirm);
      confirm.querySelector('button')?.click();
    }, { 'data-test': 'label-merge-submit' });
    replace(mergeBox,
      h('h2', { id: 'label-merge-heading' }, t('organise.merge_title')),
      h('p', { class: 'muted' }, t('organise.merge_help')),
      target, sources, h('div', { class: 'actions' }, go), result);
    drawSources();
  }

  async function drawAssign() {
    const body = await get('/resources/search', { status: 'all', limit: 100 }).catch(() => ({ data: [] }));
    const resources = body.data || [];
    const resourceField = field(t('organise.resource'), {
      tag: 'select', name: 'resource', 'data-test': 'label-assign-resource',
      options: [['', t('organise.pick_resource')], ...resources.map((resource) => [String(resource.id), resource.name])],
    });
    const select = resourceField.querySelector('select');
    const boxes = h('fieldset', { class: 'assign-labels', 'data-test': 'label-assign-labels' });
    async function drawBoxes() {
      if (!select.value) {
        replace(boxes, h('legend', {}, t('organise.labels')), h('p', { class: 'muted' }, t('organise.pick_resource')));
        return;
      }
      const current = await get(`/labels/resources/${select.value}`).catch(() => []);
      const have = new Set(current.map((label) => label.id));
      replace(boxes, h('legend', {}, t('organise.labels')), labels.map((label) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'label', value: label.id, checked: have.has(label.id), 'data-test': 'label-assign-check', 'data-label': labelKey(label) }),
        labelChip(label))));
    }
    select.addEventListener('change', drawBoxes);
    const save = button(t('organise.save_labels'), async () => {
      if (!select.value) return;
      const ids = [...boxes.querySelectorAll('input[name="label"]:checked')].map((input) => Number(input.value));
      try {
        await put(`/labels/resources/${select.value}`, { label_ids: ids });
        say('success', t('organise.labels_saved'));
        labels = await allLabels();
        drawList();
      } catch (error) {
        say('error', error.message);
      }
    }, { 'data-test': 'label-assign-submit' });
    replace(assignBox, h('h2', { id: 'label-assign-heading' }, t('organise.assign_title')), resourceField, boxes, h('div', { class: 'actions' }, save));
    await drawBoxes();
  }

  async function reload() {
    labels = await allLabels();
    drawList();
    drawMerge();
    await drawAssign();
  }

  replace(view,
    adminHeader(t('organise.admin_labels_title')),
    h('p', {}, h('a', { href: '#/admin/groups', 'data-test': 'admin-groups-link' }, t('organise.admin_groups_title'))),
    message, listBox, createBox, mergeBox, assignBox);
  drawCreate();
  await reload();
  return undefined;
}
