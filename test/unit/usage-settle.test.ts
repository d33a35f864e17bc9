/**
 * The bookkeeping off the request path: the ledger counts a request that ended when it settles
 * (the first read, or within SETTLE_AFTER_MS), in the order requests ended; the history
 * lines wait for the flush as bytes, and what a failed write leaves is kept within its cap, whole
 * lines only.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { MemoryLogger } from '../../src/core/log';
import { SETTLE_AFTER_MS, UsageLedger, type EndedRequest } from '../../src/core/usage/ledger';
import { PendingLines, wholeLinesWithin } from '../../src/core/usage/pendingLines';
import type { RequestRecord } from '../../src/core/usage/record';

const T = Date.UTC(2026, 11, 3, 12);

function record(id: string, over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id, time: new Date(T).toISOString(), protocol: 'openai-chat', model: 'm', upstream_model: 'm', account: 'a@x',
    status: 200, outcome: 'ok', stream: false, attempts: [], input_tokens: 10, output_tokens: 5, cached_tokens: 0,
    thinking_tokens: 0, ttfb_ms: 1, duration_ms: 2, ...over,
  };
}

/** An ended request that counts how often its record was built. */
function ended(id: string): EndedRequest & { built: number } {
  return { atMs: T, built: 0, record() { this.built++; return record(id); } };
}

describe('the ledger settles ended requests', () => {
  test('a read counts what ended before it, in order, and builds each record once', () => {
    const ledger = new UsageLedger({ now: () => T });
    const seen: string[] = [];
    ledger.onRecord((r) => seen.push(r.id));
    const first = ended('one');
    const second = ended('two');
    ledger.ended(first);
    ledger.ended(second);
    assert.deepEqual(seen, [], 'nothing is counted on the request path');
    assert.deepEqual(ledger.requests({ limit: 10 }).map((r) => r.id), ['two', 'one']);
    assert.deepEqual(seen, ['one', 'two']);
    assert.deepEqual([...ledger.tokenTotals()].map((t) => t.tokens.input), [20]);
    ledger.settle();
    assert.deepEqual([first.built, second.built], [1, 1]);
  });

  test('with no read, they are counted within SETTLE_AFTER_MS', async () => {
    const ledger = new UsageLedger({ now: () => T });
    const seen: string[] = [];
    ledger.onRecord((r) => seen.push(r.id));
    ledger.ended(ended('one'));
    ledger.ended(ended('two'));
    await delay(SETTLE_AFTER_MS / 2);
    assert.deepEqual(seen, []);
    await delay(SETTLE_AFTER_MS);
    assert.deepEqual(seen, ['one', 'two']);
  });

  test('however many wait, no more than a batch is held', () => {
    const ledger = new UsageLedger({ now: () => T });
    let counted = 0;
    ledger.onRecord(() => counted++);
    for (let i = 0; i < 2000; i++) ledger.ended(ended(`r${i}`));
    assert.ok(counted >= 1500, `${counted} of 2000 counted before any read`);
  });

  test('a record that cannot be built is logged; the others are counted', async () => {
    const log = new MemoryLogger();
    const ledger = new UsageLedger({ now: () => T, log });
    const seen: string[] = [];
    ledger.onRecord((r) => seen.push(r.id));
    ledger.ended(ended('before'));
    ledger.ended({ atMs: T, record: () => { throw new Error('broken usage object'); } });
    ledger.ended(ended('after'));
    await delay(SETTLE_AFTER_MS * 2); // from the timer: a throw there would end the process
    assert.deepEqual(seen, ['before', 'after']);
    assert.deepEqual(log.lines, [{ level: 'error', message: '[usage] a request could not be counted: broken usage object' }]);
  });

  test('every view reads settled figures: usage rows, headroom, today', () => {
    const ledger = new UsageLedger({ now: () => T + 1000 });
    ledger.ended(ended('one'));
    assert.equal(ledger.usage({ sinceMs: T - 3_600_000, untilMs: T + 3_600_000, by: ['account'] }).rows[0]?.requests, 1);
    const other = new UsageLedger({ now: () => T + 1000 });
    other.ended(ended('one'));
    assert.deepEqual(other.todayOf('a@x'), { requests: 0, tokens: 15 });
  });
});

describe('history lines waiting for the flush', () => {
  test('lines are kept per day, in order, as UTF-8', () => {
    const pending = new PendingLines();
    assert.equal(pending.empty, true);
    pending.add('2026-12-03', '{"a":"é"}\n');
    pending.add('2026-12-04', '{"b":2}\n');
    pending.add('2026-12-03', '{"c":3}\n');
    const taken = pending.take();
    assert.equal(pending.empty, true);
    assert.deepEqual([...taken].map(([day, bytes]) => [day, bytes.toString('utf8')]), [
      ['2026-12-03', '{"a":"é"}\n{"c":3}\n'],
      ['2026-12-04', '{"b":2}\n'],
    ]);
  });

  test('a line longer than a block, and many lines over several blocks, come back whole', () => {
    const pending = new PendingLines();
    const long = `${'x'.repeat(100_000)}\n`;
    const lines = Array.from({ length: 3000 }, (_, i) => `{"n":${i}}\n`);
    pending.add('d', long);
    for (const line of lines) pending.add('d', line);
    assert.equal(pending.take().get('d')!.toString('utf8'), long + lines.join(''));
  });

  test('lines a failed write left go back before later ones; past the cap the oldest whole lines go', () => {
    const pending = new PendingLines();
    pending.add('d', 'old-1\n');
    pending.add('d', 'old-2\n');
    const taken = pending.take();
    pending.add('d', 'new-1\n');
    pending.restore(taken, 1024);
    assert.equal(pending.take().get('d')!.toString(), 'old-1\nold-2\nnew-1\n');
    pending.add('d', 'old-1\n');
    pending.add('d', 'old-2\n');
    const again = pending.take();
    pending.add('d', 'new-1\n');
    pending.restore(again, 13); // room for two of the three lines (6 bytes each)
    assert.equal(pending.take().get('d')!.toString(), 'old-2\nnew-1\n');
  });

  test('whole lines within a size', () => {
    const bytes = Buffer.from('aa\nbbb\ncccc\n');
    const table: [number, string][] = [[100, 'aa\nbbb\ncccc\n'], [12, 'aa\nbbb\ncccc\n'], [11, 'aa\nbbb\n'], [7, 'aa\nbbb\n'], [6, 'aa\n'], [3, 'aa\n'], [2, ''], [0, ''], [-5, '']];
    for (const [room, want] of table) assert.equal(wholeLinesWithin(bytes, room).toString(), want, `room ${room}`);
  });
});
