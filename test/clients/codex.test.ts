/**
 * Codex CLI (Responses API only) through a custom provider in a temporary CODEX_HOME: `codex exec`
 * on Gemini 2.5, Gemini 3 and Claude on Vertex, each with a shell round trip (`exec_command`) and a
 * file edit through the freeform `apply_patch` tool, both checked on disk. The model is named
 * `gpt-5.5` (a model in Codex's own catalog, so Codex declares apply_patch and knows its metadata)
 * and routed by `routing.model_aliases`, as a user would set it up.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { UpstreamRequest } from '../fakes/upstream';
import { explain, geminiFunctionNames, makeSandbox, returnedCallSignature, runClient, startStack, type Sandbox, type Stack } from './harness';

const CLIENT_MODEL = 'gpt-5.5';
const TARGETS = ['gemini-2.5-pro', 'gemini-3-pro-preview', 'claude-sonnet-4-5@20250929'];

/** The README's config.toml: only base_url, env_key and wire_api. */
async function codexHome(sandbox: Sandbox, stack: Stack, extra: string[]): Promise<string> {
  const home = join(sandbox.home, '.codex');
  await fs.mkdir(home, { recursive: true });
  await fs.writeFile(
    join(home, 'config.toml'),
    [
      'model_provider = "tokenpool"',
      `model = "${CLIENT_MODEL}"`,
      '',
      '[model_providers.tokenpool]',
      'name = "tokenpool"',
      `base_url = "${stack.url}/v1"`,
      'env_key = "TOKENPOOL_KEY"',
      'wire_api = "responses"',
      ...extra,
      '',
    ].join('\n'),
  );
  return home;
}

const declared = (r: UpstreamRequest): string[] =>
  r.route === 'vertex-anthropic' ? ((r.body as { tools?: { name: string }[] }).tools ?? []).map((t) => t.name) : geminiFunctionNames(r.body);

async function codexExec(stack: Stack, prompt: string, extra: string[] = []): Promise<{ run: Awaited<ReturnType<typeof runClient>>; sandbox: Sandbox }> {
  const sandbox = await makeSandbox('codex');
  const home = await codexHome(sandbox, stack, extra);
  const run = await runClient('codex', ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', prompt], {
    sandbox,
    env: { CODEX_HOME: home, TOKENPOOL_KEY: stack.apiKey },
  });
  return { run, sandbox };
}

for (const target of TARGETS) {
  describe(`Codex on ${target}`, () => {
    const route = target.startsWith('claude') ? 'vertex-anthropic' : 'vertex-gemini';

    test('exec_command writes the file and the answer carries its output', async () => {
      const stack = await startStack({ aliases: { 'gpt-*': target } });
      const canary = `CANARY-${target.replace(/[^a-z0-9]/g, '')}`;
      const call = JSON.stringify({ cmd: `echo ${canary} | tee out.txt` });
      const { run, sandbox } = await codexExec(stack, `Run it. [[call exec_command ${call}]]`);
      try {
        const why = explain(run, stack);
        assert.equal(run.code, 0, why);
        assert.equal((await fs.readFile(join(sandbox.work, 'out.txt'), 'utf8')).trim(), canary, why);
        assert.match(run.stdout, new RegExp(`tool said: [\\s\\S]*${canary}`), why);
        // Codex tries no WebSocket it has to wait out: a round trip takes seconds, not reconnect delays.
        assert.ok(run.ms < 30_000, `took ${run.ms} ms`);
        const calls = stack.upstream.requests;
        assert.ok(calls.length >= 2 && calls.every((r) => r.route === route && r.status === 200), why);
        assert.ok(calls.every((r) => r.model === target), why);
        assert.ok(declared(calls[0]).includes('exec_command'), why);
        if (target.startsWith('gemini-3')) assert.ok(returnedCallSignature(calls.at(-1)!.body), 'the call went back with its thought signature');
      } finally {
        await sandbox.close();
        await stack.close();
      }
    });

    test('apply_patch (freeform) adds a file', async () => {
      const stack = await startStack({ aliases: { 'gpt-*': target } });
      const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hi from codex\n*** End Patch\n';
      const { run, sandbox } = await codexExec(stack, `Edit. [[call apply_patch ${JSON.stringify({ input: patch })}]]`);
      try {
        const why = explain(run, stack);
        assert.equal(run.code, 0, why);
        assert.equal(await fs.readFile(join(sandbox.work, 'hello.txt'), 'utf8'), 'hi from codex\n', why);
        assert.match(run.stdout, /tool said: [\s\S]*hello\.txt/, why);
        assert.ok(declared(stack.upstream.requests[0]).includes('apply_patch'), why);
      } finally {
        await sandbox.close();
        await stack.close();
      }
    });
  });
}

// With `supports_websockets = true` Codex opens GET /v1/responses with an Upgrade first. Answered
// 404 it reconnects six times (about 6.4 s, measured against a recording server) before posting;
// tokenpool's 426 makes it post at once. Measured from the proxy's 426 to the request reaching the
// upstream, so a slow start of Codex on a loaded machine does not count.
test('Codex with supports_websockets = true falls back to HTTP at once', async () => {
  const stack = await startStack({ aliases: { 'gpt-*': 'gemini-2.5-pro' } });
  const { run, sandbox } = await codexExec(stack, 'Say hello.', ['supports_websockets = true']);
  try {
    const why = explain(run, stack);
    assert.equal(run.code, 0, why);
    assert.match(run.stdout, /echo: [\s\S]*Say hello\./, why);
    assert.match(run.stdout + run.stderr, /failed to connect to Responses WebSocket/, `Codex tried no WebSocket\n${why}`);
    const declined = /^(\S+) info {2}\[proxy\] GET \/v1\/responses asked for a WebSocket/m.exec(stack.serveLog());
    assert.ok(declined, `the proxy saw no WebSocket request\n${why}`);
    const fallback = stack.upstream.requests[0].receivedAt - Date.parse(declined[1]);
    assert.ok(fallback < 2_000, `${fallback} ms from the 426 to the HTTP request: reconnect delays\n${why}`);
  } finally {
    await sandbox.close();
    await stack.close();
  }
});
