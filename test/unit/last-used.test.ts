/** LastUsedLedger: which accounts' last_used the flusher saves next. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LastUsedLedger } from '../../src/core/lastUsed';

const T = 1_700_000_000;

describe('LastUsedLedger.due', () => {
  const table: {
    name: string;
    /** What each file holds (as last read or written); an id missing here was never read. */
    onDisk: Record<string, number | null>;
    /** last_used in memory, in pool order. */
    inMemory: [string, number | null][];
    limit: number;
    want: string[];
  }[] = [
    { name: 'nothing used', onDisk: { a: null, b: T }, inMemory: [['a', null], ['b', T]], limit: 16, want: [] },
    { name: 'memory equals the file', onDisk: { a: T }, inMemory: [['a', T]], limit: 16, want: [] },
    { name: 'the file is later than memory (another process)', onDisk: { a: T + 5 }, inMemory: [['a', T]], limit: 16, want: [] },
    { name: 'memory is later', onDisk: { a: T }, inMemory: [['a', T + 1]], limit: 16, want: ['a'] },
    { name: 'a file without last_used comes first', onDisk: { a: T - 100, b: null }, inMemory: [['a', T], ['b', T]], limit: 16, want: ['b', 'a'] },
    { name: 'an account never read counts as never saved', onDisk: { a: T - 100 }, inMemory: [['a', T], ['b', T]], limit: 16, want: ['b', 'a'] },
    {
      name: 'the oldest file first, not pool order',
      onDisk: { a: T - 10, b: T - 30, c: T - 20 },
      inMemory: [['a', T], ['b', T], ['c', T]],
      limit: 16,
      want: ['b', 'c', 'a'],
    },
    {
      name: 'the limit keeps the oldest',
      onDisk: { a: T - 10, b: T - 30, c: T - 20, d: T - 40 },
      inMemory: [['a', T], ['b', T], ['c', T], ['d', T]],
      limit: 2,
      want: ['d', 'b'],
    },
    { name: 'ties keep pool order', onDisk: { a: T - 1, b: T - 1, c: T - 1 }, inMemory: [['c', T], ['a', T], ['b', T]], limit: 2, want: ['c', 'a'] },
    { name: 'a clean account does not take a slot', onDisk: { a: T - 50, b: T - 10 }, inMemory: [['a', T - 50], ['b', T]], limit: 1, want: ['b'] },
  ];
  for (const row of table) {
    test(row.name, () => {
      const ledger = new LastUsedLedger();
      for (const [id, value] of Object.entries(row.onDisk)) ledger.saved(id, value);
      const accounts = row.inMemory.map(([id, last_used]) => ({ id, last_used }));
      assert.deepEqual(ledger.due(accounts, row.limit), row.want);
    });
  }

  test('saved() moves an account out, forget() back in as never read', () => {
    const ledger = new LastUsedLedger();
    const accounts = [{ id: 'a', last_used: T }];
    ledger.saved('a', T - 60);
    assert.deepEqual(ledger.due(accounts, 16), ['a']);
    ledger.saved('a', T);
    assert.deepEqual(ledger.due(accounts, 16), []);
    ledger.forget('a');
    assert.deepEqual(ledger.due(accounts, 16), ['a']);
  });
});
