/**
 * The chat provider's work without VS Code (DESIGN section 12): ChatBackend over a PoolRuntime on a
 * real data directory, against FakeGoogle and FakeUpstream over real HTTP. A chat request goes
 * through forward.ts's attempt loop (failover, invalid_grant disabling), Claude on Vertex as well as
 * Gemini; an abort closes the upstream request mid-stream; token counts are cached.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryLogger } from '../../src/core/log';
import { ChatBackend } from '../../src/vscode/chat/backend';
import type { ChatInputMessage, ChatRequestOptions, ChatResponsePart } from '../../src/vscode/chat/parts';
import { PoolRuntime } from '../../src/vscode/runtime';
import { startProxyHarness, type ProxyHarness } from '../helpers/proxy-harness';

const CLAUDE = 'claude-sonnet-4-5@20250929';
const options: ChatRequestOptions = { tools: [], toolMode: 'auto', modelOptions: {}, thinking: false };
const ask = (text: string): ChatInputMessage[] => [{ role: 'user', parts: [{ kind: 'text', value: text }] }];

void describe('ChatBackend: chat requests through the pool', () => {
  let h: ProxyHarness;
  let runtime: PoolRuntime;
  let backend: ChatBackend;
  const log = new MemoryLogger();

  const respond = async (model: string, messages: ChatInputMessage[], signal = new AbortController().signal, onPart?: (part: ChatResponsePart) => void) => {
    const parts: ChatResponsePart[] = [];
    await backend.respond(model, messages, options, (part) => {
      parts.push(part);
      onPart?.(part);
    }, signal);
    return parts;
  };
  const text = (parts: ChatResponsePart[]): string => parts.flatMap((p) => (p.kind === 'text' ? [p.value] : [])).join('');

  before(async () => {
    h = await startProxyHarness({ accounts: 2, configure: (c) => { c.upstream.models = ['gemini-2.5-flash', CLAUDE, 'meta/llama-4']; } });
    runtime = new PoolRuntime(async () => ({ dataDir: h.dataDir, config: h.config }), log);
    await runtime.refresh();
    backend = new ChatBackend(runtime, log);
  });

  after(async () => {
    backend?.dispose();
    await runtime?.close();
    await h?.close();
  });

  test('lists the upstream.models the chat can serve (not a Vertex MaaS model)', () => {
    assert.deepEqual(backend.models().map((m) => m.id), ['gemini-2.5-flash', CLAUDE]);
  });

  test('a Gemini answer streams as text parts, then usage; a Claude one goes to Vertex\'s Anthropic route', async () => {
    h.upstream.pace({ chunks: 3, intervalMs: 5 });
    const gemini = await respond('gemini-2.5-flash', ask('hello there'));
    assert.equal(text(gemini), 'echo: hello there');
    assert.ok(gemini.filter((p) => p.kind === 'text').length >= 2, 'in pieces');
    assert.equal(gemini.at(-1)?.kind, 'usage');
    assert.equal(h.upstream.requests.at(-1)?.route, 'vertex-gemini');

    const claude = await respond(CLAUDE, ask('hello claude'));
    assert.equal(text(claude), 'echo: hello claude');
    assert.equal(h.upstream.requests.at(-1)?.route, 'vertex-anthropic');
  });

  test('an abort mid-stream closes the upstream request at once and rejects as cancelled', async () => {
    h.upstream.pace({ chunks: 50, intervalMs: 100 });
    try {
      const before = h.upstream.requests.length;
      const abort = new AbortController();
      const started = Date.now();
      await assert.rejects(respond('gemini-2.5-flash', ask('a long one'), abort.signal, () => abort.abort()), { name: 'CancelledError' });
      const request = h.upstream.requests[before];
      assert.equal(await request.settled, 'aborted');
      assert.ok(Date.now() - started < 2000, 'long before its 5 s end');
    } finally {
      h.upstream.pace({ chunks: 3, intervalMs: 0 });
    }
  });

  test('a dead refresh token: the account is disabled and the request is answered by the other', async () => {
    const [first] = (await h.store.loadAll()).accounts;
    h.google.revokeRefreshToken(first.token.refresh_token);
    h.google.expireAccessTokens(first.email);
    for (let i = 0; i < 3; i++) assert.equal(text(await respond('gemini-2.5-flash', ask(`turn ${i}`))), `echo: turn ${i}`);
    const reloaded = (await h.store.loadAll()).accounts.find((a) => a.email === first.email);
    assert.equal(reloaded?.disabled, true);
  });

  test('token counts come from countTokens / count_tokens once per text, else the estimate', async () => {
    const before = h.upstream.requests.length;
    assert.equal(await backend.countTokens('gemini-2.5-flash', 'one two three', new AbortController().signal), 3);
    assert.equal(await backend.countTokens('gemini-2.5-flash', 'one two three', new AbortController().signal), 3);
    assert.equal(await backend.countTokens(CLAUDE, 'four five', new AbortController().signal), 2);
    const counted = h.upstream.requests.slice(before).map((r) => r.route);
    assert.deepEqual(counted, ['vertex-gemini', 'vertex-anthropic-count-tokens']);

    // No account can count (every one disabled): four characters a token.
    for (const account of (await h.store.loadAll()).accounts) {
      h.google.revokeRefreshToken(account.token.refresh_token);
      h.google.expireAccessTokens(account.email);
    }
    assert.equal(await backend.countTokens('gemini-2.5-flash', 'x'.repeat(40), new AbortController().signal), 10);
  });
});
