/**
 * opencode through an OpenAI-compatible provider (opencode.json, /v1/chat/completions) on a Claude
 * model (translated to Anthropic on Vertex), a Gemini model and a Gemini 3 model (whose second turn
 * the fake refuses unless the thought signature came back), each with a bash round trip whose
 * effect is checked on disk.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { explain, geminiFunctionNames, hasFunctionResponse, makeSandbox, returnedCallSignature, runClient, startStack, type Sandbox, type Stack } from './harness';
import type { UpstreamRequest } from '../fakes/upstream';

const MODELS = ['claude-sonnet-4-5', 'gemini-2.5-pro', 'gemini-3-pro-preview'];

/** The README's opencode.json: tokenpool as an OpenAI-compatible provider, the key from the environment. */
async function opencodeConfig(sandbox: Sandbox, stack: Stack): Promise<void> {
  const config = {
    $schema: 'https://opencode.ai/config.json',
    provider: {
      tokenpool: {
        npm: '@ai-sdk/openai-compatible',
        name: 'tokenpool',
        options: { baseURL: `${stack.url}/v1`, apiKey: '{env:TOKENPOOL_KEY}' },
        models: Object.fromEntries(MODELS.map((m) => [m, { name: m }])),
      },
    },
    autoupdate: false,
    share: 'disabled',
  };
  const dir = join(sandbox.env.XDG_CONFIG_HOME!, 'opencode');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(join(dir, 'opencode.json'), JSON.stringify(config));
}

/** Tool names of an upstream request, whichever protocol it was sent in. */
function declaredTools(r: UpstreamRequest): string[] {
  if (r.route === 'vertex-anthropic') return ((r.body as { tools?: { name: string }[] }).tools ?? []).map((t) => t.name);
  return geminiFunctionNames(r.body);
}

/** Whether the request sends a tool's result back, whichever protocol. */
function sendsToolResult(r: UpstreamRequest): boolean {
  if (r.route !== 'vertex-anthropic') return hasFunctionResponse(r.body);
  const messages = (r.body as { messages?: { content: unknown }[] }).messages ?? [];
  return messages.some((m) => Array.isArray(m.content) && m.content.some((b: { type?: string }) => b.type === 'tool_result'));
}

for (const model of MODELS) {
  describe(`opencode on ${model}`, () => {
    test('bash writes the file and the answer carries its output', async (t) => {
      const stack = await startStack();
      const sandbox = await makeSandbox('opencode');
      try {
        await opencodeConfig(sandbox, stack);
        const canary = `CANARY-${model.replace(/[^a-z0-9]/g, '')}`;
        const call = JSON.stringify({ command: `echo ${canary} | tee out.txt`, description: 'write the canary' });
        // The prompt on stdin: `opencode run` quotes a message argument that holds spaces.
        const run = await runClient('opencode', ['run', '-m', `tokenpool/${model}`], {
          sandbox,
          stdin: `Write the canary. [[call bash ${call}]]`,
          env: { TOKENPOOL_KEY: stack.apiKey, OPENCODE_DISABLE_MODELS_FETCH: '1', OPENCODE_DISABLE_AUTOUPDATE: '1', OPENCODE_DISABLE_LSP_DOWNLOAD: '1' },
        });
        const why = explain(run, stack);
        t.diagnostic(stack.describeRequests());
        assert.equal(run.code, 0, why);
        assert.equal(await fs.readFile(join(sandbox.work, 'out.txt'), 'utf8').catch(() => '(no out.txt)'), `${canary}\n`, why);
        assert.match(run.stdout, new RegExp(`tool said: [\\s\\S]*${canary}`), why);

        const claude = model.startsWith('claude-');
        const calls = stack.upstream.requests;
        for (const c of calls) {
          // Chat Completions is translated: never Vertex's OpenAI-compatible pass-through.
          assert.equal(c.route, claude ? 'vertex-anthropic' : 'vertex-gemini', why);
          assert.ok(c.path.endsWith(claude ? ':streamRawPredict' : ':streamGenerateContent'), why);
          assert.equal(c.model, model, why);
          assert.equal(c.status, 200, why);
        }
        const main = calls.filter((c) => declaredTools(c).includes('bash'));
        assert.ok(main.length >= 2, why);
        assert.ok(main.some(sendsToolResult), why);
        if (model.startsWith('gemini-3')) {
          // The second turn returned the functionCall's thought signature (else the fake answers 400).
          const back = main.find((c) => hasFunctionResponse(c.body))!;
          assert.ok(returnedCallSignature(back.body), `the functionCall went back with its thoughtSignature\n${why}`);
        }
      } finally {
        await sandbox.close();
        await stack.close();
      }
    });
  });
}
