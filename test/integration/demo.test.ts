/** `tokenpool demo`, the README's first command, tells the whole story and exits 0. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli';

test('tokenpool demo: served across accounts, invalid_grant disables, re-add heals, without a restart', async () => {
  const { code, stdout, stderr } = await runCli(['demo']);
  assert.equal(code, 0, stdout + stderr);
  const served = (from: number, to: number) =>
    stdout
      .split('\n')
      .filter((l) => {
        const n = Number(/"hello #(\d+)"/.exec(l)?.[1]);
        return n >= from && n <= to;
      })
      .map((l) => /served by (\S+)/.exec(l)?.[1]);
  assert.deepEqual(new Set(served(1, 6)), new Set(['ada@example.com', 'bob@example.com', 'cy@example.com']));
  assert.ok(served(7, 10).every((who) => who && who !== 'bob@example.com'), 'bob serves nothing while disabled');
  assert.match(stdout, /Disabling account due to invalid_grant \(bob@example\.com\)/);
  assert.match(stdout, /"disabled": true\n\s+"disabled_at": \d+\n\s+"disabled_reason": "invalid_grant: Token has been expired or revoked\."/);
  assert.match(stdout, /Re-enabled account \(bob@example\.com\): token changed on re-add/);
  assert.ok(served(11, 13).includes('bob@example.com'), 'bob serves again');
  assert.doesNotMatch(stdout, /-> (?!200)\d{3}/, 'every request was answered 200');
  assert.match(stdout, /The story holds/);
});
