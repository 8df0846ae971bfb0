// `#/account/webhooks`: the user's webhooks — create one (its signing secret is shown once),
// edit its address, events and description, pause and resume it, send a test, read its
// delivery log with each delivery's status, and send a failed or pending delivery again.

import { h, field, replace, button, table, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, patch, del } from '../api.js';
import { formatDateTime } from '../format.js';
import { accountHeader, statusLine, secretBox } from './account.js';
import { confirmButton } from './admin.js';

/** The server's reason without its own "… failed:" lead-in (the page says that in words). */
const reasonOf = (message) => String(message || '').replace(/^.*failed:\s*/i, '');

const STATUS_BADGE = { delivered: 'badge-free', failed: 'badge-busy', pending: 'badge-pending' };

/** The event's description in the page's language (the server's English one otherwise). */
const eventWords = (event) => t(`account.event_${event.type.replace('.', '_')}`, {}, event.description);

/** Checkboxes for the events, `chosen` ticked, in a fieldset with a legend. */
function eventBoxes(events, chosen, prefix) {
  return h('fieldset', { class: 'event-boxes' },
    h('legend', {}, t('account.webhook_events')),
    events.map((event) => {
      const id = `${prefix}-${event.type.replace('.', '-')}`;
      return h('div', { class: 'check' },
        h('input', { type: 'checkbox', id, name: `event:${event.type}`, value: event.type, checked: chosen.includes(event.type), 'data-test': 'webhook-event' }),
        h('label', { for: id }, h('code', {}, event.type), ' — ', eventWords(event)));
    }));
}

const chosenEvents = (form) => [...form.querySelectorAll('input[name^="event:"]:checked')].map((box) => box.value);

function secretPanel(webhook, level = 'h2') {
  return h('div', { class: 'card secret-panel', 'data-test': 'webhook-secret-panel' },
    h(level, {}, t('account.webhook_secret_title')),
    h('p', {}, t('account.webhook_secret_once')),
    secretBox(webhook.secret, { test: 'webhook-secret', label: t('account.webhook_secret_title') }));
}

function deliveryLog(webhook, holder) {
  const status = statusLine();
  const load = async () => {
    let rows;
    try {
      rows = await get(`/webhooks/${webhook.id}/deliveries`, { limit: 50 });
    } catch (error) {
      status.say('error', error.message);
      return;
    }
    replace(holder,
      h('h4', {}, t('account.deliveries_title')),
      status,
      table([
        [t('account.delivery_time'), (d) => formatDateTime(d.created_at)],
        [t('account.delivery_event'), (d) => h('code', {}, d.event_type)],
        [t('account.delivery_status'), (d) => h('span', { class: `badge ${STATUS_BADGE[d.status] || ''}`, 'data-test': 'delivery-status', 'data-status': d.status }, t(`account.delivery_${d.status}`, {}, d.status))],
        [t('account.delivery_code'), (d) => (d.status_code != null ? String(d.status_code) : '—')],
        [t('account.delivery_error'), (d) => d.error_message || '—'],
        [t('account.delivery_retries'), (d) => String(d.retry_count)],
        [t('account.actions'), (d) => (d.status === 'delivered' ? '' : button(t('core.retry'), async () => {
          const answer = await post(`/webhooks/${webhook.id}/deliveries/${d.id}/retry`);
          await load();
          status.say(answer.success ? 'success' : 'error', answer.success ? t('account.retry_ok') : t('account.retry_failed', { reason: reasonOf(answer.message) }));
        }, { 'data-test': 'delivery-retry' }))],
      ], rows, { caption: t('account.deliveries_caption', { url: webhook.url }), empty: t('account.deliveries_none'), rowAttrs: (d) => ({ 'data-test': 'delivery-row', 'data-delivery-id': d.id }) }),
      button(t('account.deliveries_refresh'), load));
  };
  return load;
}

function webhookCard(webhook, events, reload, pageStatus, clearCreated) {
  const card = h('article', { class: 'card webhook', 'data-test': 'webhook', 'data-webhook-id': webhook.id });
  const status = statusLine();
  const extra = h('div', { class: 'webhook-extra' });
  const log = h('div', { class: 'delivery-log' });
  const loadLog = deliveryLog(webhook, log);

  const edit = () => {
    const form = h('form', { class: 'webhook-edit' },
      field(t('account.webhook_url'), { type: 'url', name: 'url', required: true, value: webhook.url }),
      field(t('account.webhook_description'), { name: 'description', value: webhook.description || '', maxlength: 500 }),
      eventBoxes(events, webhook.events, `edit-${webhook.id}`),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary' }, t('core.save')),
        h('button', { type: 'button', class: 'btn', onclick: () => replace(extra) }, t('core.cancel'))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const values = formValues(form);
      try {
        await patch(`/webhooks/${webhook.id}`, { url: values.url.trim(), description: values.description, events: chosenEvents(form) });
        pageStatus.say('success', t('account.webhook_saved'));
        await reload();
      } catch (error) {
        status.say('error', error.message);
      }
    });
    replace(extra, form);
  };

  replace(card,
    h('h3', {}, h('span', { class: 'webhook-url' }, webhook.url), ' ',
      h('span', { class: `badge ${webhook.is_active ? 'badge-free' : 'badge-closed'}`, 'data-test': 'webhook-state' }, webhook.is_active ? t('account.webhook_active') : t('account.webhook_paused'))),
    webhook.description ? h('p', {}, webhook.description) : null,
    h('p', {}, webhook.events.map((event) => h('span', { class: 'chip' }, event))),
    h('div', { class: 'actions' },
      button(t('account.webhook_test'), async () => {
        const answer = await post(`/webhooks/${webhook.id}/test`);
        status.say(answer.success ? 'success' : 'error', answer.success ? t('account.webhook_test_ok') : t('account.webhook_test_failed', { reason: reasonOf(answer.message) }));
        await loadLog();
      }, { 'data-test': 'webhook-test' }),
      button(t('account.deliveries_show'), loadLog, { 'data-test': 'webhook-deliveries' }),
      button(t('core.edit'), edit, { 'data-test': 'webhook-edit' }),
      button(webhook.is_active ? t('account.webhook_pause') : t('account.webhook_resume'), async () => {
        await patch(`/webhooks/${webhook.id}`, { is_active: !webhook.is_active });
        await reload();
      }, { 'data-test': 'webhook-toggle' }),
      confirmButton(t('account.webhook_new_secret'), t('account.webhook_new_secret_question'), async () => {
        try {
          const answer = await post(`/webhooks/${webhook.id}/regenerate-secret`);
          clearCreated();
          replace(extra, secretPanel(answer, 'h4'));
        } catch (error) {
          status.say('error', error.message);
        }
      }, { danger: false, attrs: { 'data-test': 'webhook-regenerate' } }),
      deleteButton(webhook, reload, pageStatus)),
    status,
    extra,
    log);
  return card;
}

function deleteButton(webhook, reload, pageStatus) {
  const holder = h('span', {});
  const start = h('button', { type: 'button', class: 'btn btn-danger', 'data-test': 'webhook-delete' }, t('core.delete'));
  start.addEventListener('click', () => {
    replace(holder, h('span', { class: 'confirm-question' }, t('account.webhook_delete_question', { url: webhook.url }), ' ',
      button(t('core.delete'), async () => {
        await del(`/webhooks/${webhook.id}`);
        pageStatus.say('success', t('account.webhook_deleted'));
        await reload();
      }, { class: 'btn btn-danger', 'data-test': 'confirm-yes' }),
      h('button', { type: 'button', class: 'btn', 'data-test': 'confirm-no', onclick: () => replace(holder, start) }, t('core.cancel'))));
  });
  return replace(holder, start);
}

export default async function render(view, ctx) {
  ctx.setTitle(t('account.webhooks_title'));
  const events = await get('/webhooks/events');
  const pageStatus = statusLine();
  const list = h('div', { class: 'webhook-list' });
  const created = h('div', {});

  const reload = async () => {
    const hooks = await get('/webhooks');
    replace(list, hooks.length
      ? hooks.map((hook) => webhookCard(hook, events, reload, pageStatus, () => replace(created)))
      : h('p', { class: 'empty' }, t('account.webhooks_none')));
  };

  const createStatus = statusLine();
  const form = h('form', { 'data-test': 'webhook-create' },
    field(t('account.webhook_url'), { type: 'url', name: 'url', required: true, placeholder: 'https://example.com/hooks/reserver', hint: t('account.webhook_url_hint'), 'data-test': 'webhook-url' }),
    field(t('account.webhook_description'), { name: 'description', maxlength: 500, 'data-test': 'webhook-description' }),
    eventBoxes(events, ['reservation.created', 'reservation.cancelled'], 'new'),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'webhook-create-submit' }, t('account.webhook_create')),
    createStatus);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const chosen = chosenEvents(form);
    if (!chosen.length) {
      createStatus.say('error', t('account.webhook_need_event'));
      return;
    }
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const webhook = await post('/webhooks', { url: values.url.trim(), events: chosen, description: values.description.trim() || null });
      form.reset();
      createStatus.say('success', t('account.webhook_created'));
      replace(created, secretPanel(webhook));
      await reload();
    } catch (error) {
      createStatus.say('error', error.message);
    } finally {
      submit.disabled = false;
    }
  });

  await reload();
  replace(view,
    accountHeader('#/account/webhooks', t('account.webhooks_title')),
    h('p', { class: 'hint' }, t('account.webhooks_explain')),
    pageStatus,
    created,
    h('section', { 'aria-labelledby': 'hooks-h' }, h('h2', { id: 'hooks-h' }, t('account.webhooks_list')), list),
    h('section', { class: 'card', 'aria-labelledby': 'new-hook-h' }, h('h2', { id: 'new-hook-h' }, t('account.webhook_new')), form));
}
