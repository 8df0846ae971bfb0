// `#/account`: the signed-in user's profile — who they are and their roles, the e-mail address
// (set it, then confirm it with the code the server mails; a server without e-mail says so in
// words), and the notification preferences. Also the tab bar shared by the account pages.

import { h, field, replace, flash, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, put, post, patch, ApiError } from '../api.js';
import { session, can } from '../session.js';

const TABS = [
  { hash: '#/account', key: 'tab_profile', test: 'tab-profile' },
  { hash: '#/account/security', key: 'tab_security', test: 'tab-security' },
  { hash: '#/account/webhooks', key: 'tab_webhooks', test: 'tab-webhooks', permission: 'webhook:manage' },
  { hash: '#/account/oauth', key: 'tab_oauth', test: 'tab-oauth', permission: 'oauth_client:manage' },
];

/** The account pages' heading and tab bar, `current` being the hash of the page shown. */
export function accountHeader(current, title) {
  return [
    h('h1', {}, title),
    h('nav', { class: 'tabs', 'aria-label': t('account.tabs_label') },
      TABS.filter((tab) => !tab.permission || can(tab.permission)).map((tab) => h('a', {
        href: tab.hash, 'data-test': tab.test, 'aria-current': tab.hash === current ? 'page' : null,
      }, t(`account.${tab.key}`)))),
  ];
}

/** A live status line: `.say(kind, words)` shows a message in it (or clears it). */
export function statusLine() {
  const element = h('div', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
  element.say = (kind, words) => replace(element, words ? flash(kind, words) : null);
  return element;
}

/**
 * A text that is shown once (a secret, backup codes), with a copy button. `lines` is a string
 * or a list of lines; `test` marks the shown value.
 */
export function secretBox(lines, { test, label } = {}) {
  const text = [lines].flat().join('\n');
  const shown = Array.isArray(lines)
    ? h('ul', { class: 'secret-list', 'data-test': test, 'aria-label': label }, lines.map((line) => h('li', {}, h('code', {}, line))))
    : h('code', { class: 'secret', 'data-test': test, 'aria-label': label }, text);
  const status = statusLine();
  const copy = h('button', { type: 'button', class: 'btn', 'data-test': 'copy' }, t('account.copy'));
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.say('success', t('account.copied'));
    } catch {
      // Without clipboard access (an insecure origin), select the text for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(shown);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.say('info', t('account.copy_manually'));
    }
  });
  return h('div', { class: 'secret-box' }, shown, h('div', { class: 'actions' }, copy), status);
}

/** The words of an e-mail call's failure: a server without e-mail (501) is said in the page's language. */
function emailError(error) {
  if (error instanceof ApiError && error.status === 501) return t('account.email_disabled');
  if (error instanceof ApiError && error.message === 'Invalid or expired verification code') return t('account.email_bad_code');
  return error.message;
}

function emailSection(me, redraw) {
  const status = statusLine();
  const setForm = h('form', { 'data-test': 'email-form' },
    field(t('account.email'), { type: 'email', name: 'email', required: true, autocomplete: 'email', value: me.email || '', 'data-test': 'email-input' }),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'email-submit' }, me.email ? t('account.email_change') : t('account.email_set')));
  const verifyForm = h('form', { 'data-test': 'email-verify-form' },
    field(t('account.email_code'), { name: 'code', required: true, autocomplete: 'one-time-code', hint: t('account.email_code_hint'), 'data-test': 'email-code' }),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'email-verify' }, t('account.email_verify')));

  const submitting = (form, work) => async (event) => {
    event.preventDefault();
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      await work(formValues(form));
    } catch (error) {
      status.say('error', emailError(error));
    } finally {
      submit.disabled = false;
    }
  };
  setForm.addEventListener('submit', submitting(setForm, async ({ email }) => {
    const answer = await put('/users/me/email', { email: email.trim() });
    redraw(answer, ['success', t('account.email_sent', { email: answer.email || email })]);
  }));
  verifyForm.addEventListener('submit', submitting(verifyForm, async ({ code }) => {
    const answer = await post('/users/me/email/verify', { code: code.trim() });
    redraw(answer, ['success', t('account.email_verified_done')]);
  }));

  const state = !me.email
    ? h('p', { class: 'hint' }, t('account.email_none'))
    : h('p', {}, h('span', { 'data-test': 'email-address' }, me.email), ' ',
      h('span', { class: `badge ${me.email_verified ? 'badge-free' : 'badge-pending'}`, 'data-test': 'email-state' },
        me.email_verified ? t('account.email_verified') : t('account.email_unverified')));
  return h('section', { class: 'card', 'aria-labelledby': 'email-h' },
    h('h2', { id: 'email-h' }, t('account.email_title')),
    state,
    setForm,
    me.email && !me.email_verified ? verifyForm : null,
    status);
}

function preferencesSection(me, redraw) {
  const status = statusLine();
  const form = h('form', { 'data-test': 'preferences-form' },
    h('div', { class: 'check' },
      h('input', { type: 'checkbox', id: 'pref-email', name: 'email_notifications', checked: !!me.email_notifications, 'data-test': 'pref-email' }),
      h('label', { for: 'pref-email' }, t('account.pref_email'))),
    field(t('account.pref_reminder'), { type: 'number', name: 'reminder_hours', min: 1, max: 168, value: me.reminder_hours ?? 24, hint: t('account.pref_reminder_hint'), 'data-test': 'pref-reminder' }),
    h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'pref-save' }, t('core.save')),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const answer = await patch('/users/me/preferences', {
        email_notifications: values.email_notifications,
        reminder_hours: Number(values.reminder_hours),
      });
      redraw(answer, null, ['success', t('account.pref_saved')]);
    } catch (error) {
      status.say('error', error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'pref-h' }, h('h2', { id: 'pref-h' }, t('account.pref_title')), form);
}

export default async function render(view, ctx) {
  ctx.setTitle(t('account.title'));
  const me = await get('/users/me');
  const roles = session()?.roles || [];

  const draw = (current, emailMessage, prefMessage) => {
    const email = emailSection(current, draw);
    const prefs = preferencesSection(current, draw);
    replace(view,
      accountHeader('#/account', t('account.title')),
      h('section', { class: 'card profile', 'aria-labelledby': 'profile-h' },
        h('h2', { id: 'profile-h' }, t('account.profile')),
        h('dl', { class: 'detail-list' },
          h('dt', {}, t('account.username')), h('dd', { 'data-test': 'profile-username' }, current.username),
          h('dt', {}, t('account.roles')), h('dd', {}, roles.length ? roles.map((role) => h('span', { class: 'chip' }, typeof role === 'string' ? role : role.name)) : '—'),
          h('dt', {}, t('account.mfa')), h('dd', {}, current.mfa_enabled ? t('account.mfa_on') : t('account.mfa_off'), ' · ', h('a', { href: '#/account/security' }, t('account.mfa_manage'))))),
      h('div', { class: 'account-columns' }, email, prefs));
    if (emailMessage) email.querySelector('.status-line').say(...emailMessage);
    if (prefMessage) prefs.querySelector('.status-line').say(...prefMessage);
  };
  draw(me);
}
