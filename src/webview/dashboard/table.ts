/**
 * The request table: newest first, one focusable row per request; Enter, Space or a click opens
 * (and closes) the row's details: its failed attempts, tokens by kind, time to first byte.
 * Arrow keys move between rows.
 */
import { h } from './dom';
import { clockText, countText, durationText, toMillis } from './format';
import type { RequestRecord } from './protocol';

const COLUMNS = ['Time', 'Account', 'Model', 'Protocol', 'Outcome', 'Status', 'Tokens in / out', 'Duration', 'Attempts'];

export function renderTable(requests: readonly RequestRecord[], expanded: ReadonlySet<string>, nowMs: number, toggle: (id: string) => void): HTMLElement {
  const body = h('tbody');
  for (const r of requests) {
    const open = expanded.has(r.id);
    const failed = r.attempts.length;
    const row = h('tr', {
      className: `request outcome-${r.outcome}`,
      tabindex: 0,
      'data-id': r.id,
      'aria-expanded': open ? 'true' : 'false',
      onclick: () => toggle(r.id),
      onkeydown: (event: Event) => onRowKey(event as KeyboardEvent, r.id, toggle),
    },
    h('td', {}, clockText(toMillis(r.time), nowMs)),
    h('td', {}, r.account ?? '–'),
    h('td', { title: r.upstream_model && r.upstream_model !== r.model ? `served as ${r.upstream_model}` : '' }, r.model),
    h('td', {}, `${r.protocol}${r.stream ? ' · stream' : ''}`),
    h('td', {}, h('span', { className: 'outcome' }, r.outcome)),
    h('td', { className: 'num' }, r.status ? String(r.status) : '–'), // 0: the client went away first
    h('td', { className: 'num' }, `${countText(r.input_tokens)} / ${countText(r.output_tokens)}`),
    h('td', { className: 'num' }, durationText(r.duration_ms)),
    h('td', { className: 'num' }, failed ? `${failed} failed ${open ? '▾' : '▸'}` : open ? '▾' : '▸'));
    body.append(row);
    if (open) body.append(details(r));
  }
  if (!requests.length) body.append(h('tr', {}, h('td', { colSpan: COLUMNS.length, className: 'muted' }, 'No requests yet.')));
  return h('table', { className: 'requests', 'aria-label': 'Requests, newest first' },
    h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
    body);
}

function details(r: RequestRecord): HTMLElement {
  const attempts = r.attempts.length
    ? h('table', { className: 'attempts', 'aria-label': 'Failed attempts' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Account'), h('th', {}, 'Status'), h('th', {}, 'Reason'))),
      h('tbody', {}, ...r.attempts.map((a, i) => h('tr', {},
        h('td', {}, String(i + 1)), h('td', {}, a.account), h('td', {}, a.status ? String(a.status) : 'no answer'), h('td', {}, a.reason)))))
    : h('p', { className: 'muted' }, 'No failed attempts: the first account served it.');
  const facts = [
    `id ${r.id}`,
    r.upstream_model ? `upstream model ${r.upstream_model}` : null,
    `first byte ${durationText(r.ttfb_ms)}`,
    `tokens: ${countText(r.input_tokens)} in (${countText(r.cached_tokens)} cached), ${countText(r.output_tokens)} out, ${countText(r.thinking_tokens)} thinking`,
  ].filter(Boolean).join(' · ');
  return h('tr', { className: 'details', 'data-details-of': r.id },
    h('td', { colSpan: COLUMNS.length }, h('p', { className: 'muted' }, facts), attempts));
}

function onRowKey(event: KeyboardEvent, id: string, toggle: (id: string) => void): void {
  const row = event.currentTarget as HTMLElement;
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    toggle(id);
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    const rows = Array.from(row.closest('tbody')?.querySelectorAll<HTMLElement>('tr.request') ?? []);
    rows[rows.indexOf(row) + (event.key === 'ArrowDown' ? 1 : -1)]?.focus();
  }
}
