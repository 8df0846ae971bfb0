// `#/approvals`: for approvers (`reservation:approve`), the inbox of pending requests with
// Approve and Reject (with a message to the requester); for everyone, their own pending
// requests, which they may withdraw. Times are on each resource's clock. Follows new requests
// and answers live.

import { h, replace, field, flash, button, table } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, del } from '../api.js';
import { can } from '../session.js';
import { live } from '../live.js';
import { formatRange, formatDateTime } from '../format.js';
import { resourceInfo } from '../calendar.js';

/** Each request's resource time zone (from the resource; UTC when it cannot be read). */
async function zones(requests) {
  const ids = [...new Set(requests.map((request) => request.resource_id))];
  const found = await Promise.all(ids.map((id) => resourceInfo(id).then((r) => [id, r.timezone || 'UTC']).catch(() => [id, 'UTC'])));
  return new Map(found);
}

export default async function render(view, ctx) {
  ctx.setTitle(t('approvals.title'));
  const approver = can('reservation:approve');
  const message = h('div', { class: 'page-message' });
  const inbox = h('div', { class: 'approvals-inbox', 'data-test': 'approvals-inbox' });
  const mine = h('div', { class: 'approvals-mine', 'data-test': 'approvals-mine' });
  const say = (node) => replace(message, node);

  async function loadInbox() {
    if (!approver) return;
    let pending;
    try {
      pending = (await get('/approvals/pending')).pending_approvals || [];
    } catch (error) {
      replace(inbox, flash('error', error.message));
      return;
    }
    const zoneOf = await zones(pending);
    if (!pending.length) {
      replace(inbox, h('p', { class: 'empty', 'data-test': 'approvals-empty' }, t('approvals.inbox_empty')));
      return;
    }
    replace(inbox, h('ul', { class: 'cards approval-cards' }, pending.map((request) => {
      const zone = zoneOf.get(request.resource_id) || 'UTC';
      const answer = field(t('approvals.response'), { tag: 'textarea', rows: 2, maxlength: 500, 'data-test': 'approval-response', hint: t('approvals.response_hint') });
      const respond = (action) => async () => {
        const text = answer.querySelector('textarea').value.trim();
        try {
          await post(`/approvals/${request.id}/respond`, { action, response_message: text || undefined });
          say(flash('success', t(action === 'approve' ? 'approvals.approved' : 'approvals.rejected', {
            requester: request.requester_username, resource: request.resource_name,
          })));
        } catch (error) {
          say(flash('error', error.message));
        }
        await loadInbox();
      };
      return h('li', { class: 'card approval', 'data-test': 'approval', 'data-approval-id': request.id, 'data-reservation-id': request.reservation_id },
        h('h3', {}, t('approvals.request_title', { requester: request.requester_username, resource: request.resource_name })),
        h('p', {}, h('strong', {}, formatRange(request.start_time, request.end_time, zone)), ' ', h('small', { class: 'hint' }, t('core.times_in_zone', { zone }))),
        request.request_message ? h('blockquote', { class: 'request-message' }, request.request_message) : null,
        h('p', { class: 'hint' }, t('approvals.requested_at', { time: formatDateTime(request.created_at, zone) })),
        answer,
        h('div', { class: 'actions' },
          button(t('approvals.approve'), respond('approve'), { class: 'btn btn-primary', 'data-test': 'approval-approve' }),
          button(t('approvals.reject'), respond('reject'), { class: 'btn btn-danger', 'data-test': 'approval-reject' })));
    })));
  }

  async function loadMine() {
    let requests;
    try {
      requests = (await get('/approvals/my-requests')).my_requests || [];
    } catch (error) {
      replace(mine, flash('error', error.message));
      return;
    }
    const zoneOf = await zones(requests);
    replace(mine, table([
      [t('approvals.col_resource'), (request) => h('a', { href: `#/resources/${request.resource_id}` }, request.resource_name)],
      [t('approvals.col_when'), (request) => h('a', { href: `#/reservations/${request.reservation_id}` },
        formatRange(request.start_time, request.end_time, zoneOf.get(request.resource_id) || 'UTC'))],
      [t('approvals.col_approver'), (request) => request.approver_username || ''],
      [t('approvals.col_message'), (request) => request.request_message || ''],
      [t('approvals.col_status'), (request) => h('span', { class: `badge badge-${request.status === 'pending' ? 'pending' : request.status}` }, t(`approvals.status_${request.status}`, {}, request.status))],
      [t('approvals.col_actions'), (request) => (request.status === 'pending'
        ? button(t('approvals.withdraw'), async () => {
          try {
            await del(`/approvals/${request.id}`);
            say(flash('success', t('approvals.withdrawn')));
          } catch (error) {
            say(flash('error', error.message));
          }
          await loadMine();
        }, { 'data-test': 'approval-withdraw', 'aria-label': t('approvals.withdraw_named', { resource: request.resource_name }) })
        : '')],
    ], requests, {
      caption: t('approvals.mine_caption'),
      empty: t('approvals.mine_empty'),
      rowAttrs: (request) => ({ 'data-test': 'my-request', 'data-approval-id': request.id }),
    }));
  }

  replace(view,
    h('h1', {}, t('approvals.title')),
    message,
    approver ? h('section', { 'aria-labelledby': 'inbox-heading' },
      h('h2', { id: 'inbox-heading' }, t('approvals.inbox')),
      h('p', { class: 'hint' }, t('approvals.inbox_hint')),
      inbox) : null,
    h('section', { 'aria-labelledby': 'mine-heading' },
      h('h2', { id: 'mine-heading' }, t('approvals.mine')),
      h('p', { class: 'hint' }, t('approvals.mine_hint')),
      mine));
  await Promise.all([loadInbox(), loadMine()]);

  let pending = null;
  const again = () => {
    clearTimeout(pending);
    pending = setTimeout(() => { loadInbox(); loadMine(); }, 200);
  };
  const offs = ['approval_request', 'reservation_approved', 'reservation_rejected', 'reservation_cancelled', 'resync_required']
    .map((type) => live.on(type, again));
  offs.push(live.on('open', (message) => { if (!message.resumed) again(); }));
  return () => {
    clearTimeout(pending);
    offs.forEach((off) => off());
  };
}
