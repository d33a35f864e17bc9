/**
 * Text the dashboard shows for times, durations, counts and cooldowns. Pure: the page and the
 * tests call it with the clock's value.
 */
import type { WireTime } from './protocol';

/** Milliseconds since the epoch of a wire time: unix seconds, unix milliseconds or ISO 8601. NaN when it is none. */
export function toMillis(time: WireTime | null | undefined): number {
  if (typeof time === 'number') return time < 1e11 ? time * 1000 : time;
  if (typeof time === 'string') {
    if (/^\d+(\.\d+)?$/.test(time)) return toMillis(Number(time));
    return Date.parse(time);
  }
  return Number.NaN;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * What is left of a cooldown: `4:05` under an hour, `1 h 02 min` under a day, `2 d 3 h` beyond;
 * `ended` once `untilMs` has passed. Rounded up to the second, so it never shows 0:00 while running.
 */
export function countdownText(untilMs: number, nowMs: number): string {
  const left = Math.ceil((untilMs - nowMs) / 1000);
  if (!(left > 0)) return 'ended';
  if (left < 3600) return `${Math.floor(left / 60)}:${pad(left % 60)}`;
  const minutes = Math.floor(left / 60);
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
  const hours = Math.floor(minutes / 60);
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** `850 ms`, `1.2 s`, `41 s`, `2 min 5 s`; `–` for none. */
export function durationText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** `950`, `12.3k`, `4.5M`: counts of requests and tokens in little room. */
export function countText(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) < 1000) return String(Math.round(n));
  if (Math.abs(n) < 1_000_000) return `${trim(n / 1000)}k`;
  return `${trim(n / 1_000_000)}M`;
}

const trim = (x: number): string => (x >= 100 ? String(Math.round(x)) : x.toFixed(1).replace(/\.0$/, ''));

/** Local `HH:MM:SS` for a request's time today, `Dec 3 14:05` before today; `?` for an unreadable time. */
export function clockText(ms: number, nowMs: number): string {
  if (!Number.isFinite(ms)) return '?';
  const d = new Date(ms);
  const now = new Date(nowMs);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? time : `${MONTHS[d.getMonth()]} ${d.getDate()} ${time.slice(0, 5)}`;
}

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** An axis label for a bucket starting at `ms`: `14:00` (24 h), `Mon 14:00` (7 d) in local time, `Dec 3` (30 d). */
export function bucketLabel(ms: number, bucket: 'hour' | 'day', withWeekday: boolean): string {
  const d = new Date(ms);
  if (bucket === 'day') return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`; // days are UTC days
  const hour = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return withWeekday ? `${DAYS[d.getDay()]} ${hour}` : hour;
}
