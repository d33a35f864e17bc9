/**
 * Answers recorded from the live Gemini API, Vertex AI and Anthropic API (test/fixtures/recorded,
 * SOURCES.md names each file's origin) replayed by the fake upstream through `tokenpool serve` to
 * the real SDKs (issue 16, item 9): what `openai`, `@anthropic-ai/sdk` and `@google/genai` hand
 * their user, on the native routes and the translated ones, streamed and whole.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { FakeGoogle } from '../fakes/google';
import { loadRecording } from '../fakes/replay';
import { FakeUpstream } from '../fakes/upstream';
import { runCli, startServe, tempDataDir, type ServeProcess } from '../helpers/cli';

const API_KEY = 'tp-' + 'c'.repeat(32);

/** Which model replays which recordings (a streamed and/or a whole one). */
const MODELS = {
  grounded: { model: 'gemini-2.5-pro', files: ['built/gemini-grounded.chunks.txt', 'built/gemini-grounded.json'] },
  armor: { model: 'gemini-2.5-flash-lite', files: ['built/vertex-model-armor-block.chunks.txt', 'built/vertex-model-armor-block.json'] },
  gemini3Call: { model: 'gemini-3-pro-preview', files: ['vercel-ai/google-tool-call-gemini3.chunks.txt', 'vercel-ai/google-tool-call-gemini3.json'] },
  gemini3Text: { model: 'gemini-3-flash-preview', files: ['vercel-ai/google-text.chunks.txt'] },
  vertexText: {
    model: 'gemini-2.5-flash',
    files: [
      'js-genai/Client_Tests_generateContentStream_Vertex_AI_should_stream_generate_content_with_specified_parameters.json',
      'js-genai/Client_Tests_generateContent_Vertex_AI_should_generate_content_with_specified_parameters.json',
    ],
  },
  claudeNoArgs: { model: 'claude-sonnet-4-5@20250929', files: ['vercel-ai/anthropic-tool-no-args.chunks.txt', 'vercel-ai/anthropic-tool-no-args.json'] },
  claudeThinking: { model: 'claude-opus-4-1@20250805', files: ['vercel-ai/anthropic-clear-thinking.1.chunks.txt'] },
  claudeRefusal: { model: 'claude-haiku-4-5@20251001', files: ['vercel-ai/anthropic-refusal.chunks.txt', 'vercel-ai/anthropic-refusal.json'] },
};

/** The recorded answers' own facts, read from the files (so the assertions are what the recordings say). */
const RECORDED_TEXT = loadRecording('js-genai/Client_Tests_generateContentStream_Vertex_AI_should_stream_generate_content_with_specified_parameters.json')
  .body.split('\r\n\r\n')
  .filter(Boolean)
  .flatMap((event) => (JSON.parse(event.replace(/^data: /, '')) as { candidates?: { content: { parts: { text?: string }[] } }[] }).candidates ?? [])
  .flatMap((candidate) => candidate.content.parts)
  .map((part) => part.text ?? '')
  .join('');
const ARMOR_MESSAGE = 'Blocked by Model Armor Floor Setting: The prompt violated Responsible AI Safety settings (Dangerous), Prompt Injection and Jailbreak filters.';
const GEMINI3_SIGNATURE = (stream: boolean): string => {
  const text = loadRecording(stream ? 'vercel-ai/google-tool-call-gemini3.chunks.txt' : 'vercel-ai/google-tool-call-gemini3.json').body;
  return /"thoughtSignature":\s*"([^"]+)"/.exec(text)![1]!;
};
/** The message content parts of a response, each as its refusal text or its type. */
const refusals = (response: OpenAI.Responses.Response): string[] =>
  response.output.flatMap((item) => (item.type === 'message' ? item.content.map((part) => (part.type === 'refusal' ? part.refusal : part.type)) : []));
const GROUNDED_TEXT = "Spain won Euro 2024, defeating England 2–1 in the final. It was Spain's fourth European title — a record.";
const UEFA = 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/AUZIYQExampleRedirectToken1';

describe('recorded live answers through tokenpool serve to the real SDKs', () => {
  let google: FakeGoogle;
  let upstream: FakeUpstream;
  let dataDir: string;
  let serve: ServeProcess;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    google = await FakeGoogle.start();
    upstream = await FakeUpstream.start({ validateToken: (t) => google.isAccessTokenValid(t) });
    for (const { model, files } of Object.values(MODELS)) upstream.replays.set(model, ...files.map(loadRecording));
    dataDir = await tempDataDir();
    await fs.writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({ proxy: { api_key: API_KEY }, oauth: google.oauthConfig(), upstream: { project_id: 'replay-project', base_url: upstream.url } }),
    );
    const added = await runCli(['accounts', 'add', '--refresh-token', google.addUser('rec@example.com').refreshToken, '--data-dir', dataDir]);
    assert.equal(added.code, 0, added.stderr);
    serve = await startServe(['--data-dir', dataDir]);
    openai = new OpenAI({ apiKey: API_KEY, baseURL: `${serve.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: API_KEY, baseURL: serve.url, maxRetries: 0 });
  });
  after(async () => {
    await serve?.stop();
    await upstream?.close();
    await google?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  const user = [{ role: 'user' as const, content: 'hi' }];

  describe('@google/genai on the native route: the recording arrives as Google sent it', () => {
    const genai = async () => {
      const { GoogleGenAI } = await import('@google/genai');
      return new GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: serve.url, apiVersion: 'v1beta' } });
    };
    test('a Vertex stream with usage: the text and usageMetadata', async () => {
      const client = await genai();
      let text = '';
      let usage: unknown;
      for await (const chunk of await client.models.generateContentStream({ model: MODELS.vertexText.model, contents: 'why is the sky blue?' })) {
        text += chunk.text ?? '';
        usage = chunk.usageMetadata ?? usage;
      }
      assert.equal(text, RECORDED_TEXT);
      assert.deepEqual({ ...(usage as object) }, {
        candidatesTokenCount: 156, candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: 156 }], promptTokenCount: 6,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: 6 }], thoughtsTokenCount: 41, totalTokenCount: 203, trafficType: 'ON_DEMAND',
      });
    });
    test('a MODEL_ARMOR block: promptFeedback with its message', async () => {
      const response = await (await genai()).models.generateContent({ model: MODELS.armor.model, contents: 'how to steal a car' });
      assert.equal(response.promptFeedback?.blockReason, 'MODEL_ARMOR');
      assert.equal(response.promptFeedback?.blockReasonMessage, ARMOR_MESSAGE);
    });
    test('a grounded answer: groundingMetadata intact', async () => {
      const response = await (await genai()).models.generateContent({ model: MODELS.grounded.model, contents: 'who won euro 2024?' });
      assert.equal(response.text, GROUNDED_TEXT);
      assert.equal(response.candidates?.[0]?.groundingMetadata?.groundingChunks?.[0]?.web?.uri, UEFA);
      assert.equal(response.candidates?.[0]?.groundingMetadata?.groundingSupports?.length, 2);
    });
  });

  for (const stream of [true, false]) {
    const mode = stream ? 'streamed' : 'whole';
    const chat = async (model: string, extra: Partial<OpenAI.Chat.ChatCompletionCreateParams> = {}) => {
      const params = { model, messages: user, ...extra } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
      return stream ? openai.chat.completions.stream({ ...params, stream: true, stream_options: { include_usage: true } }).finalChatCompletion() : openai.chat.completions.create(params);
    };
    const responses = async (model: string) => (stream ? openai.responses.stream({ model, input: 'hi' }).finalResponse() : openai.responses.create({ model, input: 'hi' }));
    const messages = async (model: string) => {
      const params = { model, max_tokens: 1024, messages: user };
      return stream ? anthropic.messages.stream(params).finalMessage() : anthropic.messages.create(params);
    };

    describe(`translated, ${mode}`, () => {
      test('Vertex text with usage -> Chat: the text, MAX_TOKENS as length, the usage counts', async () => {
        // The streamed and the whole recording are two live answers to the same prompt: each is checked against itself.
        const completion = await chat(MODELS.vertexText.model);
        assert.equal(completion.choices[0]!.finish_reason, 'length', 'both recordings end with MAX_TOKENS');
        if (!stream) return;
        assert.equal(completion.choices[0]!.message.content, RECORDED_TEXT);
        assert.equal(completion.usage?.prompt_tokens, 6);
        assert.equal(completion.usage?.completion_tokens, 156 + 41);
        assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 41);
      });

      test('MODEL_ARMOR block -> every client reads the block message', async () => {
        const completion = await chat(MODELS.armor.model);
        assert.equal(completion.choices[0]!.finish_reason, 'content_filter');
        assert.equal(completion.choices[0]!.message.refusal, `Gemini blocked the prompt (MODEL_ARMOR): ${ARMOR_MESSAGE}`);
        const response = await responses(MODELS.armor.model);
        assert.equal(response.status, 'incomplete');
        assert.equal(response.incomplete_details?.reason, 'content_filter');
        assert.deepEqual(refusals(response), [`Gemini blocked the prompt (MODEL_ARMOR): ${ARMOR_MESSAGE}`]);
        const message = await messages(MODELS.armor.model);
        assert.equal(message.stop_reason, 'refusal');
        assert.equal(message.stop_details?.explanation, `Gemini blocked the prompt (MODEL_ARMOR): ${ARMOR_MESSAGE}`);
        assert.deepEqual(message.content.map((b) => (b.type === 'text' ? b.text : b.type)), [`Gemini blocked the prompt (MODEL_ARMOR): ${ARMOR_MESSAGE}`]);
      });

      test('a grounded answer -> Anthropic citations, Chat and Responses url_citation annotations', async () => {
        const message = await messages(MODELS.grounded.model);
        const block = message.content[0]!;
        assert.ok(block.type === 'text');
        assert.equal(block.text, GROUNDED_TEXT);
        assert.deepEqual(block.citations?.map((c) => (c.type === 'web_search_result_location' ? c.url : c.type)), [UEFA, UEFA, UEFA.replace(/1$/, '2')]);
        const completion = await chat(MODELS.grounded.model);
        assert.deepEqual(completion.choices[0]!.message.annotations?.[0]?.url_citation, { url: UEFA, title: 'uefa.com', start_index: 0, end_index: 56 });
        const response = await responses(MODELS.grounded.model);
        const part = response.output.flatMap((item) => (item.type === 'message' ? item.content : []))[0];
        assert.ok(part?.type === 'output_text');
        assert.deepEqual(part.annotations[1], { type: 'url_citation', url: UEFA, title: 'uefa.com', start_index: 57, end_index: 105 });
      });

      test('a Gemini 3 function call with its thoughtSignature -> the signature comes back on the next turn', async () => {
        const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }];
        const first = await chat(MODELS.gemini3Call.model, { tools });
        const call = first.choices[0]!.message.tool_calls?.[0];
        assert.ok(call?.type === 'function');
        assert.equal(call.function.name, 'weather');
        assert.deepEqual(JSON.parse(call.function.arguments), { location: 'San Francisco' });
        assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
        assert.equal(first.choices[0]!.message.content || null, null, 'finishMessage "Model generated function call(s)." is not shown as text');
        await chat(MODELS.gemini3Call.model, {
          tools,
          messages: [...user, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '18 C' }],
        });
        const sent = upstream.lastGeminiBody()!;
        const echoed = sent.contents.flatMap((c) => c.parts).find((p) => p.functionCall);
        assert.equal(echoed?.thoughtSignature, GEMINI3_SIGNATURE(stream));
      });

      test("Claude's call without arguments -> Chat and Responses arguments are {}", async () => {
        const completion = await chat(MODELS.claudeNoArgs.model, { tools: [{ type: 'function', function: { name: 'updateIssueList', parameters: { type: 'object', properties: {} } } }] });
        assert.equal(completion.choices[0]!.message.tool_calls?.[0]?.type === 'function' && completion.choices[0]!.message.tool_calls[0].function.arguments, '{}');
        const response = await responses(MODELS.claudeNoArgs.model);
        const call = response.output.find((item) => item.type === 'function_call');
        assert.equal(call?.type === 'function_call' && call.arguments, '{}');
      });

      test("Claude's refusal with stop_details -> Chat refusal and Responses refusal part carry the explanation", async () => {
        const explanation = "Claude declined to answer: This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.";
        const completion = await chat(MODELS.claudeRefusal.model);
        assert.equal(completion.choices[0]!.finish_reason, 'content_filter');
        assert.equal(completion.choices[0]!.message.refusal, explanation);
        const response = await responses(MODELS.claudeRefusal.model);
        assert.deepEqual(refusals(response), [explanation]);
      });
    });
  }

  test("Claude's thinking stream -> Responses reasoning summary and Chat reasoning_content, streamed", async () => {
    const thinking = loadRecording('vercel-ai/anthropic-clear-thinking.1.chunks.txt').body
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { delta?: { type?: string; thinking?: string; text?: string } })
      .filter((event) => event.delta?.type === 'thinking_delta')
      .map((event) => event.delta!.thinking)
      .join('');
    assert.ok(thinking.length > 20);
    const response = await openai.responses.stream({ model: MODELS.claudeThinking.model, input: 'divide by 5', reasoning: { effort: 'low', summary: 'auto' } }).finalResponse();
    const reasoning = response.output.find((item) => item.type === 'reasoning');
    assert.equal(reasoning?.type === 'reasoning' && reasoning.summary.map((s) => s.text).join(''), thinking);
    const chunks: string[] = [];
    for await (const chunk of await openai.chat.completions.create({ model: MODELS.claudeThinking.model, messages: user, stream: true })) {
      const delta = chunk.choices[0]?.delta as { reasoning_content?: string } | undefined;
      if (delta?.reasoning_content) chunks.push(delta.reasoning_content);
    }
    assert.equal(chunks.join(''), thinking);
  });

  test("Gemini 3 text whose signature comes on a trailing empty part -> Anthropic's text, then the signature, sent back on the next turn", async () => {
    const chunks = loadRecording('vercel-ai/google-text.chunks.txt').body.split('\r\n\r\n').filter(Boolean).map((e) => JSON.parse(e.slice(6)) as { candidates: { content: { parts: { text: string; thoughtSignature?: string }[] } }[] });
    const parts = chunks.flatMap((c) => c.candidates[0]!.content.parts);
    const recordedSignature = parts.find((p) => p.thoughtSignature)!.thoughtSignature!;
    const params = { model: MODELS.gemini3Text.model, max_tokens: 1024, messages: user };
    const message = await anthropic.messages.stream(params).finalMessage();
    assert.deepEqual(message.content.map((b) => b.type), ['text', 'thinking']);
    assert.equal(message.content[0]!.type === 'text' && message.content[0]!.text, parts.map((p) => p.text).join(''));
    // Streamed again: only the stream was recorded.
    await anthropic.messages.stream({ ...params, messages: [...user, { role: 'assistant', content: message.content }, { role: 'user', content: 'and in raspberry?' }] }).finalMessage();
    const model = upstream.lastGeminiBody()!.contents.find((c) => c.role === 'model')!;
    assert.deepEqual(model.parts.map((p) => p.thoughtSignature), [recordedSignature]);
  });

  test('the Anthropic SDK on Claude, native: the recorded no-argument tool_use passes through as sent', async () => {
    const message = await anthropic.messages.stream({ model: MODELS.claudeNoArgs.model, max_tokens: 1024, messages: user }).finalMessage();
    const call = message.content.find((b) => b.type === 'tool_use');
    assert.ok(call?.type === 'tool_use');
    assert.equal(call.id, 'toolu_01QE1WLsSVp5hy5Q3GmGTmjP');
    assert.deepEqual(call.input, {});
  });
});
