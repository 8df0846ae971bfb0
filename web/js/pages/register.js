// Registration: a new account with the `user` role (the server's username and password rules,
// every failed rule shown), then signed in.

import { h, field, formValues, flash, replace } from '../dom.js';
import { t } from '../i18n.js';
import { post } from '../api.js';
import { signIn, session } from '../session.js';
import { afterSignIn } from '../app.js';
import { safeNext } from './signin.js';

export default async function render(view, ctx) {
  ctx.setTitle(t('auth.register_title'));
  const next = safeNext(ctx.query.next);
  if (session()) {
    ctx.navigate(next);
    return;
  }
  const messages = h('div', { class: 'form-messages' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'register-submit' }, t('auth.register_submit'));
  const form = h('form', { class: 'auth-form', novalidate: true },
    field(t('auth.username'), {
      name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 50,
      autocapitalize: 'none', spellcheck: 'false', 'data-test': 'register-username', hint: t('auth.username_rule'),
    }),
    field(t('auth.password'), {
      name: 'password', type: 'password', autocomplete: 'new-password', required: true,
      'data-test': 'register-password', hint: t('auth.password_rule'),
    }),
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const username = values.username.trim();
    if (!username || !values.password) {
      replace(messages, flash('error', t('auth.fill_both')));
      return;
    }
    submit.disabled = true;
    try {
      await post('/register', { username, password: values.password });
    } catch (error) {
      submit.disabled = false;
      replace(messages, flash('error', error.message));
      return;
    }
    try {
      await signIn({ username, password: values.password });
      await afterSignIn(next);
    } catch (error) {
      // The account exists; an MFA-free new account normally signs in at once.
      ctx.navigate('/signin?registered=1');
    }
  });

  const query = next !== '/' ? `?next=${encodeURIComponent(next)}` : '';
  replace(view,
    h('section', { class: 'auth-page' },
      h('h1', {}, t('auth.register_title')),
      messages,
      form,
      h('p', {}, t('auth.have_account'), ' ', h('a', { href: `#/signin${query}` }, t('core.sign_in')))));
  form.querySelector('input').focus();
}
