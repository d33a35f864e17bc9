/** ClientSignal: what the forward loop and undici see when the client goes away. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { ClientSignal } from '../../src/proxy/clientSignal';

describe('ClientSignal', () => {
  test('fires "abort" once, however often abort() is called', () => {
    const signal = new ClientSignal();
    let fired = 0;
    signal.on('abort', () => fired++);
    assert.equal(signal.aborted, false);
    signal.abort();
    signal.abort();
    assert.equal(signal.aborted, true);
    assert.equal(fired, 1);
  });

  test('its AbortSignal follows it: made before the abort, it is aborted with it', async () => {
    const signal = new ClientSignal();
    const abortSignal = signal.abortSignal;
    assert.equal(abortSignal.aborted, false);
    assert.equal(signal.abortSignal, abortSignal, 'one per request');
    const aborted = once(abortSignal, 'abort');
    signal.abort();
    await aborted;
    assert.equal(abortSignal.aborted, true);
  });

  test('asked for after the abort, its AbortSignal is already aborted', () => {
    const signal = new ClientSignal();
    signal.abort();
    assert.equal(signal.abortSignal.aborted, true);
  });
});
