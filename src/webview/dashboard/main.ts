/**
 * The dashboard page. It has no network: everything comes by message from the extension
 * (protocol.ts), and what the user chose and the last data are kept with setState so a panel that
 * was hidden comes back as it was. Sections: where the data comes from, account cards, charts,
 * request table.
 */
import { renderCards, tickCountdowns } from './cards';
import { chartData, METRICS, type Metric } from './chartData';
import { MetricChart } from './charts';
import { h } from './dom';
import { countText } from './format';
import {
  NO_FILTER,
  OUTCOMES,
  RANGES,
  type AccountCard,
  type DataPart,
  type Range,
  type RequestFilter,
  type RequestRecord,
  type Source,
  type StackBy,
  type ToExtension,
  type ToPage,
  type UsageRow,
} from './protocol';
import { addLive, filterChoices } from './requestTable';
import { renderTable } from './table';

interface PageState {
  range: Range;
  stackBy: StackBy;
  filter: RequestFilter;
  expanded: string[];
  source?: Source;
  accounts: AccountCard[];
  usage: { range: Range; rows: UsageRow[] } | undefined;
  requests: RequestRecord[];
  errors: Partial<Record<DataPart, string>>;
}

const vscode = acquireVsCodeApi<PageState>();
const state: PageState = {
  range: '24h',
  stackBy: 'account',
  filter: NO_FILTER,
  expanded: [],
  accounts: [],
  usage: undefined,
  requests: [],
  errors: {},
  ...vscode.getState(),
};

const send = (message: ToExtension): void => vscode.postMessage(message);
const save = (): void => vscode.setState(state);

const RANGE_TEXT: Record<Range, string> = { '24h': '24 h', '7d': '7 d', '30d': '30 d' };
const METRIC_TEXT: Record<Metric, string> = { requests: 'Requests', tokens: 'Tokens', errors: 'Errors' };

// ---- layout: built once; the sections re-render their contents ------------------------------

const app = document.getElementById('app') as HTMLElement;
const sourceLine = h('div', { className: 'source', role: 'status' });
const errorLine = h('div', { className: 'errors', role: 'alert' });
const cardsSection = h('section', { className: 'accounts', 'aria-label': 'Accounts' });
const rangeButtons = (Object.keys(RANGES) as Range[]).map((range) =>
  h('button', { type: 'button', className: 'toggle', 'data-range': range, onclick: () => setRange(range) }, RANGE_TEXT[range]));
const stackButtons = (['account', 'model'] as StackBy[]).map((by) =>
  h('button', { type: 'button', className: 'toggle', 'data-stack': by, onclick: () => setStack(by) }, `by ${by}`));
const chartTitles = {} as Record<Metric, HTMLElement>;
const charts = {} as Record<Metric, MetricChart>;
const chartBoxes = METRICS.map((metric) => {
  const canvas = h('canvas', { role: 'img', 'aria-label': METRIC_TEXT[metric] });
  chartTitles[metric] = h('h3', {}, METRIC_TEXT[metric]);
  const box = h('figure', { className: 'chart', 'data-metric': metric }, chartTitles[metric], h('div', { className: 'canvas-box' }, canvas));
  charts[metric] = new MetricChart(canvas, metric);
  return box;
});
const filterSelects = {
  account: h('select', { id: 'filter-account', 'aria-label': 'Account', onchange: () => setFilter() }),
  model: h('select', { id: 'filter-model', 'aria-label': 'Model', onchange: () => setFilter() }),
  outcome: h('select', { id: 'filter-outcome', 'aria-label': 'Outcome', onchange: () => setFilter() }),
};
const clearFilters = h('button', { type: 'button', className: 'secondary', onclick: () => setFilter(NO_FILTER) }, 'Clear filters');
const tableBox = h('div', { className: 'table-box' });

app.replaceChildren(
  h('header', { className: 'top' }, h('h1', {}, 'Token Pool'), sourceLine),
  errorLine,
  h('h2', {}, 'Accounts'),
  cardsSection,
  h('section', { className: 'usage', 'aria-label': 'Usage' },
    h('div', { className: 'toolbar' },
      h('h2', {}, 'Usage'),
      h('div', { className: 'group', role: 'group', 'aria-label': 'Range' }, ...rangeButtons),
      h('div', { className: 'group', role: 'group', 'aria-label': 'Stack by' }, ...stackButtons)),
    h('div', { className: 'charts' }, ...chartBoxes)),
  h('section', { className: 'history', 'aria-label': 'Requests' },
    h('div', { className: 'toolbar' },
      h('h2', {}, 'Requests'),
      h('div', { className: 'filters', role: 'group', 'aria-label': 'Filters' },
        filterSelects.account, filterSelects.model, filterSelects.outcome, clearFilters)),
    tableBox),
);

// ---- rendering ------------------------------------------------------------------------------

function renderSource(): void {
  const source = state.source;
  if (!source) {
    sourceLine.replaceChildren(h('span', { className: 'muted' }, 'Connecting…'));
  } else if (source.kind === 'connected') {
    sourceLine.replaceChildren(h('span', { className: 'muted' },
      `Live from ${source.baseUrl}${source.servedHere ? ' (served by this window)' : ' (served by another window or the tokenpool command)'}`));
  } else {
    sourceLine.replaceChildren(h('span', { className: 'warning' }, source.message), ' ',
      h('button', { type: 'button', onclick: () => send({ type: 'startProxy' }) }, 'Start Proxy'));
  }
}

function renderErrors(): void {
  const messages = Object.values(state.errors).filter(Boolean);
  errorLine.replaceChildren(...messages.map((m) => h('p', {}, m)));
}

function renderCardsSection(): void {
  const rows = state.usage?.range === state.range ? state.usage.rows : [];
  cardsSection.replaceChildren(renderCards(state.accounts, rows, RANGE_TEXT[state.range], Date.now(),
    (action, account) => send({ type: 'action', action, accountId: account.id })));
}

function renderCharts(): void {
  for (const b of rangeButtons) b.setAttribute('aria-pressed', String(b.dataset.range === state.range));
  for (const b of stackButtons) b.setAttribute('aria-pressed', String(b.dataset.stack === state.stackBy));
  const rows = state.usage?.range === state.range ? state.usage.rows : [];
  const data = chartData(rows, state.range, state.stackBy, Date.now());
  const per = RANGES[state.range];
  for (const metric of METRICS) {
    charts[metric].show(data);
    const total = countText(data.totals[metric]);
    chartTitles[metric].textContent = `${METRIC_TEXT[metric]} per ${per} · ${total} in ${RANGE_TEXT[state.range]}`;
    charts[metric].canvas.setAttribute('aria-label', `${METRIC_TEXT[metric]} per ${per} over ${RANGE_TEXT[state.range]}, stacked by ${state.stackBy}: ${total} in all`);
  }
}

function renderFilters(): void {
  const choices = filterChoices(state.accounts, state.usage?.rows ?? [], state.requests, state.filter);
  const fill = (select: HTMLSelectElement, any: string, values: readonly string[], chosen: string) => {
    select.replaceChildren(h('option', { value: '' }, any), ...values.map((v) => h('option', { value: v }, v)));
    select.value = chosen;
  };
  fill(filterSelects.account, 'any account', choices.accounts, state.filter.account);
  fill(filterSelects.model, 'any model', choices.models, state.filter.model);
  fill(filterSelects.outcome, 'any outcome', OUTCOMES, state.filter.outcome);
  clearFilters.disabled = !state.filter.account && !state.filter.model && !state.filter.outcome;
}

function renderTableSection(): void {
  const focused = (document.activeElement as HTMLElement | null)?.closest?.('tr.request')?.getAttribute('data-id');
  tableBox.replaceChildren(renderTable(state.requests, new Set(state.expanded), Date.now(), toggleRow));
  if (focused) tableBox.querySelector<HTMLElement>(`tr.request[data-id="${CSS.escape(focused)}"]`)?.focus();
}

function renderAll(): void {
  renderSource();
  renderErrors();
  renderCardsSection();
  renderCharts();
  renderFilters();
  renderTableSection();
}

// ---- what the user does ---------------------------------------------------------------------

function setRange(range: Range): void {
  if (range === state.range) return;
  state.range = range;
  save();
  renderCharts();
  renderCardsSection();
  send({ type: 'range', range });
}

function setStack(by: StackBy): void {
  state.stackBy = by;
  save();
  renderCharts();
}

function setFilter(filter?: RequestFilter): void {
  state.filter = filter ?? {
    account: filterSelects.account.value,
    model: filterSelects.model.value,
    outcome: filterSelects.outcome.value,
  };
  state.requests = [];
  save();
  renderFilters();
  renderTableSection();
  send({ type: 'filter', filter: state.filter });
}

function toggleRow(id: string): void {
  state.expanded = state.expanded.includes(id) ? state.expanded.filter((x) => x !== id) : [...state.expanded, id];
  save();
  renderTableSection();
}

// ---- what the extension sends ---------------------------------------------------------------

const sameFilter = (a: RequestFilter, b: RequestFilter): boolean => a.account === b.account && a.model === b.model && a.outcome === b.outcome;

window.addEventListener('message', (event: MessageEvent<ToPage>) => {
  const message = event.data;
  switch (message.type) {
    case 'source':
      state.source = message.source;
      renderSource();
      break;
    case 'accounts':
      state.accounts = message.accounts;
      renderCardsSection();
      renderFilters();
      break;
    case 'usage':
      if (message.range !== state.range) return;
      state.usage = { range: message.range, rows: message.answer.rows };
      renderCharts();
      renderCardsSection();
      renderFilters();
      break;
    case 'requests':
      if (!sameFilter(message.filter, state.filter)) return;
      state.requests = message.requests;
      renderFilters();
      renderTableSection();
      break;
    case 'request': {
      const next = addLive(state.requests, message.request, state.filter);
      if (next === state.requests) return;
      state.requests = next;
      renderTableSection();
      break;
    }
    case 'error':
      if (message.message) state.errors[message.what] = message.message;
      else delete state.errors[message.what];
      renderErrors();
      break;
  }
  save();
});

// The theme's colours changed (VS Code swaps the body's class and the variables).
new MutationObserver(() => {
  for (const metric of METRICS) charts[metric].applyTheme();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

setInterval(() => tickCountdowns(cardsSection, Date.now()), 1000);

renderAll();
send({ type: 'ready', range: state.range, filter: state.filter });
