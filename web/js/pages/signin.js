// Sign-in: username and password, then — when the account has MFA — the one-time code (or a
// backup code). Goes back to `?next=` (a hash path) afterwards.

import { h, field, formValues, flash, replace } from '../dom.js';
import { t } from '../i18n.js';
import { get } from '../api.js';
import { signIn, session } from '../session.js';
import { afterSignIn } from '../app.js';

/** The hash path to go to after signing in: `next` when it is one of ours, else the overview. */
export function safeNext(next) {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//')) return '/';
  if (/^\/(signin|setup|register)(\/|\?|$)/.test(next)) return '/';
  return next;
}

export default async function render(view, ctx) {
  ctx.setTitle(t('auth.signin_title'));
  const next = safeNext(ctx.query.next);
  if (session()) {
    ctx.navigate(next);
    return;
  }
  const status = await get('/setup/status').catch(() => null);
  if (status && !status.setup_complete && !status.setup_reopened) {
    ctx.navigate('/setup');
    return;
  }

  const messages = h('div', { class: 'form-messages' });
  if (ctx.query.registered === '1') replace(messages, flash('success', t('auth.registered')));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'signin-submit' }, t('core.sign_in'));
  const mfaSlot = h('div', {});
  let mfaInput = null;

  const form = h('form', { class: 'auth-form', novalidate: true },
    field(t('auth.username'), {
      name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false',
      'data-test': 'signin-username',
    }),
    field(t('auth.password'), {
      name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-test': 'signin-password',
    }),
    mfaSlot,
    h('div', { class: 'actions' }, submit));

  function showMfa() {
    if (mfaInput) return;
    const wrapper = field(t('auth.mfa_code'), {
      name: 'mfa_code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true,
      spellcheck: 'false', autocapitalize: 'none', maxlength: 32, 'data-test': 'signin-mfa-code', hint: t('auth.mfa_hint'),
    });
    mfaInput = wrapper.querySelector('input');
    replace(mfaSlot, wrapper);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const username = values.username.trim();
    if (!username || !values.password) {
      replace(messages, flash('error', t('auth.fill_both')));
      return;
    }
    if (mfaInput && !values.mfa_code.trim()) {
      replace(messages, flash('error', t('auth.mfa_needed')));
      mfaInput.focus();
      return;
    }
    submit.disabled = true;
    try {
      await signIn({ username, password: values.password, mfa_code: mfaInput ? values.mfa_code.replace(/\s+/g, '') : undefined });
      replace(messages);
      await afterSignIn(next);
    } catch (error) {
      submit.disabled = false;
      if (error.mfaRequired) {
        const first = !mfaInput;
        showMfa();
        replace(messages, first ? h('p', { class: 'hint mfa-prompt', role: 'status' }, t('auth.mfa_needed')) : flash('error', error.message));
        mfaInput.value = '';
        mfaInput.focus();
        return;
      }
      replace(messages, flash('error', error.message));
    }
  });

  const query = next !== '/' ? `?next=${encodeURIComponent(next)}` : '';
  replace(view,
    h('section', { class: 'auth-page' },
      h('h1', {}, t('auth.signin_title')),
      messages,
      form,
      h('p', {}, t('auth.no_account'), ' ', h('a', { href: `#/register${query}`, 'data-test': 'register-link' }, t('core.register')))));
  form.querySelector('input').focus();
}
