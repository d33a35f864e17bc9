/**
 * The pool as a Language Model Chat Provider in a real VS Code (code-server 4.139.1 = VS Code
 * 1.139, DESIGN section 12). The probe extension plays "another extension": it calls
 * `vscode.lm.selectChatModels({ vendor: 'tokenpool' })` and `sendRequest` inside the extension
 * host, against FakeGoogle and FakeUpstream in this process, and hands back what the stream gave.
 * Covers streamed text, a Gemini 3 tool round trip (the fake refuses a second turn whose function
 * call lost its thought signature, so an accepted one proves it came back), an image, toolMode required, cancellation mid-stream (the fake
 * sees its request closed), failover when an account is disabled mid-run (the tree shows it), the
 * sentence when every account is disabled, and token counting. Then the Chat view itself: its model
 * picker offers the Token Pool models, and sending there asks for a GitHub Copilot sign-in first.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signatureFromToolCallId } from '../../src/protocols/gemini-signature';
import { launchVSCode, productVsix, repoRoot, type VSCodeSession } from './harness';
import { startFromKnownState } from './known-state';
import { MODEL, PoolFixture } from './pool-fixture';

const ADA = 'ada@example.com';
const BOB = 'bob@example.com';
const GEMINI_3 = 'gemini-3-pro-preview';
/** Set by `npm run screenshots`: refresh the README's picture of the Chat view too. */
const refreshReadmePictures = process.env.TOKENPOOL_E2E_README_SCREENSHOTS === '1';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** What the probe hands back for one response part. */
type Part =
  | { type: 'text'; value: string }
  | { type: 'tool'; callId: string; name: string; input: Record<string, unknown> }
  | { type: 'thinking'; value: string }
  | { type: 'data'; mimeType: string; json?: unknown }
  | { type: 'other'; name: string };

interface ChatRun { parts: Part[]; error?: { message: string; code?: string } }

/** A message for the probe to build: role, text, tool calls, tool results, images (base64). */
interface Msg {
  role: 'user' | 'assistant';
  text?: string;
  calls?: { callId: string; name: string; input: Record<string, unknown> }[];
  results?: { callId: string; text: string }[];
  images?: { mimeType: string; base64: string }[];
}

interface ChatArg {
  model: string;
  messages: Msg[];
  tools?: { name: string; description: string; inputSchema?: object }[];
  required?: boolean;
  /** Cancel the request after this many parts. */
  cancelAfter?: number;
}

describe('Token Pool models in VS Code\'s chat (vscode.lm)', { timeout: 600_000 }, () => {
  let fx: PoolFixture;
  let vs: VSCodeSession;

  /** Runs one chat request in the extension host, as another extension would, and collects its stream. */
  const chat = (arg: ChatArg): Promise<ChatRun> => vs.probe(async (vscode, a: ChatArg) => {
    const [model] = await vscode.lm.selectChatModels({ vendor: 'tokenpool', id: a.model });
    if (!model) throw new Error(`no tokenpool model ${a.model}; listed: ${JSON.stringify((await vscode.lm.selectChatModels({ vendor: 'tokenpool' })).map((m) => m.id))}`);
    const api = vscode as unknown as { LanguageModelDataPart: { image(data: Uint8Array, mime: string): unknown } };
    const messages = a.messages.map((m) => {
      const content: unknown[] = [];
      if (m.text) content.push(new vscode.LanguageModelTextPart(m.text));
      for (const c of m.calls ?? []) content.push(new vscode.LanguageModelToolCallPart(c.callId, c.name, c.input));
      for (const r of m.results ?? []) content.push(new vscode.LanguageModelToolResultPart(r.callId, [new vscode.LanguageModelTextPart(r.text)]));
      for (const i of m.images ?? []) content.push(api.LanguageModelDataPart.image(Buffer.from(i.base64, 'base64'), i.mimeType));
      const role = m.role === 'user' ? vscode.LanguageModelChatMessageRole.User : vscode.LanguageModelChatMessageRole.Assistant;
      return new vscode.LanguageModelChatMessage(role, content as never);
    });
    const source = new vscode.CancellationTokenSource();
    const parts: Part[] = [];
    try {
      const response = await model.sendRequest(messages, {
        tools: a.tools,
        toolMode: a.required ? vscode.LanguageModelChatToolMode.Required : vscode.LanguageModelChatToolMode.Auto,
      }, source.token);
      for await (const part of response.stream) {
        const p = part as Record<string, unknown>;
        if (part instanceof vscode.LanguageModelTextPart) parts.push({ type: 'text', value: part.value });
        else if (part instanceof vscode.LanguageModelToolCallPart) parts.push({ type: 'tool', callId: part.callId, name: part.name, input: part.input as Record<string, unknown> });
        else if (typeof p.mimeType === 'string' && p.data instanceof Uint8Array) {
          const isJson = p.mimeType.includes('json');
          parts.push({ type: 'data', mimeType: p.mimeType, ...(isJson ? { json: JSON.parse(Buffer.from(p.data).toString('utf8')) } : {}) });
        } else if ('value' in p) parts.push({ type: 'thinking', value: Array.isArray(p.value) ? p.value.join('') : String(p.value) });
        else parts.push({ type: 'other', name: (part as object).constructor.name });
        if (a.cancelAfter !== undefined && parts.length >= a.cancelAfter) source.cancel();
      }
      return { parts };
    } catch (err) {
      const e = err as { message?: string; code?: string };
      return { parts, error: { message: String(e.message), ...(e.code ? { code: e.code } : {}) } };
    } finally {
      source.dispose();
    }
  }, arg, 60_000);

  const text = (run: ChatRun): string => run.parts.flatMap((p) => (p.type === 'text' ? [p.value] : [])).join('');
  const geminiRequests = () => fx.upstream.requests.filter((r) => r.route === 'vertex-gemini');
  const knownState = (accounts: string[]): Promise<void> => startFromKnownState(vs, fx, { accounts });

  before(async () => {
    fx = await PoolFixture.start({ models: [MODEL, GEMINI_3] });
    for (const email of [ADA, BOB]) await fx.addAccount(email);
    vs = await launchVSCode({ name: 'chat', extensions: [productVsix()], env: fx.env, settings: fx.settings });
  });

  after(async () => {
    await vs?.stop();
    await fx?.close();
  });

  test('the pool\'s models are listed under the vendor tokenpool, with their limits', async () => {
    await knownState([ADA, BOB]);
    const models = await vs.waitFor(async () => {
      const listed = await vs.probe(async (vscode) => (await vscode.lm.selectChatModels({ vendor: 'tokenpool' }))
        .map((m) => ({ id: m.id, name: m.name, vendor: m.vendor, family: m.family, maxInputTokens: m.maxInputTokens })));
      return listed.length === 2 ? listed : undefined;
    }, { message: 'vscode.lm should list the two configured models', timeoutMs: 30_000 });
    assert.deepEqual(models, [
      { id: MODEL, name: 'Gemini 2.5 Flash', vendor: 'tokenpool', family: MODEL, maxInputTokens: 1_048_576 },
      { id: GEMINI_3, name: 'Gemini 3 Pro Preview', vendor: 'tokenpool', family: GEMINI_3, maxInputTokens: 1_048_576 },
    ]);
  });

  test('a request streams its answer as text parts, then the usage', async () => {
    await knownState([ADA, BOB]);
    fx.upstream.pace({ chunks: 4, intervalMs: 20 });
    const before = fx.upstream.requests.length;
    const run = await chat({ model: MODEL, messages: [{ role: 'user', text: 'hello from the chat' }] });
    assert.equal(run.error, undefined, JSON.stringify(run.error));
    assert.equal(text(run), 'echo: hello from the chat');
    assert.ok(run.parts.filter((p) => p.type === 'text').length >= 2, `streamed in pieces: ${JSON.stringify(run.parts)}`);
    const usage = run.parts.filter((p) => p.type === 'data');
    assert.equal(usage.length, 1, `one usage part: ${JSON.stringify(run.parts)}`);
    assert.equal(usage[0].mimeType, 'application/vnd.tokenpool.usage+json');
    const counted = usage[0].json as { inputTokens: number; outputTokens: number };
    assert.deepEqual([counted.inputTokens, counted.outputTokens], [4, 5], 'the fake counts words: 4 in, 5 out');
    assert.equal(run.parts.at(-1), usage[0], 'the usage comes last');
    const sent = fx.upstream.requests.slice(before);
    assert.equal(sent.length, 1);
    assert.match(sent[0].path, new RegExp(`/publishers/google/models/${MODEL}:streamGenerateContent$`));
    assert.ok(sent[0].email === ADA || sent[0].email === BOB, 'a pool account authorised it');
  });

  test('thinking comes back as thinking parts before the answer, where VS Code has them', async () => {
    await knownState([ADA, BOB]);
    const run = await chat({ model: MODEL, messages: [{ role: 'user', text: 'think first [[think]]' }] });
    assert.equal(run.error, undefined, JSON.stringify(run.error));
    const thinking = run.parts.filter((p) => p.type === 'thinking').map((p) => (p as { value: string }).value).join('');
    assert.equal(thinking, 'thinking about it');
    assert.ok(run.parts.findIndex((p) => p.type === 'thinking') < run.parts.findIndex((p) => p.type === 'text'), 'the thought comes first');
    assert.equal(text(run), 'echo: think first [[think]]');
    const body = geminiRequests().at(-1)?.body as { generationConfig?: { thinkingConfig?: unknown } };
    assert.deepEqual(body.generationConfig?.thinkingConfig, { includeThoughts: true });
  });

  test('a Gemini 3 tool round trip keeps the thought signature in the callId; the second turn is accepted', async () => {
    await knownState([ADA, BOB]);
    const tools = [{ name: 'list_files', description: 'Lists the files of a folder', inputSchema: { type: 'object', properties: { dir: { type: 'string' } }, required: ['dir'] } }];
    const ask: Msg = { role: 'user', text: 'what is in src? [[call list_files {"dir":"src"}]]' };
    const first = await chat({ model: GEMINI_3, messages: [ask], tools });
    assert.equal(first.error, undefined, JSON.stringify(first.error));
    const call = first.parts.find((p): p is Extract<Part, { type: 'tool' }> => p.type === 'tool');
    assert.ok(call, `a tool call: ${JSON.stringify(first.parts)}`);
    assert.equal(call.name, 'list_files');
    assert.deepEqual(call.input, { dir: 'src' });
    assert.match(call.callId, /^tpsig_/, 'the signature rides in the callId');

    const second = await chat({ model: GEMINI_3, tools, messages: [
      ask,
      { role: 'assistant', calls: [call] },
      { role: 'user', results: [{ callId: call.callId, text: 'a.ts b.ts' }] },
    ] });
    assert.equal(second.error, undefined, JSON.stringify(second.error));
    assert.equal(text(second), 'tool said: a.ts b.ts');
    const body = geminiRequests().at(-1)?.body as { contents: { role: string; parts: Record<string, unknown>[] }[] };
    const modelTurn = body.contents.find((c) => c.role === 'model');
    const minted = signatureFromToolCallId(call.callId);
    assert.match(Buffer.from(minted ?? '', 'base64').toString(), /^sig-\d+$/, 'the callId carries the signature the fake minted');
    assert.equal(modelTurn?.parts[0].thoughtSignature, minted, `the function call went back with it: ${JSON.stringify(modelTurn)}`);
  });

  test('an image goes upstream as inline data', async () => {
    await knownState([ADA, BOB]);
    const run = await chat({ model: MODEL, messages: [{ role: 'user', text: 'what is this?', images: [{ mimeType: 'image/png', base64: PNG.toString('base64') }] }] });
    assert.equal(run.error, undefined, JSON.stringify(run.error));
    const body = geminiRequests().at(-1)?.body as { contents: { parts: Record<string, unknown>[] }[] };
    assert.deepEqual(body.contents[0].parts, [{ text: 'what is this?' }, { inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } }]);
  });

  test('toolMode required reaches Gemini as function calling mode ANY', async () => {
    await knownState([ADA, BOB]);
    const tools = [{ name: 'now', description: 'The time' }];
    const run = await chat({ model: MODEL, tools, required: true, messages: [{ role: 'user', text: 'what time is it? [[call now]]' }] });
    assert.equal(run.error, undefined, JSON.stringify(run.error));
    assert.deepEqual(run.parts.filter((p) => p.type === 'tool').map((p) => ({ ...p, callId: '' })), [{ type: 'tool', callId: '', name: 'now', input: {} }], 'a call without arguments has input {}');
    const body = geminiRequests().at(-1)?.body as { toolConfig?: unknown };
    assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode: 'ANY' } });
  });

  test('cancelling mid-stream closes the upstream request at once', async () => {
    await knownState([ADA, BOB]);
    fx.upstream.pace({ chunks: 40, intervalMs: 250 });
    try {
      const before = fx.upstream.requests.length;
      const started = Date.now();
      const run = await chat({ model: MODEL, messages: [{ role: 'user', text: 'a long answer please, in many many pieces' }], cancelAfter: 1 });
      const request = fx.upstream.requests[before];
      assert.ok(request, 'the request went upstream');
      const outcome = await Promise.race([request.settled, new Promise((resolve) => setTimeout(() => resolve('still open'), 3000))]);
      const version = await vs.probe((vscode) => vscode.version);
      assert.equal(outcome, 'aborted', `the fake saw its request closed (VS Code ${version}; before 1.127 VS Code does not pass a cancel on to the provider)`);
      assert.ok(Date.now() - started < 40 * 250, 'long before the answer would have ended');
      assert.ok(run.parts.length < 10, `the stream stopped: ${run.parts.length} parts`);
    } finally {
      fx.upstream.pace({ chunks: 3, intervalMs: 0 });
    }
  });

  test('an account disabled mid-run: the requests fail over to the other, and the tree shows it disabled', async () => {
    await knownState([ADA, BOB]);
    fx.google.revokeRefreshToken((await fx.account(ADA)).token.refresh_token);
    fx.google.expireAccessTokens(ADA);
    for (let i = 0; i < 4 && !(await fx.account(ADA)).disabled; i++) {
      const run = await chat({ model: MODEL, messages: [{ role: 'user', text: `turn ${i}` }] });
      assert.equal(run.error, undefined, `turn ${i} is answered by the other account: ${JSON.stringify(run.error)}`);
      assert.equal(text(run), `echo: turn ${i}`);
    }
    assert.equal((await fx.account(ADA)).disabled, true, `${ADA} is disabled in its file`);
    await vs.clickActivityBar('Token Pool');
    await vs.waitForRow(ADA, (d) => d.startsWith('disabled'), `${ADA}'s row should say disabled`);
    await vs.screenshot('failover-tree');
  });

  test('with every account disabled a request fails with one sentence naming Re-authenticate', async () => {
    await knownState([ADA, BOB]);
    for (const email of [ADA, BOB]) {
      fx.google.revokeRefreshToken((await fx.account(email)).token.refresh_token);
      fx.google.expireAccessTokens(email);
    }
    let run: ChatRun | undefined;
    for (let i = 0; i < 4; i++) {
      run = await chat({ model: MODEL, messages: [{ role: 'user', text: 'anyone there?' }] });
      if ((await fx.account(ADA)).disabled && (await fx.account(BOB)).disabled && run.error?.code) break;
    }
    assert.equal(run?.error?.message, 'All 2 Token Pool accounts are disabled (the sign-in expired or was revoked): run "Token Pool: Re-authenticate" on each in the Token Pool view.');
    assert.equal(run?.error?.code, 'NoPermissions');
  });

  test('token counting goes to countTokens through the pool, once per text', async () => {
    await knownState([ADA, BOB]);
    const before = fx.upstream.requests.length;
    const counts = await vs.probe(async (vscode, id: string) => {
      const [model] = await vscode.lm.selectChatModels({ vendor: 'tokenpool', id });
      const token = new vscode.CancellationTokenSource().token;
      return [
        await model.countTokens('one two three four five', token),
        await model.countTokens('one two three four five', token),
        await model.countTokens(vscode.LanguageModelChatMessage.User('six seven'), token),
      ];
    }, MODEL);
    assert.deepEqual(counts, [5, 5, 2]);
    const sent = fx.upstream.requests.slice(before);
    assert.equal(sent.filter((r) => r.path.endsWith(':countTokens')).length, 2, 'the second count of the same text came from the cache');
  });

  test('the Chat view\'s model picker offers the Token Pool models; answering there asks for a GitHub Copilot sign-in', async () => {
    await knownState([ADA, BOB]);
    await vs.probe((vscode) => vscode.commands.executeCommand('workbench.action.chat.open'));
    const chatView = vs.page.locator('.part.auxiliarybar');
    const picker = chatView.locator('.chat-input-picker-label').filter({ hasText: /^Gemini/ }).first();
    await picker.waitFor({ timeout: 20_000 });
    await picker.click();
    const menu = vs.page.locator('.action-widget').filter({ hasText: 'Token Pool' }).first();
    await menu.waitFor({ timeout: 10_000 });
    assert.match((await menu.innerText()).replace(/\s+/g, ' '), /Gemini 2\.5 Flash Token Pool/);
    await vs.page.waitForTimeout(500);
    const file = await vs.screenshot('chat-view-model-picker');
    if (refreshReadmePictures) await fs.copyFile(file, path.join(repoRoot, 'media', 'screenshots', 'chat-model-picker.png'));
    await vs.page.keyboard.press('Escape');

    // code-server's Chat view is GitHub Copilot Chat's: it asks for a sign-in before it sends anything.
    const before = fx.upstream.requests.length;
    await chatView.locator('.interactive-input-part .monaco-editor').first().click();
    await vs.page.keyboard.type('Say hello');
    await vs.page.keyboard.press('Enter');
    await vs.page.getByText('Sign in to use GitHub Copilot').first().waitFor({ timeout: 20_000 });
    await vs.screenshot('chat-view-sign-in');
    assert.equal(fx.upstream.requests.length, before, 'nothing reached Google');
    await vs.page.keyboard.press('Escape');
  });
});
