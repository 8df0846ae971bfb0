// The overview: a few figures (my upcoming bookings, resources free now, unread notifications,
// approvals waiting for a manager, my API quota), the next reservation with its time in the
// resource's zone, and the upcoming list. Kept current from the live connection.

import { h, replace, flash, table } from '../dom.js';
import { t } from '../i18n.js';
import { get } from '../api.js';
import { session, can } from '../session.js';
import { live } from '../live.js';
import { formatRange, zoneNote, viewerZone } from '../format.js';
import { onNotifications, refreshNotifications } from '../bell.js';
import { loadUpcoming, statusBadge, hiddenName, RESERVATION_EVENTS } from './mine.js';

function card(title, figure, detail, link, test) {
  return h('section', { class: 'card stat-card', 'data-test': test },
    h('h2', { class: 'card-title' }, title),
    h('p', { class: 'figure' }, figure),
    detail ? h('p', { class: 'hint' }, detail) : null,
    link ? h('a', { href: link[0] }, link[1]) : null);
}

function failed(title, error, test) {
  return h('section', { class: 'card stat-card', 'data-test': test },
    h('h2', { class: 'card-title' }, title),
    h('p', { class: 'figure' }, '—'),
    h('p', { class: 'hint' }, error.message || String(error)));
}

function when(reservation) {
  const zone = reservation.resource && reservation.resource.timezone;
  return formatRange(reservation.start_time, reservation.end_time, zone);
}

function nextCard(next) {
  if (!next) {
    return h('section', { class: 'card next-card', 'data-test': 'next-reservation' },
      h('h2', { class: 'card-title' }, t('home.next_title')),
      h('p', {}, t('home.next_none')),
      h('a', { href: '#/resources', class: 'btn btn-primary' }, t('home.book_something')));
  }
  const zone = next.resource.timezone;
  const starts = new Date(next.start_time);
  const now = Date.now();
  const running = starts.getTime() <= now;
  return h('section', { class: 'card next-card', 'data-test': 'next-reservation', 'data-reservation-id': next.id },
    h('h2', { class: 'card-title' }, running ? t('home.now_title') : t('home.next_title')),
    h('p', { class: 'next-resource' }, h('a', { href: `#/resources/${next.resource_id}` }, next.resource.name), ' ', statusBadge(next.status)),
    h('p', { class: 'next-time' }, h('time', { datetime: next.start_time }, when(next))),
    h('p', { class: 'hint' }, zoneNote(zone)),
    running ? null : h('p', { class: 'hint' }, relative(starts.getTime() - now)),
    h('div', { class: 'actions' },
      h('a', { href: `#/reservations/${next.id}`, class: 'btn' }, t('home.open_reservation')),
      h('a', { href: '#/mine', class: 'btn btn-link' }, t('home.all_bookings'))));
}

/** A quota tier's name in words (the server's own word for one this page does not know). */
function tierName(tier) {
  return ['anonymous', 'authenticated', 'premium', 'admin'].includes(tier) ? t(`home.tier_${tier}`) : String(tier ?? '');
}

/** "in 2 h 5 min" / "in 3 days" in the page's language. */
function relative(ms) {
  const minutes = Math.max(1, Math.round(ms / 60000));
  if (minutes < 60) return t('home.in_minutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('home.in_hours', { h: hours, m: minutes % 60 });
  return t('home.in_days', { n: Math.round(hours / 24) });
}

export default async function render(view, ctx) {
  ctx.setTitle(t('core.nav_home'));
  const user = session().user;
  const cardsRegion = h('div', { class: 'cards overview-cards', 'data-test': 'overview-cards' });
  const nextRegion = h('div', { class: 'next-region' });
  const upcomingRegion = h('div', {});
  replace(view,
    h('h1', {}, t('home.title', { name: user.username })),
    cardsRegion,
    nextRegion,
    h('h2', {}, t('home.upcoming_title')),
    upcomingRegion);

  let unreadFigure = null;
  function unreadCard(state) {
    unreadFigure = h('p', { class: 'figure', 'data-test': 'unread-count' }, String(state.unread || 0));
    return h('section', { class: 'card stat-card', 'data-test': 'card-notifications' },
      h('h2', { class: 'card-title' }, t('home.card_unread')),
      unreadFigure,
      h('a', { href: '#/notifications' }, t('home.see_notifications')));
  }

  let loading = null;
  async function load() {
    const jobs = [
      loadUpcoming(),
      get('/resources/availability/summary'),
      refreshNotifications(),
      can('reservation:approve') ? get('/approvals/pending') : Promise.resolve(null),
      get('/quotas/my-usage'),
    ];
    const [upcoming, summary, notes, approvals, quota] = await Promise.allSettled(jobs);
    if (!view.isConnected) return;
    const cards = [];
    if (upcoming.status === 'fulfilled') {
      const count = upcoming.value.length;
      cards.push(card(t('home.card_upcoming'), String(count), t('home.card_upcoming_detail', { count }), ['#/mine', t('home.all_bookings')], 'card-upcoming'));
    } else cards.push(failed(t('home.card_upcoming'), upcoming.reason, 'card-upcoming'));
    if (summary.status === 'fulfilled') {
      const s = summary.value;
      cards.push(card(t('home.card_free'), `${s.available_now} / ${s.total_resources}`,
        t('home.card_free_detail', { busy: s.currently_in_use ?? 0, off: Math.max(0, (s.unavailable_now ?? 0) - (s.currently_in_use ?? 0)) }),
        ['#/board', t('home.open_board')], 'card-free'));
    } else cards.push(failed(t('home.card_free'), summary.reason, 'card-free'));
    if (notes.status === 'fulfilled') cards.push(unreadCard(notes.value));
    else cards.push(failed(t('home.card_unread'), notes.reason, 'card-notifications'));
    if (approvals.status === 'fulfilled' && approvals.value) {
      cards.push(card(t('home.card_approvals'), String(approvals.value.count ?? 0), null, ['#/approvals', t('home.open_approvals')], 'card-approvals'));
    } else if (approvals.status === 'rejected') cards.push(failed(t('home.card_approvals'), approvals.reason, 'card-approvals'));
    if (quota.status === 'fulfilled') cards.push(quotaCard(quota.value));
    else cards.push(failed(t('home.card_quota'), quota.reason, 'card-quota'));
    replace(cardsRegion, cards);

    if (upcoming.status === 'fulfilled') {
      const list = upcoming.value;
      replace(nextRegion, nextCard(list[0]));
      const zones = new Set(list.map((r) => r.resource.timezone));
      const oneZone = zones.size === 1 ? [...zones][0] : null;
      replace(upcomingRegion,
        oneZone ? h('p', { class: 'hint' }, zoneNote(oneZone)) : null,
        h('div', { class: 'stack-table' }, table([
          [t('mine.col_resource'), (r) => h('a', { href: `#/resources/${r.resource_id}` }, r.resource.name)],
          [t('mine.col_when'), (r) => h('span', {}, h('time', { datetime: r.start_time }, when(r)),
            !oneZone && r.resource.timezone !== viewerZone() ? h('small', { class: 'hint zone' }, ` (${r.resource.timezone})`) : null)],
          [t('mine.col_status'), (r) => statusBadge(r.status)],
          [t('mine.col_details'), (r) => h('a', { href: `#/reservations/${r.id}` }, t('mine.open'), hiddenName(r))],
        ], list.slice(0, 8), { empty: t('home.upcoming_none') })),
        list.length > 8 ? h('p', {}, h('a', { href: '#/mine' }, t('home.more', { n: list.length - 8 }))) : null);
    } else {
      replace(nextRegion);
      replace(upcomingRegion, flash('error', upcoming.reason.message || String(upcoming.reason)));
    }
  }

  function quotaCard(q) {
    const limited = q.daily_quota !== null && q.daily_quota !== undefined;
    const used = q.daily_used ?? 0;
    const figure = limited ? `${used} / ${q.daily_quota}` : String(used);
    const percent = limited ? Math.min(100, Math.round(Number(q.percentage_used ?? (used * 100) / Math.max(1, q.daily_quota)))) : null;
    return h('section', { class: 'card stat-card', 'data-test': 'card-quota' },
      h('h2', { class: 'card-title' }, t('home.card_quota')),
      h('p', { class: 'figure' }, figure),
      limited ? h('progress', { max: 100, value: percent, 'aria-label': t('home.quota_progress', { percent }) }) : null,
      h('p', { class: 'hint' }, limited
        ? t('home.quota_detail', { remaining: q.daily_remaining ?? Math.max(0, q.daily_quota - used), tier: tierName(q.tier) })
        : t('home.quota_unlimited', { tier: tierName(q.tier), per_minute: q.rate_limit_per_minute ?? '—' })));
  }

  function reload() {
    clearTimeout(loading);
    loading = setTimeout(() => load().catch((error) => console.warn(error)), 1000);
  }

  const offs = [
    ...RESERVATION_EVENTS.map((type) => live.on(type, reload)),
    live.on('resource_status_changed', reload),
    onNotifications((state) => { if (unreadFigure) unreadFigure.textContent = String(state.unread || 0); }),
  ];
  replace(cardsRegion, h('p', { class: 'loading' }, t('core.loading')));
  await load();
  return () => {
    clearTimeout(loading);
    offs.forEach((off) => off());
  };
}
