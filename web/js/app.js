// The dashboard's entry point: the shell (navigation, language, theme, live indicator, the
// notifications bell) and the hash router that loads each page's module on first visit.
//
// A page module's default export is `async render(view, ctx)`; `ctx` is
// `{params, query, navigate(hash), setTitle(text)}`. It may return a cleanup function, called
// when the user leaves the page (to drop live listeners and timers).

import { h, replace, flash } from './dom.js';
import { t, LANGUAGES, language, setLanguage } from './i18n.js';
import { routes } from './pages/index.js';
import { session, loadSession, signOut, can, forgetSession } from './session.js';
import { onSignedOut, get } from './api.js';
import { live } from './live.js';

const view = () => document.getElementById('view');
let cleanup = null;
let renderCount = 0;

/** Navigates to a hash path such as '/resources/3?day=2026-12-06'. */
export function navigate(hash) {
  const target = hash.startsWith('#') ? hash : `#${hash}`;
  if (location.hash === target) route();
  else location.hash = target;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, queryString = ''] = raw.split('?');
  return { path: path || '/', query: Object.fromEntries(new URLSearchParams(queryString)) };
}

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const route of routes) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = {};
    if (pattern.every((segment, index) => {
      if (segment.startsWith(':')) {
        params[segment.slice(1)] = decodeURIComponent(parts[index]);
        return true;
      }
      return segment === parts[index];
    })) return { route, params };
  }
  return null;
}

const THEMES = ['auto', 'light', 'dark'];

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  document.cookie = `rr_theme=${theme}; path=/; max-age=31536000; samesite=lax`;
}

function savedTheme() {
  const found = document.cookie.split('; ').find((item) => item.startsWith('rr_theme='));
  const theme = found ? found.split('=')[1] : 'auto';
  return THEMES.includes(theme) ? theme : 'auto';
}

function navLink(hash, key, test) {
  const current = parseHash().path;
  const active = hash === '#/' ? current === '/' : current.startsWith(hash.slice(1));
  return h('a', { href: hash, class: active ? 'active' : null, 'aria-current': active ? 'page' : null, 'data-test': test }, t(key));
}

function renderShell(kiosk) {
  const bar = document.getElementById('topbar');
  document.body.classList.toggle('kiosk', kiosk);
  if (kiosk) {
    replace(bar);
    return;
  }
  const signedIn = session();
  const languageSelect = h('select', { id: 'lang-select', 'data-test': 'lang-select', 'aria-label': t('core.language') },
    LANGUAGES.map(([code, name]) => h('option', { value: code, selected: code === language(), lang: code }, name)));
  languageSelect.addEventListener('change', () => {
    setLanguage(languageSelect.value);
    route();
  });
  const themeSelect = h('select', { 'data-test': 'theme-select', 'aria-label': t('core.theme') },
    THEMES.map((theme) => h('option', { value: theme, selected: theme === savedTheme() }, t(`core.theme_${theme}`))));
  themeSelect.addEventListener('change', () => applyTheme(themeSelect.value));

  const links = signedIn ? [
    navLink('#/', 'core.nav_home', 'nav-home'),
    navLink('#/board', 'core.nav_board', 'nav-board'),
    navLink('#/resources', 'core.nav_resources', 'nav-resources'),
    navLink('#/search', 'organise.nav_search', 'nav-search'),
    navLink('#/groups', 'organise.nav_groups', 'nav-groups'),
    navLink('#/analytics', 'analytics.nav', 'nav-analytics'),
    navLink('#/mine', 'core.nav_mine', 'nav-mine'),
    navLink('#/bulk', 'bulk.nav', 'nav-bulk'),
    navLink('#/waitlist', 'core.nav_waitlist', 'nav-waitlist'),
    can('reservation:approve') ? navLink('#/approvals', 'core.nav_approvals', 'nav-approvals') : null,
    (can('resource:create') || can('user:manage') || can('audit:read')) ? navLink('#/admin', 'core.nav_admin', 'nav-admin') : null,
    navLink('#/account', 'core.nav_account', 'nav-account'),
  ] : [];

  const userArea = signedIn
    ? [
      h('span', { id: 'live-indicator', class: 'live-indicator', role: 'status', 'data-test': 'live-indicator' }),
      h('span', { id: 'bell' }),
      h('span', { class: 'nav-user', 'data-test': 'nav-user' }, signedIn.user.username),
      h('button', { type: 'button', class: 'btn btn-link', 'data-test': 'signout', onclick: doSignOut }, t('core.sign_out')),
    ]
    : [h('a', { href: '#/signin', 'data-test': 'nav-signin' }, t('core.sign_in'))];

  replace(bar,
    h('a', { href: '#/', class: 'brand' }, t('core.app_name')),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, links.filter(Boolean).map((link) => h('li', {}, link)))),
    h('div', { class: 'topbar-tools' }, languageSelect, themeSelect, userArea));
  const skip = document.querySelector('.skip-link');
  if (skip) skip.textContent = t('core.skip');
  if (signedIn) mountLiveParts();
}

async function mountLiveParts() {
  const indicator = document.getElementById('live-indicator');
  const show = (status) => {
    if (!indicator) return;
    indicator.dataset.status = status;
    indicator.textContent = t(`core.live_${status}`);
  };
  show(live.status());
  liveStatusOff?.();
  liveStatusOff = live.onStatus(show);
  import('./offers.js').then(({ mountOffers }) => mountOffers()).catch((error) => console.warn('waitlist offers unavailable', error));
  const bell = document.getElementById('bell');
  if (bell) {
    try {
      const { mountBell } = await import('./bell.js');
      mountBell(bell);
    } catch (error) {
      console.warn('notifications bell unavailable', error);
    }
  }
}
let liveStatusOff = null;

async function doSignOut() {
  try {
    await signOut();
  } finally {
    live.stop();
    navigate('/signin');
  }
}

async function route() {
  const token = ++renderCount;
  const { path, query } = parseHash();
  const found = match(path);
  if (cleanup) {
    try { cleanup(); } catch (error) { console.warn(error); }
    cleanup = null;
  }
  const kiosk = query.kiosk === '1' && !!found && found.route.chrome === 'optional';
  renderShell(kiosk);
  const container = view();
  if (!found) {
    replace(container, flash('error', t('core.not_found')));
    return;
  }
  const { route: page, params } = found;
  if (page.auth && !session()) {
    const { setup_complete: complete } = await get('/setup/status').catch(() => ({ setup_complete: true }));
    navigate(complete ? `/signin?next=${encodeURIComponent(location.hash.slice(1))}` : '/setup');
    return;
  }
  if (page.permission && !can(page.permission)) {
    replace(container, flash('error', t('core.forbidden')));
    return;
  }
  replace(container, h('p', { class: 'loading' }, t('core.loading')));
  try {
    const module = await import(`./pages/${page.module}`);
    if (token !== renderCount) return;
    const ctx = {
      params,
      query,
      navigate,
      setTitle: (text) => { document.title = `${text} · ${t('core.app_name')}`; },
      refreshShell: () => renderShell(kiosk),
    };
    ctx.setTitle(t('core.app_name'));
    const container2 = replace(container);
    const result = await module.default(container2, ctx);
    if (token !== renderCount) {
      if (typeof result === 'function') result();
      return;
    }
    cleanup = typeof result === 'function' ? result : null;
  } catch (error) {
    if (token === renderCount) replace(container, flash('error', error.message || String(error)));
  }
}

/** Called by the sign-in and setup pages once a session exists. */
export async function afterSignIn(next) {
  await loadSession();
  live.start();
  navigate(next || '/');
}

async function boot() {
  applyTheme(savedTheme());
  onSignedOut(() => {
    forgetSession();
    live.stop();
    navigate(`/signin?next=${encodeURIComponent(location.hash.slice(1))}`);
  });
  try {
    await loadSession();
  } catch (error) {
    console.warn(error);
  }
  if (session()) live.start();
  window.addEventListener('hashchange', route);
  await route();
  document.documentElement.dataset.ready = 'true';
}

boot();
