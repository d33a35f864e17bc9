/**
 * Claude Code (`claude -p`, ANTHROPIC_BASE_URL) on Gemini models through model aliases: its claude-*
 * names land on Gemini, it runs its Bash tool once (the effect checked on disk) and the final answer
 * carries the tool's output; on both upstream kinds, and on a Gemini 3 model (whose second turn the
 * fake refuses unless the thought signature came back in the tool_use id). Its small model streams
 * from Flash through the haiku alias.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { explain, geminiFunctionNames, hasFunctionResponse, makeSandbox, returnedCallSignature, runClient, startStack, type Sandbox, type Stack } from './harness';

/** The README's example, plus Opus on Gemini 3. */
const ALIASES = { 'claude-haiku-*': 'gemini-2.5-flash', 'claude-opus-*': 'gemini-3-pro-preview', 'claude-*': 'gemini-2.5-pro' };

interface ClaudeResult {
  type: string;
  is_error: boolean;
  result: string;
}

function claude(stack: Stack, sandbox: Sandbox, args: string[]) {
  return runClient('claude-code', ['-p', ...args], {
    sandbox,
    env: {
      ANTHROPIC_BASE_URL: stack.url,
      ANTHROPIC_API_KEY: stack.apiKey,
      // Any background call uses the small model: a haiku name, which the alias sends to Flash.
      ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5',
      ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-4-5',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      // Lets --dangerously-skip-permissions run as root (CI containers); refused otherwise.
      IS_SANDBOX: '1',
    },
  });
}

const CASES = [
  { kind: 'vertex', model: 'claude-sonnet-4-5', upstream: 'gemini-2.5-pro' },
  { kind: 'gemini', model: 'claude-sonnet-4-5', upstream: 'gemini-2.5-pro' },
  { kind: 'vertex', model: 'claude-opus-4-6', upstream: 'gemini-3-pro-preview' },
] as const;

for (const { kind, model, upstream } of CASES) {
  describe(`Claude Code ${model} on ${upstream} (upstream ${kind})`, () => {
    test('Bash runs, the file is written, the answer carries the tool output', async (t) => {
      const stack = await startStack({ upstreamKind: kind, aliases: ALIASES });
      const sandbox = await makeSandbox('claude-code');
      try {
        const canary = `CANARY-${model.replace(/[^a-z0-9]/g, '')}-${kind}`;
        const call = JSON.stringify({ command: `echo ${canary} | tee out.txt`, description: 'write the canary' });
        const run = await claude(stack, sandbox, [
          `Write the canary file. [[call Bash ${call}]]`, '--model', model, '--output-format', 'json', '--dangerously-skip-permissions',
        ]);
        const why = explain(run, stack);
        t.diagnostic(stack.describeRequests());
        assert.equal(run.code, 0, why);
        const result = JSON.parse(run.stdout) as ClaudeResult;
        assert.equal(result.is_error, false, why);

        // What the user checks: the command ran in the working directory, and the answer reports it.
        assert.equal(await fs.readFile(join(sandbox.work, 'out.txt'), 'utf8').catch(() => '(no out.txt)'), `${canary}\n`, why);
        assert.match(result.result, new RegExp(`tool said: [\\s\\S]*${canary}`), why);

        // Every call went to Gemini (none to publishers/anthropic), streamed.
        const calls = stack.upstream.requests;
        for (const c of calls) {
          assert.equal(c.route, kind === 'vertex' ? 'vertex-gemini' : 'gemini-api', why);
          assert.ok(c.path.endsWith(':streamGenerateContent'), why);
          assert.equal(c.status, 200, why);
        }
        // The main calls: Claude Code's tools as function declarations, the second one carrying the
        // Bash result back.
        const main = calls.filter((c) => c.model === upstream && geminiFunctionNames(c.body).includes('Bash'));
        assert.ok(main.length >= 2, why);
        const back = main.find((c) => hasFunctionResponse(c.body));
        assert.ok(back, why);
        if (upstream.startsWith('gemini-3')) {
          assert.ok(returnedCallSignature(back.body), `the functionCall went back with its thoughtSignature\n${why}`);
        }
        // Anything else Claude Code sent used its small model, which the haiku alias sends to Flash.
        for (const c of calls.filter((x) => !main.includes(x))) assert.equal(c.model, 'gemini-2.5-flash', why);
      } finally {
        await sandbox.close();
        await stack.close();
      }
    });
  });
}

describe('Claude Code with its small model', () => {
  test('--model haiku streams (stream-json) from gemini-2.5-flash through the haiku alias', async (t) => {
    const stack = await startStack({ aliases: ALIASES });
    const sandbox = await makeSandbox('claude-code');
    try {
      const run = await claude(stack, sandbox, [
        'Say hello to CANARY-H1', '--model', 'haiku', '--output-format', 'stream-json', '--verbose', '--include-partial-messages',
      ]);
      const why = explain(run, stack);
      t.diagnostic(stack.describeRequests());
      assert.equal(run.code, 0, why);
      type Line = { type: string; event?: { delta?: { type: string; text?: string } }; result?: string; is_error?: boolean };
      const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
      // The answer arrived as Anthropic stream events, its text in more than one delta.
      const deltas = lines.filter((l) => l.type === 'stream_event' && l.event?.delta?.type === 'text_delta').map((l) => l.event!.delta!.text);
      assert.ok(deltas.length >= 2, why);
      const result = lines.find((l) => l.type === 'result');
      assert.equal(result?.is_error, false, why);
      assert.match(result?.result ?? '', /echo: [\s\S]*Say hello to CANARY-H1/, why);
      assert.equal(deltas.join(''), result?.result, why);
      assert.ok(stack.upstream.requests.length >= 1, why);
      for (const c of stack.upstream.requests) {
        assert.equal(c.route, 'vertex-gemini', why);
        assert.equal(c.model, 'gemini-2.5-flash', why);
        assert.equal(c.status, 200, why);
      }
    } finally {
      await sandbox.close();
      await stack.close();
    }
  });
});
