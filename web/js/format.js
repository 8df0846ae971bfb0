// Times as people read them: in the resource's time zone, in the page's language, with the
// viewer's own zone noted when it differs. The API speaks UTC ISO-8601; these helpers convert
// both ways (`zonedInputToIso` turns a `datetime-local` value meant in a zone into UTC).

import { language, t } from './i18n.js';

export const viewerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function formatter(zone, options) {
  return new Intl.DateTimeFormat(language(), { timeZone: zone || viewerZone(), ...options });
}

/** "14:30" in `zone`. */
export function formatTime(iso, zone) {
  return formatter(zone, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

/** "Mon 6 Dec, 14:30" in `zone`. */
export function formatDateTime(iso, zone) {
  return formatter(zone, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

/** "Monday 6 December 2026" in `zone`. */
export function formatDate(iso, zone) {
  return formatter(zone, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(iso));
}

/** "Mon 6 Dec, 14:30 – 15:30" (the end's date only when it differs). */
export function formatRange(startIso, endIso, zone) {
  const sameDay = localDate(startIso, zone) === localDate(endIso, zone);
  return `${formatDateTime(startIso, zone)} – ${sameDay ? formatTime(endIso, zone) : formatDateTime(endIso, zone)}`;
}

/** The zone's calendar date of an instant, as 'YYYY-MM-DD'. */
export function localDate(iso, zone) {
  const parts = zoneParts(new Date(iso), zone);
  return `${parts.year}-${pad(parts.month)}-${pad(parts.day)}`;
}

/** A note for a list of times: "Times in Europe/Paris (your time zone is UTC)". */
export function zoneNote(zone) {
  const viewer = viewerZone();
  const base = t('core.times_in_zone', { zone });
  return zone && zone !== viewer ? `${base} (${t('core.your_zone', { zone: viewer })})` : base;
}

const pad = (number) => String(number).padStart(2, '0');

function zoneParts(date, zone) {
  const parts = {};
  for (const { type, value } of new Intl.DateTimeFormat('en-GB', {
    timeZone: zone || viewerZone(), hourCycle: 'h23',
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(date)) {
    if (type !== 'literal') parts[type] = Number(value);
  }
  return parts;
}

/** The offset of `zone` from UTC at `date`, in minutes. */
function offsetMinutes(date, zone) {
  const p = zoneParts(date, zone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

/** A `datetime-local` value ('2026-12-06T14:30') for the instant `iso` seen in `zone`. */
export function isoToZonedInput(iso, zone) {
  const p = zoneParts(new Date(iso), zone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** The UTC ISO instant of a `datetime-local` value meant as wall time in `zone`. */
export function zonedInputToIso(value, zone) {
  const [datePart, timePart = '00:00'] = value.split('T');
  const [year, month, day] = datePart.split('-').map(Number);
  const [hour, minute] = timePart.split(':').map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // Two passes settle the offset, also next to a DST change.
  let instant = wall - offsetMinutes(new Date(wall), zone) * 60000;
  instant = wall - offsetMinutes(new Date(instant), zone) * 60000;
  return new Date(instant).toISOString();
}

/** "1 h 30 min" from minutes. */
export function formatDuration(minutes) {
  const hours = Math.floor(minutes / 60);
  const rest = Math.round(minutes % 60);
  return [hours ? `${hours} h` : '', rest || !hours ? `${rest} min` : ''].filter(Boolean).join(' ');
}
