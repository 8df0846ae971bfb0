// `#/account/security`: two-step sign-in (MFA). Setting up shows the QR code the server drew
// (an SVG `data:` URL, allowed by the page's `img-src 'self' data:`), the secret for typing in
// by hand, and the ten backup codes (shown once, with a copy button); a current code from the
// app enables it. With MFA on, new backup codes and turning it off need the password and a
// current code again.

import { h, field, replace, flash, formValues } from '../dom.js';
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { accountHeader, statusLine, secretBox } from './account.js';

function backupCodes(codes) {
  return h('div', { class: 'backup-codes' },
    h('h3', {}, t('account.backup_title')),
    h('p', { class: 'hint' }, t('account.backup_once')),
    secretBox(codes, { test: 'mfa-backup-codes', label: t('account.backup_title') }));
}

/** Not enrolled: the setup button, then the QR code, the secret and the code to enable it. */
function setupSection(redraw) {
  const status = statusLine();
  const holder = h('div', { class: 'mfa-enrolment' });
  const start = h('button', { type: 'button', class: 'btn btn-primary', 'data-test': 'mfa-setup' }, t('account.mfa_setup'));

  start.addEventListener('click', async () => {
    start.disabled = true;
    let setup;
    try {
      setup = await post('/auth/mfa/setup');
    } catch (error) {
      status.say('error', error.message);
      start.disabled = false;
      return;
    }
    start.textContent = t('account.mfa_restart');
    start.className = 'btn';
    start.disabled = false;
    const form = h('form', { class: 'mfa-enable-form' },
      field(t('account.mfa_code'), {
        name: 'code', required: true, inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6,
        hint: t('account.mfa_code_hint'), 'data-test': 'mfa-code',
      }),
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-test': 'mfa-enable' }, t('account.mfa_enable')));
    const codes = backupCodes(setup.backup_codes || []);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const submit = form.querySelector('button[type=submit]');
      submit.disabled = true;
      try {
        await post('/auth/mfa/verify', { code: formValues(form).code.trim() });
        // The backup codes stay on screen: this is the last time they can be seen.
        redraw(true, codes);
      } catch (error) {
        status.say('error', error.message === 'Invalid MFA code' ? t('account.mfa_invalid_code') : error.message);
        submit.disabled = false;
      }
    });
    replace(holder,
      h('ol', { class: 'mfa-steps' },
        h('li', {}, t('account.mfa_step_scan'),
          h('div', { class: 'mfa-qr' }, h('img', { src: setup.qr_code, alt: t('account.mfa_qr_alt'), width: 200, height: 200, 'data-test': 'mfa-qr' }))),
        h('li', {}, t('account.mfa_step_secret'), ' ', h('code', { class: 'secret', 'data-test': 'mfa-secret' }, setup.secret)),
        h('li', {}, t('account.mfa_step_codes'), codes),
        h('li', {}, t('account.mfa_step_enable'), form)));
    form.querySelector('input').focus();
  });

  return h('section', { class: 'card', 'aria-labelledby': 'mfa-h' },
    h('h2', { id: 'mfa-h' }, t('account.mfa_title')),
    h('p', {}, h('span', { class: 'badge badge-closed', 'data-test': 'mfa-state', 'data-enabled': 'false' }, t('account.mfa_off')), ' ', t('account.mfa_explain')),
    h('div', { class: 'actions' }, start),
    status,
    holder);
}

/** A form asking for the password and a current code, then running `action(body)`. */
function reauthForm({ submitLabel, test, danger, action, status }) {
  const form = h('form', { class: 'reauth-form', 'data-test': `${test}-form` },
    h('div', { class: 'field-row' },
      field(t('account.password'), { type: 'password', name: 'password', required: true, autocomplete: 'current-password', 'data-test': `${test}-password` }),
      field(t('account.mfa_code_or_backup'), { name: 'code', required: true, autocomplete: 'one-time-code', 'data-test': `${test}-code` })),
    h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-test': test }, submitLabel));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const values = formValues(form);
      await action({ password: values.password, code: values.code.trim() });
      form.reset();
    } catch (error) {
      status.say('error', error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Enrolled: the state, fresh backup codes, and turning MFA off. */
function enabledSection(redraw, freshCodes) {
  const status = statusLine();
  const codesHolder = h('div', {}, freshCodes || null);
  return h('section', { class: 'card', 'aria-labelledby': 'mfa-h' },
    h('h2', { id: 'mfa-h' }, t('account.mfa_title')),
    h('p', {}, h('span', { class: 'badge badge-free', 'data-test': 'mfa-state', 'data-enabled': 'true' }, t('account.mfa_on')), ' ', t('account.mfa_on_explain')),
    freshCodes ? flash('success', t('account.mfa_enabled_done')) : null,
    status,
    codesHolder,
    h('h3', {}, t('account.backup_new_title')),
    h('p', { class: 'hint' }, t('account.backup_new_explain')),
    reauthForm({
      submitLabel: t('account.backup_new'), test: 'mfa-new-codes', status,
      action: async (body) => {
        const answer = await post('/auth/mfa/backup-codes', body);
        replace(codesHolder, backupCodes(answer.backup_codes || []));
        status.say('success', t('account.backup_new_done'));
      },
    }),
    h('h3', {}, t('account.mfa_disable_title')),
    h('p', { class: 'hint' }, t('account.mfa_disable_explain')),
    reauthForm({
      submitLabel: t('account.mfa_disable'), test: 'mfa-disable', danger: true, status,
      action: async (body) => {
        await post('/auth/mfa/disable', body);
        redraw(false, null, t('account.mfa_disabled_done'));
      },
    }));
}

export default async function render(view, ctx) {
  ctx.setTitle(t('account.security_title'));
  const me = await get('/users/me');
  const redraw = (enabled, freshCodes, message) => {
    const section = enabled ? enabledSection(redraw, freshCodes) : setupSection(redraw);
    replace(view, accountHeader('#/account/security', t('account.security_title')), section);
    if (message) section.querySelector('.status-line').say('success', message);
  };
  redraw(me.mfa_enabled, null);
}
