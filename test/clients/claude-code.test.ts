/**
 * Claude Code (`claude -p`, ANTHROPIC_BASE_URL) on a Gemini model through model aliases: its
 * claude-* names land on Gemini, it runs its Bash tool once (the effect checked on disk) and the final
 * answer carries the tool's output.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { explain, geminiFunctionNames, hasFunctionResponse, makeSandbox, runClient, startStack } from './harness';

/** The README's example: Claude Code's model names land on Gemini. */
const ALIASES = { 'claude-haiku-*': 'gemini-2.5-flash', 'claude-*': 'gemini-2.5-pro' };

interface ClaudeResult {
  type: string;
  is_error: boolean;
  result: string;
  num_turns: number;
}

describe('Claude Code on Gemini through aliases', () => {
  test('Bash runs, the file is written, the answer carries the tool output', async (t) => {
    const stack = await startStack({ aliases: ALIASES });
    const sandbox = await makeSandbox('claude-code');
    try {
      const call = JSON.stringify({ command: 'echo CANARY-123 | tee out.txt', description: 'write the canary' });
      const prompt = `Write the canary file. [[call Bash ${call}]]`;
      const run = await runClient(
        'claude-code',
        ['-p', prompt, '--model', 'claude-sonnet-4-5', '--output-format', 'json', '--dangerously-skip-permissions'],
        {
          sandbox,
          env: {
            ANTHROPIC_BASE_URL: stack.url,
            ANTHROPIC_API_KEY: stack.apiKey,
            // Background calls (titles, summaries) use the small model: a haiku name, so the alias sends it to Flash.
            ANTHROPIC_SMALL_FAST_MODEL: 'claude-haiku-4-5',
            ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-4-5',
            DISABLE_TELEMETRY: '1',
            DISABLE_AUTOUPDATER: '1',
            DISABLE_ERROR_REPORTING: '1',
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
            // Lets --dangerously-skip-permissions run as root (CI containers).
            IS_SANDBOX: '1',
          },
        },
      );
      const why = explain(run, stack);
      t.diagnostic(stack.describeRequests());
      assert.equal(run.code, 0, why);
      const result = JSON.parse(run.stdout) as ClaudeResult;
      assert.equal(result.is_error, false, why);

      // What the user checks: the command ran in the working directory, and the answer reports it.
      assert.equal(await fs.readFile(join(sandbox.work, 'out.txt'), 'utf8').catch(() => '(no out.txt)'), 'CANARY-123\n', why);
      assert.match(result.result, /tool said: [\s\S]*CANARY-123/, why);

      // Every call went to Gemini (none to publishers/anthropic), streamed.
      const calls = stack.upstream.requests;
      assert.ok(calls.length >= 2, why);
      for (const c of calls) {
        assert.equal(c.route, 'vertex-gemini', why);
        assert.ok(c.path.endsWith(':streamGenerateContent'), why);
        assert.equal(c.status, 200, why);
      }
      // The main calls: gemini-2.5-pro with Claude Code's tools as function declarations, the second
      // one carrying the Bash result back.
      const main = calls.filter((c) => c.model === 'gemini-2.5-pro' && geminiFunctionNames(c.body).includes('Bash'));
      assert.ok(main.length >= 2, why);
      assert.ok(main.some((c) => hasFunctionResponse(c.body)), why);
      // Anything else Claude Code sent used its small model, which the haiku alias sends to Flash.
      for (const c of calls.filter((x) => !main.includes(x))) assert.equal(c.model, 'gemini-2.5-flash', why);
    } finally {
      await sandbox.close();
      await stack.close();
    }
  });
});

describe('Claude Code with its small model', () => {
  test('--model haiku streams (stream-json) from gemini-2.5-flash through the haiku alias', async (t) => {
    const stack = await startStack({ aliases: ALIASES });
    const sandbox = await makeSandbox('claude-code');
    try {
      const run = await runClient(
        'claude-code',
        ['-p', 'Say hello to CANARY-H1', '--model', 'haiku', '--output-format', 'stream-json', '--verbose', '--include-partial-messages'],
        { sandbox, env: { ANTHROPIC_BASE_URL: stack.url, ANTHROPIC_API_KEY: stack.apiKey, DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' } },
      );
      const why = explain(run, stack);
      t.diagnostic(stack.describeRequests());
      assert.equal(run.code, 0, why);
      const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; event?: { type: string; delta?: { type: string; text?: string } }; result?: string; is_error?: boolean });
      // The answer arrived as Anthropic stream events, text in more than one delta.
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
