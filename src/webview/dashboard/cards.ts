/**
 * The account cards: email, state, each running cooldown counting down (updated every second from
 * `data-until`), the account's figures over the chart's range, and the actions its state allows
 * (Re-authenticate a disabled account, Enable a proxy-disabled one, Disable the others).
 */
import { h } from './dom';
import { countdownText, countText } from './format';
import { cardActions, type AccountCard, type CardAction, type UsageRow } from './protocol';
import { metricValue } from './chartData';

const STATE_TEXT: Record<AccountCard['state'], string> = {
  healthy: 'healthy',
  cooling: 'cooling',
  proxy_disabled: 'proxy disabled',
  disabled: 'disabled',
};

export function renderCards(
  accounts: readonly AccountCard[],
  rows: readonly UsageRow[],
  rangeText: string,
  nowMs: number,
  run: (action: CardAction, account: AccountCard) => void,
): HTMLElement {
  if (!accounts.length) return h('p', { className: 'muted' }, 'No accounts in the pool yet.');
  return h('div', { className: 'cards' }, ...accounts.map((account) => card(account, rows, rangeText, nowMs, run)));
}

function card(account: AccountCard, rows: readonly UsageRow[], rangeText: string, nowMs: number, run: (action: CardAction, account: AccountCard) => void): HTMLElement {
  const mine = rows.filter((r) => r.account === account.email);
  const requests = mine.reduce((sum, r) => sum + r.requests, 0);
  const tokens = mine.reduce((sum, r) => sum + metricValue(r, 'tokens'), 0);
  const errors = mine.reduce((sum, r) => sum + r.errors, 0);
  const cooldowns = account.cooldowns
    .filter((c) => c.until * 1000 > nowMs)
    .map((c) => h('li', { className: 'cooldown' },
      `${c.model === '*' ? 'all models' : c.model}: `,
      h('span', { className: 'countdown', 'data-until': c.until * 1000 }, countdownText(c.until * 1000, nowMs)),
      ' left',
      h('span', { className: 'muted why', title: c.reason }, c.reason)));
  const reason = account.state === 'disabled' ? account.disabled_reason : account.state === 'proxy_disabled' ? account.proxy_disabled_reason : null;
  return h('article', { className: `card state-${account.state}`, 'aria-label': `${account.email}, ${STATE_TEXT[account.state]}`, 'data-account': account.email },
    h('header', {},
      h('h3', { title: account.email }, account.email),
      h('span', { className: 'badge' }, STATE_TEXT[account.state])),
    reason ? h('p', { className: 'reason', title: reason }, reason) : null,
    cooldowns.length ? h('ul', { className: 'cooldowns', 'aria-label': 'Cooldowns' }, ...cooldowns) : null,
    h('p', { className: 'figures' }, `${rangeText}: ${counted(requests, 'request')} · ${counted(tokens, 'token')} · ${errors ? counted(errors, 'error') : 'no errors'}`),
    h('div', { className: 'actions' }, ...cardActions(account.state).map(({ action, label }) =>
      h('button', { type: 'button', className: action === 'proxyDisable' ? 'secondary' : '', onclick: () => run(action, account) }, label))),
  );
}

const counted = (n: number, noun: string): string => `${countText(n)} ${noun}${n === 1 ? '' : 's'}`;

/** Rewrites every countdown from its `data-until`; a cooldown that ended says so until the next accounts update. */
export function tickCountdowns(root: ParentNode, nowMs: number): void {
  for (const el of Array.from(root.querySelectorAll<HTMLElement>('.countdown'))) {
    el.textContent = countdownText(Number(el.dataset.until), nowMs);
  }
}
