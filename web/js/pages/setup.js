// First-run setup from the browser: the first administrator's account, with the setup token
// the server asks for when the page is not opened on the server's own machine.

import { h, field, formValues, flash, replace } from '../dom.js';
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { signIn } from '../session.js';
import { afterSignIn } from '../app.js';

export default async function render(view, ctx) {
  ctx.setTitle(t('auth.setup_title'));
  let status;
  try {
    status = await get('/setup/status');
  } catch (error) {
    replace(view, h('h1', {}, t('auth.setup_title')), flash('error', error.message));
    return;
  }
  if (status.setup_complete && !status.setup_reopened) {
    ctx.navigate('/signin');
    return;
  }
  const reopened = !!status.setup_reopened;
  const messages = h('div', { class: 'form-messages' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'setup-submit' }, t('auth.setup_submit'));
  const tokenField = field(t('auth.setup_token'), {
    name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', 'data-test': 'setup-token',
    hint: reopened ? t('auth.setup_token_hint_reopened') : t('auth.setup_token_hint'),
  });
  const form = h('form', { class: 'auth-form', novalidate: true },
    field(t('auth.username'), {
      name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 50,
      autocapitalize: 'none', spellcheck: 'false', 'data-test': 'setup-username', hint: t('auth.username_rule'),
    }),
    field(t('auth.password'), {
      name: 'password', type: 'password', autocomplete: 'new-password', required: true,
      'data-test': 'setup-password', hint: t('auth.password_rule'),
    }),
    tokenField,
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (!values.username.trim() || !values.password) {
      replace(messages, flash('error', t('auth.fill_both')));
      return;
    }
    submit.disabled = true;
    replace(messages, h('p', { class: 'hint', role: 'status' }, t('auth.setup_working')));
    const token = values.token.trim();
    try {
      await post('/setup/initialize', { username: values.username.trim(), password: values.password },
        { headers: token ? { 'X-Setup-Token': token } : {} });
    } catch (error) {
      submit.disabled = false;
      replace(messages, flash('error', error.message));
      if (error.status === 403) tokenField.querySelector('input').focus();
      return;
    }
    try {
      await signIn({ username: values.username.trim(), password: values.password });
      await afterSignIn('/');
    } catch (error) {
      submit.disabled = false;
      replace(messages, flash('success', t('auth.setup_done_signin')), flash('error', error.message));
    }
  });

  replace(view,
    h('section', { class: 'auth-page' },
      h('h1', {}, t('auth.setup_title')),
      h('p', {}, reopened ? t('auth.setup_intro_reopened') : t('auth.setup_intro')),
      messages,
      form));
}
