import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { RoutingStrategy } from '../../src/core/config';
import { Selector } from '../../src/core/selection';

/** One pick: what to ask and which id must come back (undefined: none). */
interface Step {
  want: string | undefined;
  model?: string;
  now?: number;
  sessionKey?: string;
  exclude?: string[];
  /** Replace the blocks before this step: `id` or `id@model` -> until. */
  blocks?: Record<string, number>;
  /** Change the eligible set before this step. */
  eligible?: string[];
  wake?: boolean;
}

interface Row {
  name: string;
  strategy: RoutingStrategy;
  ids: string[];
  steps: Step[];
}

function run(row: Row): (string | undefined)[] {
  const selector = new Selector(row.strategy);
  selector.setEligible(row.ids);
  let blocks: Record<string, number> = {};
  return row.steps.map((step) => {
    if (step.blocks) blocks = step.blocks;
    if (step.eligible) selector.setEligible(step.eligible);
    if (step.wake) selector.wake();
    const model = step.model ?? 'm';
    const blockedUntil = (id: string) => Math.max(blocks[id] ?? 0, blocks[`${id}@${model}`] ?? 0);
    return selector.pick(model, blockedUntil, step.now ?? 0, {
      sessionKey: step.sessionKey,
      exclude: step.exclude ? new Set(step.exclude) : undefined,
    });
  });
}

const picks = (...want: (string | undefined)[]): Step[] => want.map((w) => ({ want: w }));

describe('Selector', () => {
  const rows: Row[] = [
    { name: 'round-robin cycles in order', strategy: 'round-robin', ids: ['a', 'b', 'c'], steps: picks('a', 'b', 'c', 'a', 'b') },
    { name: 'fill-first keeps the first', strategy: 'fill-first', ids: ['a', 'b', 'c'], steps: picks('a', 'a', 'a') },
    { name: 'an empty pool gives nothing', strategy: 'round-robin', ids: [], steps: picks(undefined) },
    {
      name: 'round-robin skips a cooling account and takes it back when its cooldown ends',
      strategy: 'round-robin',
      ids: ['a', 'b', 'c'],
      steps: [
        { want: 'a', blocks: { b: 100 } },
        { want: 'c' },
        { want: 'a' },
        { want: 'c', now: 99 },
        { want: 'a', now: 100 },
        { want: 'c', now: 100 },
        { want: 'b', now: 100 },
      ],
    },
    {
      name: 'fill-first moves on while the first cools, and returns to it',
      strategy: 'fill-first',
      ids: ['a', 'b', 'c'],
      steps: [
        { want: 'a' },
        { want: 'b', blocks: { a: 50 } },
        { want: 'b', now: 49 },
        { want: 'c', now: 49, blocks: { a: 50, b: 60 } },
        { want: 'a', now: 50 },
        { want: 'a', now: 70 },
      ],
    },
    {
      name: 'a per-model cooldown blocks only that model',
      strategy: 'fill-first',
      ids: ['a', 'b'],
      steps: [
        { want: 'b', model: 'pro', blocks: { 'a@pro': 1000 } },
        { want: 'a', model: 'flash' },
        { want: 'b', model: 'pro' },
      ],
    },
    {
      name: 'every account blocked gives nothing, until one frees up',
      strategy: 'round-robin',
      ids: ['a', 'b'],
      steps: [
        { want: undefined, blocks: { a: 10, b: 20 } },
        { want: undefined, now: 9 },
        { want: 'a', now: 10 },
        { want: 'a', now: 11 },
        { want: 'a', now: 20 },
        { want: 'b', now: 20 },
      ],
    },
    {
      name: 'exclude skips the accounts a request already tried',
      strategy: 'round-robin',
      ids: ['a', 'b', 'c'],
      steps: [
        { want: 'b', exclude: ['a'] },
        { want: 'c', exclude: ['a', 'b'] },
        { want: undefined, exclude: ['a', 'b', 'c'] },
        { want: 'a' },
      ],
    },
    {
      name: 'fill-first with exclude keeps the first in place',
      strategy: 'fill-first',
      ids: ['a', 'b', 'c'],
      steps: [{ want: 'b', exclude: ['a'] }, { want: 'a' }],
    },
    {
      name: 'session affinity keeps its account while round-robin moves on for others',
      strategy: 'round-robin',
      ids: ['a', 'b', 'c'],
      steps: [
        { want: 'a', sessionKey: 's1' },
        { want: 'b' },
        { want: 'a', sessionKey: 's1' },
        { want: 'c', sessionKey: 's2' },
        { want: 'a', sessionKey: 's1' },
        { want: 'c', sessionKey: 's2' },
      ],
    },
    {
      name: 'a session moves when its account cools, and then sticks to the new one',
      strategy: 'round-robin',
      ids: ['a', 'b', 'c'],
      steps: [
        { want: 'a', sessionKey: 's' },
        { want: 'b', sessionKey: 's', blocks: { a: 100 } },
        { want: 'b', sessionKey: 's', now: 200 },
      ],
    },
    {
      name: 'a session moves when its account is excluded or leaves the set',
      strategy: 'fill-first',
      ids: ['a', 'b', 'c'],
      steps: [
        { want: 'a', sessionKey: 's' },
        { want: 'b', sessionKey: 's', exclude: ['a'] },
        { want: 'b', sessionKey: 's' },
        { want: 'a', sessionKey: 's', eligible: ['a', 'c'] },
      ],
    },
    {
      name: 'a changed set continues after the last account chosen',
      strategy: 'round-robin',
      ids: ['a', 'b', 'c', 'd'],
      steps: [{ want: 'a' }, { want: 'b' }, { want: 'c', eligible: ['a', 'b', 'c', 'd', 'e'] }, { want: 'd' }, { want: 'e' }, { want: 'a' }],
    },
    {
      name: 'an account removed from the set is never chosen',
      strategy: 'round-robin',
      ids: ['a', 'b', 'c'],
      steps: [{ want: 'a' }, { want: 'c', eligible: ['a', 'c'] }, { want: 'a' }, { want: 'c' }],
    },
    {
      name: 'wake() brings back an account whose block was lifted early',
      strategy: 'fill-first',
      ids: ['a', 'b'],
      steps: [
        { want: 'b', blocks: { a: 1000 } },
        { want: 'b', blocks: {} },
        { want: 'a', wake: true },
      ],
    },
  ];
  for (const row of rows) {
    test(row.name, () => assert.deepEqual(run(row), row.steps.map((s) => s.want)));
  }

  test('round-robin spreads evenly over a large pool', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `acc-${i}`);
    const selector = new Selector('round-robin');
    selector.setEligible(ids);
    const seen = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const id = selector.pick('m', () => 0, 0)!;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    assert.equal(seen.size, 1000);
    assert.deepEqual(new Set(seen.values()), new Set([5]));
  });

  test('choosing among 10,000 accounts takes at most 5 µs, even with most of them cooling', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const strategy of ['round-robin', 'fill-first'] as const) {
      const selector = new Selector(strategy);
      selector.setEligible(ids);
      // 9,000 of them cool for this model for the whole run: each is parked once, not skipped per pick.
      const cooling = new Set(ids.filter((_, i) => i % 10 !== 0));
      const blockedUntil = (id: string) => (cooling.has(id) ? Infinity : 0);
      const rounds = 200_000;
      for (let i = 0; i < 20_000; i++) selector.pick('m', blockedUntil, 0);
      const started = performance.now();
      for (let i = 0; i < rounds; i++) {
        if (selector.pick('m', blockedUntil, 0) === undefined) throw new Error('no account');
      }
      const perPickUs = ((performance.now() - started) * 1000) / rounds;
      assert.ok(perPickUs <= 5, `${strategy}: ${perPickUs.toFixed(2)} µs per pick`);
    }
  });
});
