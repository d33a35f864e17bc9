import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChangeSignal } from '../../src/core/changeSignal';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A signal over a clock the test moves, with one block ending at `end` (unix ms) or none. */
function signalWith(clock: { ms: number }, end: number | null) {
  const signal = new ChangeSignal({ now: () => clock.ms, nextBlockEnd: (now) => (end !== null && end > now ? end : null) });
  const now: number[] = [];
  const coalesced: string[] = [];
  signal.onChangeNow(() => now.push(clock.ms));
  signal.onDidChange((e) => coalesced.push(e.reason));
  return { signal, now, coalesced };
}

describe('ChangeSignal', () => {
  test('every change is heard at once; views get one event per burst naming each reason once', async () => {
    const { signal, now, coalesced } = signalWith({ ms: 0 }, null);
    signal.changed('cooldown');
    signal.changed('reset');
    signal.changed('cooldown');
    assert.equal(now.length, 3);
    assert.deepEqual(coalesced, []);
    await sleep(60);
    assert.deepEqual(coalesced, ['cooldown,reset']);
    signal.changed('used');
    await sleep(60);
    assert.deepEqual(coalesced, ['cooldown,reset', 'used']);
    signal.dispose();
  });

  test('a block ending is reported as cooldown_ended once the clock reaches it, not before', async () => {
    const clock = { ms: 1_000_000 };
    const { signal, now, coalesced } = signalWith(clock, 1_000_020);
    signal.scheduleExpiry();
    await sleep(60);
    assert.deepEqual(now, [], 'the timer ran but the clock had not reached the end');
    clock.ms = 1_000_020;
    await sleep(60);
    assert.deepEqual(now, [1_000_020]);
    assert.deepEqual(coalesced, ['cooldown_ended']);
    signal.dispose();
  });

  test('after dispose nothing is delivered: neither a pending burst nor a block ending', async () => {
    const clock = { ms: Date.now() };
    const { signal, now, coalesced } = signalWith(clock, clock.ms + 10);
    signal.changed('cooldown');
    signal.scheduleExpiry();
    signal.dispose();
    clock.ms += 10;
    signal.changed('reset');
    await sleep(60);
    assert.equal(now.length, 1);
    assert.deepEqual(coalesced, []);
  });
});
