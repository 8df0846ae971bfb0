// `#/account/oauth`: the user's OAuth2 clients (apps that act for them with a limited scope) —
// register one (its client secret is shown once), list them, delete one (which ends its
// tokens).

import { h, field, replace, button, table, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del } from '../api.js';
import { formatDateTime } from '../format.js';
import { accountHeader, statusLine, secretBox } from './account.js';

const GRANTS = ['authorization_code', 'client_credentials', 'refresh_token'];
const SCOPES = ['read', 'write', 'delete', 'admin', 'user:profile'];
const DEFAULT_GRANTS = ['authorization_code', 'client_credentials'];
const DEFAULT_SCOPES = ['read', 'write'];

const words = (text) => String(text || '').split(/\s+/).filter(Boolean);
/** The redirect URIs as a list (the server may hand back the stored JSON text). */
function uris(value) {
  if (typeof value === 'string') {
    try {
      return [JSON.parse(value)].flat();
    } catch {
      return [value];
    }
  }
  return [value].flat().filter(Boolean);
}
const keyOf = (value) => value.replace(/[^a-z]/g, '_');

function boxes(legend, name, values, chosen, describe) {
  return h('fieldset', { class: 'choice-boxes' },
    h('legend', {}, legend),
    values.map((value) => {
      const id = `oauth-${name}-${keyOf(value)}`;
      return h('div', { class: 'check' },
        h('input', { type: 'checkbox', id, name: `${name}:${value}`, value, checked: chosen.includes(value), 'data-test': `oauth-${name}` }),
        h('label', { for: id }, h('code', {}, value), ' — ', describe(value)));
    }));
}

const checked = (form, name) => [...form.querySelectorAll(`input[name^="${name}:"]:checked`)].map((box) => box.value);

function createdPanel(client) {
  return h('div', { class: 'card secret-panel', 'data-test': 'oauth-created' },
    h('h2', {}, t('account.oauth_created_title', { name: client.client_name })),
    h('p', {}, t('account.oauth_secret_once')),
    h('h3', {}, t('account.oauth_client_id')),
    secretBox(client.client_id, { test: 'oauth-client-id', label: t('account.oauth_client_id') }),
    h('h3', {}, t('account.oauth_client_secret')),
    secretBox(client.client_secret, { test: 'oauth-client-secret', label: t('account.oauth_client_secret') }));
}

export default async function render(view, ctx) {
  ctx.setTitle(t('account.oauth_title'));
  const list = h('div', { class: 'oauth-list' });
  const created = h('div', {});
  const listStatus = statusLine();

  const reload = async () => {
    const clients = await get('/oauth/clients');
    replace(list, table([
      [t('account.oauth_name'), (c) => c.client_name],
      [t('account.oauth_client_id'), (c) => h('code', {}, c.client_id)],
      [t('account.oauth_redirects'), (c) => h('ul', { class: 'plain-list' }, uris(c.redirect_uris).map((uri) => h('li', {}, uri)))],
      [t('account.oauth_grants'), (c) => words(c.grant_types).map((g) => h('span', { class: 'chip' }, g))],
      [t('account.oauth_scopes'), (c) => words(c.scope).map((s) => h('span', { class: 'chip' }, s))],
      [t('account.oauth_created_at'), (c) => (c.created_at ? formatDateTime(c.created_at) : '—')],
      [t('account.actions'), (c) => deleteButton(c)],
    ], clients, { caption: t('account.oauth_list'), empty: t('account.oauth_none'), rowAttrs: (c) => ({ 'data-test': 'oauth-client', 'data-client-id': c.client_id }) }));
  };

  function deleteButton(client) {
    const holder = h('span', {});
    const start = h('button', { type: 'button', class: 'btn btn-danger', 'data-test': 'oauth-delete' }, t('core.delete'));
    start.addEventListener('click', () => {
      replace(holder, h('span', { class: 'confirm-question' }, t('account.oauth_delete_question', { name: client.client_name }), ' ',
        button(t('core.delete'), async () => {
          await del(`/oauth/clients/${encodeURIComponent(client.client_id)}`);
          listStatus.say('success', t('account.oauth_deleted', { name: client.client_name }));
          await reload();
        }, { class: 'btn btn-danger', 'data-test': 'confirm-yes' }),
        h('button', { type: 'button', class: 'btn', 'data-test': 'confirm-no', onclick: () => replace(holder, start) }, t('core.cancel'))));
    });
    return replace(holder, start);
  }

  const status = statusLine();
  const form = h('form', { 'data-test': 'oauth-create' },
    field(t('account.oauth_name'), { name: 'client_name', required: true, maxlength: 255, 'data-test': 'oauth-name' }),
    field(t('account.oauth_redirects'), { tag: 'textarea', name: 'redirect_uris', rows: 3, required: true, placeholder: 'https://app.example.com/callback', hint: t('account.oauth_redirects_hint'), 'data-test': 'oauth-redirects' }),
    boxes(t('account.oauth_grants'), 'grant', GRANTS, DEFAULT_GRANTS, (g) => t(`account.grant_${g}`)),
    boxes(t('account.oauth_scopes'), 'scope', SCOPES, DEFAULT_SCOPES, (s) => t(`account.scope_${keyOf(s)}`)),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'oauth-create-submit' }, t('account.oauth_create')),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const grants = checked(form, 'grant');
    const scopes = checked(form, 'scope');
    if (!grants.length || !scopes.length) {
      status.say('error', t('account.oauth_need_choice'));
      return;
    }
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const client = await post('/oauth/clients', {
        client_name: values.client_name.trim(),
        redirect_uris: values.redirect_uris.split(/\s+/).map((uri) => uri.trim()).filter(Boolean),
        grant_types: grants.join(' '),
        scope: scopes.join(' '),
      });
      form.reset();
      status.say('success', t('account.oauth_created'));
      replace(created, createdPanel(client));
      await reload();
    } catch (error) {
      status.say('error', error.message);
    } finally {
      submit.disabled = false;
    }
  });

  await reload();
  replace(view,
    accountHeader('#/account/oauth', t('account.oauth_title')),
    h('p', { class: 'hint' }, t('account.oauth_explain')),
    created,
    h('section', { 'aria-labelledby': 'clients-h' }, h('h2', { id: 'clients-h' }, t('account.oauth_list')), listStatus, list),
    h('section', { class: 'card', 'aria-labelledby': 'new-client-h' }, h('h2', { id: 'new-client-h' }, t('account.oauth_new')), form));
}
