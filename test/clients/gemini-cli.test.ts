/**
 * gemini-cli, natively (API-key mode, GOOGLE_GEMINI_BASE_URL) against tokenpool serve on the fakes:
 * a plain prompt on both upstream kinds, and a run_shell_command round trip whose effect is checked
 * on disk.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { explain, geminiFunctionNames, hasFunctionResponse, makeSandbox, runClient, startStack, type Sandbox, type Stack } from './harness';

/** A home gemini-cli starts in without prompts: API-key auth chosen, no update check, no telemetry. */
async function geminiHome(sandbox: Sandbox): Promise<void> {
  await fs.mkdir(join(sandbox.home, '.gemini'), { recursive: true });
  const settings = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    general: { disableAutoUpdate: true, disableUpdateNag: true },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
  };
  await fs.writeFile(join(sandbox.home, '.gemini/settings.json'), JSON.stringify(settings));
}

async function gemini(stack: Stack, sandbox: Sandbox, args: string[]) {
  return runClient('gemini-cli', args, {
    sandbox,
    env: { GOOGLE_GEMINI_BASE_URL: stack.url, GEMINI_API_KEY: stack.apiKey, GEMINI_CLI_TRUST_WORKSPACE: 'true' },
  });
}

for (const kind of ['vertex', 'gemini'] as const) {
  describe(`gemini-cli on upstream ${kind}`, () => {
    test('a prompt is answered through the pool, streamed from :streamGenerateContent', async () => {
      const stack = await startStack({ upstreamKind: kind });
      const sandbox = await makeSandbox('gemini-cli');
      try {
        await geminiHome(sandbox);
        const run = await gemini(stack, sandbox, ['-p', 'Say hello to CANARY-G1', '-m', 'gemini-2.5-flash']);
        const why = explain(run, stack);
        assert.equal(run.code, 0, why);
        assert.match(run.stdout, /echo: [\s\S]*Say hello to CANARY-G1/, why);

        const calls = stack.upstream.requests;
        assert.ok(calls.length >= 1, why);
        for (const call of calls) {
          assert.equal(call.route, kind === 'vertex' ? 'vertex-gemini' : 'gemini-api', why);
          assert.equal(call.model, 'gemini-2.5-flash', why);
          assert.ok(call.path.endsWith(':streamGenerateContent') && call.query.get('alt') === 'sse', why);
          assert.equal(call.status, 200, why);
        }
        // What gemini-cli 0.61 sends (DESIGN section 10): JSON-Schema tools and thoughts included.
        const body = calls[0].body as { tools: { functionDeclarations: { parametersJsonSchema?: object }[] }[]; generationConfig: { thinkingConfig?: object } };
        assert.ok(geminiFunctionNames(body).includes('read_file'), why);
        assert.ok(body.tools[0].functionDeclarations.every((f) => f.parametersJsonSchema), why);
        assert.ok(body.generationConfig.thinkingConfig, why);
      } finally {
        await sandbox.close();
        await stack.close();
      }
    });
  });
}

describe('gemini-cli tool round trip', () => {
  test('run_shell_command writes the file and the answer carries its output', async () => {
    const stack = await startStack();
    const sandbox = await makeSandbox('gemini-cli');
    try {
      await geminiHome(sandbox);
      const call = JSON.stringify({ command: 'echo CANARY-G2 | tee out.txt', description: 'write the canary' });
      const run = await gemini(stack, sandbox, ['-p', `Write the canary. [[call run_shell_command ${call}]]`, '-m', 'gemini-2.5-flash', '--yolo']);
      const why = explain(run, stack);
      assert.equal(run.code, 0, why);
      const first = stack.upstream.requests[0];
      assert.ok(first && geminiFunctionNames(first.body).includes('run_shell_command'), `--yolo declares run_shell_command\n${why}`);
      assert.equal(await fs.readFile(join(sandbox.work, 'out.txt'), 'utf8').catch(() => '(no out.txt)'), 'CANARY-G2\n', why);
      assert.match(run.stdout, /tool said: [\s\S]*CANARY-G2/, why);

      const withTool = stack.upstream.requests.filter((r) => geminiFunctionNames(r.body).includes('run_shell_command'));
      assert.ok(withTool.length >= 2, why);
      assert.ok(withTool.some((r) => hasFunctionResponse(r.body)), why);
      assert.ok(withTool.every((r) => r.route === 'vertex-gemini' && r.status === 200), why);
    } finally {
      await sandbox.close();
      await stack.close();
    }
  });
});
