// Translations: English, Spanish and French. The server picks the page's language (the
// `rr_lang` cookie, else `Accept-Language`) and writes it into `<html lang>`; switching sets
// the cookie, so the choice is remembered across visits.
//
// Each area of the dashboard keeps its words in `i18n/<area>.js` as `{en: {...}, es: {...},
// fr: {...}}`; a key is `<area>.<name>`. A missing translation falls back to English and is
// recorded in `window.__rrMissingTranslations` (the browser tests check it stays empty).

import core from './i18n/core.js';
import auth from './i18n/auth.js';
import home from './i18n/home.js';
import board from './i18n/board.js';
import mine from './i18n/mine.js';
import resources from './i18n/resources.js';
import booking from './i18n/booking.js';
import approvals from './i18n/approvals.js';
import admin from './i18n/admin.js';
import account from './i18n/account.js';
import organise from './i18n/organise.js';
import analytics from './i18n/analytics.js';
import bulk from './i18n/bulk.js';

const AREAS = { core, auth, home, board, mine, resources, booking, approvals, admin, account, organise, analytics, bulk };

export const LANGUAGES = [['en', 'English'], ['es', 'Español'], ['fr', 'Français']];

const missing = new Set();
window.__rrMissingTranslations = missing;

/** The current language code ('en', 'es' or 'fr'). */
export function language() {
  const code = document.documentElement.lang;
  return LANGUAGES.some(([known]) => known === code) ? code : 'en';
}

/** Switches language, remembered for a year in the `rr_lang` cookie. */
export function setLanguage(code) {
  document.cookie = `rr_lang=${encodeURIComponent(code)}; path=/; max-age=31536000; samesite=lax`;
  document.documentElement.lang = code;
}

/**
 * The words for `key` ('area.name') in the current language, with `{name}` placeholders
 * replaced from `vars`. `fallback` is used when no language has the key.
 */
export function t(key, vars = {}, fallback) {
  const dot = key.indexOf('.');
  const area = AREAS[key.slice(0, dot)];
  const name = key.slice(dot + 1);
  const lang = language();
  let text = area && area[lang] ? area[lang][name] : undefined;
  if (text === undefined) {
    if (fallback === undefined) missing.add(`${lang}:${key}`);
    text = (area && area.en && area.en[name]) ?? fallback ?? key;
  }
  return String(text).replace(/\{(\w+)\}/g, (whole, variable) => (variable in vars ? String(vars[variable]) : whole));
}
