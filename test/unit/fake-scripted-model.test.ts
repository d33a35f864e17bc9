/**
 * The fake upstream's scripted model and its request validation, over real HTTP: every directive
 * on the Gemini routes (Vertex and the Gemini API; whole, SSE and JSON-array streams) and on Claude
 * on Vertex (whole and SSE), Google's and Anthropic's 400s naming the offending field, and Gemini
 * 3's refusal of a function-call turn sent back without its thought signature.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { REFUSAL_DETAILS } from '../fakes/anthropic-script';
import { FakeUpstream } from '../fakes/upstream';
import { parseCallDirectives } from '../fakes/scripted-model';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let fake: FakeUpstream;
before(async () => {
  fake = await FakeUpstream.start({ validateToken: (t) => (t === 'good-token' ? 'a@example.com' : undefined), pace: { chunks: 3, intervalMs: 0 } });
});
after(() => fake.close());

async function post(path: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer good-token', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

// ---------------------------------------------------------------------------------------------
// Gemini

type GeminiMode = 'vertex whole' | 'vertex sse' | 'gemini-api whole' | 'gemini-api json array';
const MODES: GeminiMode[] = ['vertex whole', 'vertex sse', 'gemini-api whole', 'gemini-api json array'];

function geminiPath(mode: GeminiMode, model: string, method?: string): string {
  const base = mode.startsWith('vertex') ? `/v1/projects/p/locations/us-central1/publishers/google/models/${model}` : `/v1beta/models/${model}`;
  if (method) return `${base}:${method}`;
  if (mode.endsWith('whole')) return `${base}:generateContent`;
  return `${base}:streamGenerateContent${mode.endsWith('sse') ? '?alt=sse' : ''}`;
}

/** The answer's chunks (one for a whole answer), parsed from the wire. */
function geminiChunks(mode: GeminiMode, text: string): Json[] {
  if (mode.endsWith('whole')) return [JSON.parse(text) as Json];
  if (mode.endsWith('json array')) return JSON.parse(text) as Json[];
  assert.ok(text.endsWith('\r\n\r\n'), 'SSE events end with CRLF CRLF');
  return text
    .split('\r\n\r\n')
    .filter(Boolean)
    .map((event) => JSON.parse(event.replace(/^data: /, '')) as Json);
}

interface GeminiAnswer {
  chunks: Json[];
  parts: Json[];
  text: string;
  finishReason?: string;
  usage: Json;
}

async function gemini(mode: GeminiMode, body: Json, model = 'gemini-2.5-pro'): Promise<GeminiAnswer> {
  const res = await post(geminiPath(mode, model), body);
  assert.equal(res.status, 200, res.text);
  const chunks = geminiChunks(mode, res.text);
  const parts = chunks.flatMap((c) => (c.candidates[0].content?.parts ?? []) as Json[]);
  return {
    chunks,
    parts,
    text: parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text as string).join(''),
    finishReason: chunks.at(-1)!.candidates[0].finishReason,
    usage: chunks.at(-1)!.usageMetadata,
  };
}

const weather = { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } };
const withTools = (text: string, extra: Json = {}): Json => ({
  contents: [{ role: 'user', parts: [{ text }] }],
  tools: [{ functionDeclarations: [weather, { ...weather, name: 'get_time' }] }],
  ...extra,
});
const thinking = (includeThoughts: boolean): Json => ({ generationConfig: { thinkingConfig: { thinkingBudget: 1024, includeThoughts } } });

describe('scripted model on the Gemini routes', () => {
  for (const mode of MODES) {
    describe(mode, () => {
      test('echo: the prompt, STOP, word-count usage with no cache, as recorded answers carry it', async () => {
        const a = await gemini(mode, { contents: [{ role: 'user', parts: [{ text: 'hello there' }] }] });
        assert.equal(a.text, 'echo: hello there');
        assert.equal(a.finishReason, 'STOP');
        const vertex = mode.startsWith('vertex');
        // Recorded answers (test/fixtures/recorded) have promptTokensDetails and no zero cachedContentTokenCount;
        // Vertex adds trafficType, and createTime on every chunk.
        assert.deepEqual(a.usage, {
          promptTokenCount: 2, candidatesTokenCount: 3, totalTokenCount: 5, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 2 }],
          ...(vertex ? { trafficType: 'ON_DEMAND' } : {}),
        });
        assert.ok(a.chunks.every((c) => (typeof (c as Json).createTime === 'string') === vertex));
        if (mode.endsWith('whole')) return;
        assert.equal(a.chunks.length, 3, 'the text in `pace.chunks` pieces');
        // A Vertex stream's chunks before the last carry only the traffic type, as the recording of one does.
        for (const early of a.chunks.slice(0, -1)) assert.deepEqual(early.usageMetadata, vertex ? { trafficType: 'ON_DEMAND' } : a.usage);
      });

      test('[[call]] with a declared tool: a functionCall part, whole in one chunk', async () => {
        const a = await gemini(mode, withTools('<system-reminder>noise</system-reminder> Weather? [[call get_weather {"city":"Paris"}]]'));
        assert.deepEqual(a.parts, [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }]);
        assert.equal(a.finishReason, 'STOP');
        assert.equal(a.chunks.length, 1);
      });

      test('two directives: parallel calls in one chunk; an undeclared name is ignored', async () => {
        const a = await gemini(mode, withTools('[[call get_weather {"city":"Rome"}]] [[call nope {}]] [[call get_time {"tz":"UTC"}]]'));
        assert.deepEqual(
          a.parts.map((p) => p.functionCall),
          [
            { name: 'get_weather', args: { city: 'Rome' } },
            { name: 'get_time', args: { tz: 'UTC' } },
          ],
        );
        assert.equal(a.chunks.length, 1);
      });

      test('[[call]] naming no declared tool: the echo', async () => {
        const a = await gemini(mode, { contents: [{ role: 'user', parts: [{ text: 'title please [[call get_weather {}]]' }] }] });
        assert.equal(a.text, 'echo: title please [[call get_weather {}]]');
      });

      test('tool results in the last user turn: "tool said: …" joined by " | "', async () => {
        const a = await gemini(mode, {
          contents: [
            { role: 'user', parts: [{ text: '[[call get_weather {"city":"Rome"}]] [[call get_weather {"city":"Lima"}]]' }] },
            { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Rome' } } }, { functionCall: { name: 'get_weather', args: { city: 'Lima' } } }] },
            {
              role: 'user',
              parts: [
                { functionResponse: { name: 'get_weather', response: { output: '22C' } } },
                { functionResponse: { name: 'get_weather', response: { error: 'no data' } } },
                { text: '<system-reminder>ignore</system-reminder>' },
              ],
            },
          ],
          tools: [{ functionDeclarations: [weather] }],
        });
        assert.equal(a.text, 'tool said: 22C | no data');
        assert.equal(a.finishReason, 'STOP');
      });

      test('[[think]] with includeThoughts: a thought part first, the signature on the next part, thoughtsTokenCount', async () => {
        const a = await gemini(mode, withTools('[[think]] why is the sky blue', thinking(true)));
        assert.deepEqual(a.parts[0], { text: 'thinking about it', thought: true });
        // Whole, the signature is on the text part; streamed, on an empty text part in the last chunk (as recorded).
        const signed = mode.endsWith('whole') ? a.parts[1] : a.parts.at(-1)!;
        if (!mode.endsWith('whole')) assert.equal(signed.text, '');
        assert.match(String(signed.thoughtSignature), /^[A-Za-z0-9+/]+=*$/);
        assert.equal(Buffer.from(String(signed.thoughtSignature), 'base64').toString().startsWith('sig-'), true);
        assert.equal(a.parts.filter((p) => p.thoughtSignature).length, 1, 'one signature');
        assert.equal(a.text, 'echo: [[think]] why is the sky blue');
        assert.equal(a.usage.thoughtsTokenCount, 3);
        assert.equal(a.usage.totalTokenCount, a.usage.promptTokenCount + a.usage.candidatesTokenCount + 3);
      });

      test('[[think]] without includeThoughts: no thought part, still a signature', async () => {
        const a = await gemini(mode, withTools('[[think]] and call [[call get_weather {"city":"Oslo"}]]', thinking(false)));
        assert.equal(a.parts.some((p) => p.thought), false);
        assert.equal(typeof a.parts[0].thoughtSignature, 'string');
        assert.ok(a.parts[0].functionCall, 'the signature sits on the first functionCall part');
      });

      test('[[max_tokens]]: MAX_TOKENS with part of the text', async () => {
        const a = await gemini(mode, { contents: [{ role: 'user', parts: [{ text: '[[max_tokens]] a long long story' }] }] });
        assert.equal(a.finishReason, 'MAX_TOKENS');
        assert.equal(a.text, 'echo: [[max_tokens]] a');
      });

      test('[[safety]]: SAFETY with no content', async () => {
        const a = await gemini(mode, { contents: [{ role: 'user', parts: [{ text: 'how to [[safety]]' }] }] });
        assert.equal(a.finishReason, 'SAFETY');
        assert.deepEqual(a.parts, []);
        assert.equal(a.chunks.at(-1)!.candidates[0].content, undefined);
        assert.ok(a.chunks.at(-1)!.candidates[0].safetyRatings.some((r: Json) => r.blocked === true));
      });

      test('[[stop:SEQ]]: STOP with the text cut where the stop sequence was hit', async () => {
        const a = await gemini(mode, { contents: [{ role: 'user', parts: [{ text: 'count to ten [[stop:END]] more' }] }] });
        assert.equal(a.finishReason, 'STOP');
        assert.equal(a.text, 'echo: count to ten');
      });
    });
  }

  test('countTokens: the words of every text in the request, on both kinds', async () => {
    const vertex = await post(geminiPath('vertex whole', 'gemini-2.5-pro', 'countTokens'), {
      contents: [{ role: 'user', parts: [{ text: 'one two three' }] }],
      systemInstruction: { parts: [{ text: 'be brief' }] },
    });
    assert.deepEqual(JSON.parse(vertex.text), { totalTokens: 5 });
    const api = await post(geminiPath('gemini-api whole', 'gemini-2.5-pro', 'countTokens'), {
      generateContentRequest: { model: 'models/gemini-2.5-pro', contents: [{ role: 'user', parts: [{ text: 'one two three four' }] }] },
    });
    assert.deepEqual(JSON.parse(api.text), { totalTokens: 4 });
  });

  test('lastGeminiBody() is the newest Gemini body as sent', async () => {
    await gemini('vertex whole', { contents: [{ role: 'user', parts: [{ text: 'look at me' }] }] });
    assert.deepEqual(fake.lastGeminiBody()?.contents[0].parts, [{ text: 'look at me' }]);
  });
});

describe('Gemini 3 thought signatures', () => {
  const model = 'gemini-3-pro-preview';
  const ask = '[[call get_weather {"city":"Oslo"}]] [[call get_weather {"city":"Bern"}]]';

  for (const mode of MODES) {
    test(`${mode}: a call step carries a signature on its first functionCall part only; ends as recorded`, async () => {
      const a = await gemini(mode, withTools(ask), model);
      const calls = a.parts.filter((p) => p.functionCall);
      assert.equal(calls.length, 2);
      assert.equal(typeof calls[0].thoughtSignature, 'string');
      assert.equal(calls[1].thoughtSignature, undefined);
      const last = a.chunks.at(-1)!.candidates[0] as Json;
      if (mode.endsWith('whole')) {
        // The recorded whole Gemini 3 call step (Gemini API) says why it stopped; Vertex's is not recorded here.
        assert.equal(last.finishMessage, mode.startsWith('gemini-api') ? 'Model generated function call(s).' : undefined);
      } else {
        // The recorded streams end a call step with a chunk of one empty text part and the finishReason.
        assert.deepEqual(last.content, { role: 'model', parts: [{ text: '' }] });
        assert.equal(last.finishReason, 'STOP');
      }
    });
  }

  test('the next turn without the signature is refused with Google’s message; with it, accepted', async () => {
    const first = await gemini('vertex sse', withTools(ask), model);
    const history = (parts: Json[]): Json => ({
      ...withTools(ask),
      contents: [
        { role: 'user', parts: [{ text: ask }] },
        { role: 'model', parts },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { output: '-3C' } } },
            { functionResponse: { name: 'get_weather', response: { output: '9C' } } },
          ],
        },
      ],
    });
    // A client sends back the calls (Google refuses the stream's closing empty text part in a request).
    const calls = first.parts.filter((p) => p.functionCall);
    const stripped = calls.map(({ thoughtSignature: _drop, ...rest }) => rest);
    const refused = await post(geminiPath('vertex whole', model), history(stripped));
    assert.equal(refused.status, 400);
    const error = JSON.parse(refused.text).error as Json;
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.equal(
      error.message,
      'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing ' +
        'thought_signature may lead to degraded model performance. Additional data, function call `default_api:get_weather` , position 2. ' +
        'Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.',
    );
    const accepted = await gemini('gemini-api whole', history(calls), model);
    assert.equal(accepted.text, 'tool said: -3C | 9C');
    // Google's documented sentinel for calls whose signature is lost is accepted like a signature.
    const sentinel = stripped.map((part, i) => (i === 0 ? { ...part, thoughtSignature: 'skip_thought_signature_validator' } : part));
    const bypassed = await gemini('vertex whole', history(sentinel), model);
    assert.equal(bypassed.text, 'tool said: -3C | 9C');
    // On any part but the first function call it does not count.
    const misplaced = stripped.map((part, i) => (i === 1 ? { ...part, thoughtSignature: 'skip_thought_signature_validator' } : part));
    assert.equal((await post(geminiPath('vertex whole', model), history(misplaced))).status, 400);
  });

  test('Gemini 2.5 carries no signature on a plain call step and takes the history back without one', async () => {
    const first = await gemini('vertex whole', withTools('[[call get_weather {"city":"Oslo"}]]'), 'gemini-2.5-flash');
    assert.equal(first.parts[0].thoughtSignature, undefined);
    const next = await gemini(
      'vertex whole',
      {
        ...withTools('x'),
        contents: [
          { role: 'user', parts: [{ text: 'x' }] },
          { role: 'model', parts: first.parts },
          { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: 'ok' } } }] },
        ],
      },
      'gemini-2.5-flash',
    );
    assert.equal(next.text, 'tool said: ok');
  });
});

describe('Gemini request validation', () => {
  /** A body like the codecs send for Claude Code: system, tools of both kinds, thinking, history with a tool round trip. */
  const claudeCodeLike = (): Json => ({
    systemInstruction: { parts: [{ text: 'You are Claude Code.' }, { text: 'Be careful.' }] },
    contents: [
      { role: 'user', parts: [{ text: '<system-reminder>ctx</system-reminder>' }, { text: 'list files' }] },
      { role: 'model', parts: [{ text: 'thinking', thought: true, thoughtSignature: 'c2lnLTE=' }, { functionCall: { id: 'x', name: 'Bash', args: { command: 'ls' } }, thoughtSignature: 'c2lnLTI=' }] },
      { role: 'user', parts: [{ functionResponse: { id: 'x', name: 'Bash', response: { output: 'a.txt' } } }, { text: 'go on' }] },
      { role: 'model', parts: [{ text: 'Done.' }, { text: '', thoughtSignature: 'c2lnLTM=' }] },
      { role: 'user', parts: [{ text: 'again' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }] },
    ],
    tools: [
      {
        functionDeclarations: [
          {
            name: 'Bash',
            description: 'Run a command',
            parameters: {
              type: 'object',
              properties: {
                command: { type: 'string', description: 'the command' },
                timeout: { type: 'number', minimum: 0, maximum: 600000 },
                flags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
                mode: { anyOf: [{ type: 'string' }, { type: 'null' }], nullable: true },
              },
              required: ['command'],
              propertyOrdering: ['command', 'timeout'],
            },
          },
          {
            name: 'mcp__server__tool.v2',
            parametersJsonSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', additionalProperties: false, properties: { n: { type: 'integer', exclusiveMinimum: 0 } } },
          },
          { name: 'ToolSearch', parameters: { type: 'OBJECT', properties: {} } },
        ],
      },
    ],
    toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    generationConfig: { maxOutputTokens: 32000, temperature: 1, topP: 0.9, topK: 40, stopSequences: ['END'], thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } },
    safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
  });

  for (const model of ['gemini-2.5-pro', 'gemini-3-pro-preview']) {
    test(`a Claude-Code-like request passes on ${model}, on both kinds, streamed and not`, async () => {
      for (const mode of MODES) {
        const a = await gemini(mode, claudeCodeLike(), model);
        assert.equal(a.text, 'echo: again');
      }
    });
  }

  test('field names in snake_case are accepted, as Google’s JSON parser does', async () => {
    const a = await gemini('vertex whole', {
      contents: [{ role: 'user', parts: [{ text: '[[call get_weather {"city":"Oslo"}]]' }] }],
      tools: [{ function_declarations: [weather] }],
      generation_config: { max_output_tokens: 10, thinking_config: { include_thoughts: false } },
      system_instruction: { parts: [{ text: 'hi' }] },
    });
    assert.equal(a.parts[0].functionCall.name, 'get_weather');
  });

  type Mutation = (body: Json) => void;
  const fd = (b: Json): Json => b.tools[0].functionDeclarations[0];
  const rows: { name: string; mutate: Mutation; message: string | RegExp }[] = [
    {
      name: 'additionalProperties in parameters',
      mutate: (b) => (fd(b).parameters.additionalProperties = false),
      message: `Invalid JSON payload received. Unknown name "additionalProperties" at 'tools[0].function_declarations[0].parameters': Cannot find field.`,
    },
    {
      name: '$schema in parameters',
      mutate: (b) => (fd(b).parameters.$schema = 'https://json-schema.org/draft/2020-12/schema'),
      message: `Invalid JSON payload received. Unknown name "$schema" at 'tools[0].function_declarations[0].parameters': Cannot find field.`,
    },
    {
      name: '$ref in a property (map entries by position)',
      mutate: (b) => (fd(b).parameters.properties.flags.$ref = '#/$defs/flags'),
      message: `Invalid JSON payload received. Unknown name "$ref" at 'tools[0].function_declarations[0].parameters.properties[2].value': Cannot find field.`,
    },
    {
      name: 'exclusiveMinimum in items',
      mutate: (b) => (fd(b).parameters.properties.flags.items.exclusiveMinimum = 0),
      message: `Invalid JSON payload received. Unknown name "exclusiveMinimum" at 'tools[0].function_declarations[0].parameters.properties[2].value.items': Cannot find field.`,
    },
    {
      name: 'const inside anyOf',
      mutate: (b) => (fd(b).parameters.properties.mode.anyOf[0] = { const: 'fast' }),
      message: `Invalid JSON payload received. Unknown name "const" at 'tools[0].function_declarations[0].parameters.properties[3].value.any_of[0]': Cannot find field.`,
    },
    {
      name: 'every unknown name is listed, one per line',
      mutate: (b) => {
        fd(b).parameters.additionalProperties = false;
        fd(b).parameters.properties.command.format2 = 'x';
      },
      message:
        `Invalid JSON payload received. Unknown name "additionalProperties" at 'tools[0].function_declarations[0].parameters': Cannot find field.\n` +
        `Invalid JSON payload received. Unknown name "format2" at 'tools[0].function_declarations[0].parameters.properties[0].value': Cannot find field.`,
    },
    {
      name: 'a type list',
      mutate: (b) => (fd(b).parameters.properties.command.type = ['string', 'null']),
      message: `Invalid JSON payload received. Unknown name "type" at 'tools[0].function_declarations[0].parameters.properties[0].value': Proto field is not repeating, cannot start list.`,
    },
    {
      name: 'an unknown type',
      mutate: (b) => (fd(b).parameters.properties.command.type = 'text'),
      message: /^Invalid value at 'tools\[0\]\.function_declarations\[0\]\.parameters\.properties\[0\]\.value\.type' \(type\.googleapis\.com\/google\.cloud\.aiplatform\.v1\.Type\), "text"$/,
    },
    {
      name: 'an array without items',
      mutate: (b) => delete fd(b).parameters.properties.flags.items,
      message: '* GenerateContentRequest.tools[0].function_declarations[0].parameters.properties[flags].items: missing field.\n',
    },
    {
      name: 'a function name with a space',
      mutate: (b) => (fd(b).name = 'get weather'),
      message:
        '* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function name. Must start with a letter or an underscore. ' +
        'Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.\n',
    },
    { name: 'a function name starting with a digit', mutate: (b) => (fd(b).name = '1tool'), message: /function_declarations\[0\]\.name: Invalid function name/ },
    { name: 'a function name of 65 characters', mutate: (b) => (fd(b).name = 'a'.repeat(65)), message: /function_declarations\[0\]\.name: Invalid function name/ },
    {
      name: 'parameters and parametersJsonSchema both',
      mutate: (b) => (fd(b).parametersJsonSchema = { type: 'object' }),
      message: /function_declarations\[0\]\.parameters_json_schema: parameters_json_schema and parameters cannot both be set/,
    },
    {
      name: 'an unknown field on a declaration',
      mutate: (b) => (fd(b).strict = true),
      message: `Invalid JSON payload received. Unknown name "strict" at 'tools[0].function_declarations[0]': Cannot find field.`,
    },
    {
      name: 'an unknown generationConfig key',
      mutate: (b) => (b.generationConfig.maxTokens = 5),
      message: `Invalid JSON payload received. Unknown name "maxTokens" at 'generation_config': Cannot find field.`,
    },
    {
      name: 'an unknown thinkingConfig key',
      mutate: (b) => (b.generationConfig.thinkingConfig.budgetTokens = 5),
      message: `Invalid JSON payload received. Unknown name "budgetTokens" at 'generation_config.thinking_config': Cannot find field.`,
    },
    {
      name: 'an unknown top-level key',
      mutate: (b) => (b.messages = []),
      message: `Invalid JSON payload received. Unknown name "messages": Cannot find field.`,
    },
    { name: 'the role assistant', mutate: (b) => (b.contents[3].role = 'assistant'), message: 'Please use a valid role: user, model.' },
    { name: 'the role system', mutate: (b) => (b.contents[0].role = 'system'), message: 'Please use a valid role: user, model.' },
    { name: 'empty parts', mutate: (b) => (b.contents[3].parts = []), message: '* GenerateContentRequest.contents[3].parts: contents.parts must not be empty.\n' },
    { name: 'no contents', mutate: (b) => (b.contents = []), message: '* GenerateContentRequest.contents: contents is not specified\n' },
    {
      name: 'a part with no data',
      mutate: (b) => (b.contents[0].parts[0] = { text: '' }),
      message: "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field\n",
    },
    {
      name: 'a part with two data fields',
      mutate: (b) => (b.contents[1].parts[1].text = 'and text'),
      message: "Invalid value at 'contents[1].parts[1].data' (oneof), oneof field 'data' is already set. Cannot overwrite with 'function_call'",
    },
    {
      name: 'an unknown field on a part',
      mutate: (b) => (b.contents[0].parts[1].cache_control = { type: 'ephemeral' }),
      message: `Invalid JSON payload received. Unknown name "cache_control" at 'contents[0].parts[1]': Cannot find field.`,
    },
    {
      name: 'an image in the system instruction',
      mutate: (b) => b.systemInstruction.parts.push({ inlineData: { mimeType: 'image/png', data: 'AA==' } }),
      message: /system_instruction\.parts\[2\]: system_instruction parts must be text/,
    },
    {
      name: 'a function response whose response is a string',
      mutate: (b) => (b.contents[2].parts[0].functionResponse.response = 'a.txt'),
      message: "Invalid value at 'contents[2].parts[0].function_response.response' (type.googleapis.com/google.protobuf.Struct), \"a.txt\"",
    },
    {
      name: 'a function response without a name',
      mutate: (b) => delete b.contents[2].parts[0].functionResponse.name,
      message: '* GenerateContentRequest.contents[2].parts[0].function_response.name: missing field.\n',
    },
    {
      name: 'a function response turn not after a function call turn',
      mutate: (b) => b.contents[1].parts.splice(1, 1),
      message: 'Please ensure that function response turn comes immediately after a function call turn.',
    },
    {
      name: 'fewer responses than calls',
      mutate: (b) => b.contents[1].parts.push({ functionCall: { name: 'Bash', args: {} } }),
      message: 'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
    },
    {
      name: 'an unknown function calling mode',
      mutate: (b) => (b.toolConfig.functionCallingConfig.mode = 'REQUIRED'),
      message: /^Invalid value at 'tool_config\.function_calling_config\.mode' .*"REQUIRED"$/,
    },
  ];

  for (const row of rows) {
    test(`400 INVALID_ARGUMENT naming it: ${row.name}`, async () => {
      for (const mode of ['vertex sse', 'gemini-api whole'] as const) {
        const body = claudeCodeLike();
        row.mutate(body);
        const res = await post(geminiPath(mode, 'gemini-2.5-pro'), body);
        assert.equal(res.status, 400, `${mode}: ${res.text.slice(0, 200)}`);
        const error = JSON.parse(res.text).error as Json;
        assert.equal(error.code, 400);
        assert.equal(error.status, 'INVALID_ARGUMENT');
        const message = mode === 'gemini-api whole' ? String(error.message).replace(/google\.ai\.generativelanguage\.v1beta\.Type/, 'google.cloud.aiplatform.v1.Type') : error.message;
        if (typeof row.message === 'string') assert.equal(message, row.message);
        else assert.match(message, row.message);
      }
    });
  }

  test('parametersJsonSchema takes any JSON Schema', async () => {
    const body = claudeCodeLike();
    fd(body).parametersJsonSchema = { ...fd(body).parameters, additionalProperties: false, $defs: { x: { const: 1 } } };
    delete fd(body).parameters;
    assert.equal((await gemini('vertex whole', body)).text, 'echo: again');
  });

  test('countTokens is validated too, without the function-turn rules', async () => {
    const bad = await post(geminiPath('gemini-api whole', 'gemini-2.5-pro', 'countTokens'), { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.text).error.message, 'Please use a valid role: user, model.');
    const wrapped = await post(geminiPath('gemini-api whole', 'gemini-2.5-pro', 'countTokens'), { generateContentRequest: { model: 'm', contents: [], tools: [{ functionDeclarations: [{ ...weather, parameters: { ...weather.parameters, additionalProperties: false } }] }] } });
    assert.equal(wrapped.status, 400);
    assert.match(JSON.parse(wrapped.text).error.message, /Unknown name "additionalProperties" at 'generate_content_request\.tools\[0\]\.function_declarations\[0\]\.parameters'/);
  });
});

// ---------------------------------------------------------------------------------------------
// Claude on Vertex

const claudePath = (stream: boolean, model = 'claude-sonnet-4-5@20250929'): string =>
  `/v1/projects/p/locations/us-east5/publishers/anthropic/models/${model}:${stream ? 'streamRawPredict' : 'rawPredict'}`;

interface AnthropicAnswer {
  content: Json[];
  stop_reason: string;
  stop_details?: Json;
  stop_sequence: string | null;
  usage: Json;
  events: Json[];
}

/** Parses the SSE stream into events and folds them into a message, as the SDK does. */
function foldAnthropicStream(text: string): AnthropicAnswer {
  const events = text
    .split('\n\n')
    .filter(Boolean)
    .map((raw) => {
      const [eventLine, dataLine] = raw.split('\n');
      const data = JSON.parse(dataLine.replace(/^data: /, '')) as Json;
      assert.equal(eventLine, `event: ${data.type}`);
      return data;
    });
  const start = events[0];
  assert.equal(start.type, 'message_start');
  const content: Json[] = [];
  const json: string[] = [];
  let end: Json = {};
  for (const e of events) {
    if (e.type === 'content_block_start') {
      content[e.index] = { ...e.content_block };
      json[e.index] = '';
    }
    if (e.type === 'content_block_delta') {
      const block = content[e.index];
      if (e.delta.type === 'text_delta') block.text += e.delta.text;
      if (e.delta.type === 'thinking_delta') block.thinking += e.delta.thinking;
      if (e.delta.type === 'signature_delta') block.signature += e.delta.signature;
      if (e.delta.type === 'input_json_delta') json[e.index] += e.delta.partial_json;
    }
    // No `partial_json` at all is no arguments (the SDK reads it as {}).
    if (e.type === 'content_block_stop' && content[e.index].type === 'tool_use') content[e.index].input = json[e.index] ? JSON.parse(json[e.index]) : {};
    if (e.type === 'message_delta') end = e;
  }
  assert.equal(events.at(-1)!.type, 'message_stop');
  return { content, stop_reason: end.delta.stop_reason, stop_details: end.delta.stop_details, stop_sequence: end.delta.stop_sequence, usage: { ...start.message.usage, ...end.usage }, events };
}

async function claude(stream: boolean, body: Json): Promise<AnthropicAnswer> {
  const res = await post(claudePath(stream), { anthropic_version: 'vertex-2023-10-16', max_tokens: 4096, ...body });
  assert.equal(res.status, 200, res.text);
  if (stream) return foldAnthropicStream(res.text);
  const m = JSON.parse(res.text) as Json;
  assert.equal(m.type, 'message');
  assert.match(m.id, /^msg_/);
  return { content: m.content, stop_reason: m.stop_reason, stop_details: m.stop_details, stop_sequence: m.stop_sequence, usage: m.usage, events: [] };
}

const claudeTool = { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } };
const say = (text: string, extra: Json = {}): Json => ({ messages: [{ role: 'user', content: text }], tools: [claudeTool, { ...claudeTool, name: 'get_time' }], ...extra });

describe('scripted model on Claude on Vertex', () => {
  for (const stream of [false, true]) {
    describe(stream ? 'streamRawPredict' : 'rawPredict', () => {
      test('echo: end_turn and word-count usage with no cache', async () => {
        const a = await claude(stream, { messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'text', text: ' there' }] }] });
        assert.deepEqual(a.content, [{ type: 'text', text: 'echo: hello there' }]);
        assert.equal(a.stop_reason, 'end_turn');
        assert.equal(a.stop_sequence, null);
        assert.deepEqual(a.usage, { input_tokens: 2, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
        if (stream) assert.equal(a.events.filter((e) => e.delta?.type === 'text_delta').length, 3);
      });

      test('[[call]]: tool_use blocks (parallel), stop_reason tool_use', async () => {
        const a = await claude(stream, say('[[call get_weather {"city":"Rome"}]] [[call ghost {}]] [[call get_time {}]]'));
        assert.deepEqual(
          a.content.map((b) => [b.type, b.name, b.input]),
          [
            ['tool_use', 'get_weather', { city: 'Rome' }],
            ['tool_use', 'get_time', {}],
          ],
        );
        assert.match(a.content[0].id, /^toolu_[A-Za-z0-9]+$/);
        assert.notEqual(a.content[0].id, a.content[1].id);
        assert.equal(a.stop_reason, 'tool_use');
        if (stream) {
          const pieces = a.events.filter((e) => e.index === 0 && e.delta?.type === 'input_json_delta');
          assert.deepEqual(pieces.map((e) => e.delta.partial_json), ['{"city":', '"Rome"}'], 'the input in two pieces');
          const none = a.events.filter((e) => e.index === 1 && e.delta?.type === 'input_json_delta');
          assert.deepEqual(none.map((e) => e.delta.partial_json), [''], 'no arguments: one empty partial_json, as recorded live');
        }
      });

      test('tool results: "tool said: …" joined by " | "', async () => {
        const first = await claude(false, say('[[call get_weather {"city":"Rome"}]] [[call get_weather {"city":"Lima"}]]'));
        const a = await claude(stream, {
          tools: [claudeTool],
          messages: [
            { role: 'user', content: 'x' },
            { role: 'assistant', content: first.content },
            {
              role: 'user',
              content: [
                { type: 'tool_result', tool_use_id: first.content[0].id, content: '22C' },
                { type: 'tool_result', tool_use_id: first.content[1].id, content: [{ type: 'text', text: 'no data' }], is_error: true },
                { type: 'text', text: '<system-reminder>x</system-reminder>' },
              ],
            },
          ],
        });
        assert.deepEqual(a.content, [{ type: 'text', text: 'tool said: 22C | no data' }]);
        assert.equal(a.stop_reason, 'end_turn');
      });

      test('[[think]] with thinking on: a thinking block with its signature first', async () => {
        const a = await claude(stream, say('[[think]] why', { thinking: { type: 'enabled', budget_tokens: 1024 } }));
        assert.equal(a.content[0].type, 'thinking');
        assert.equal(a.content[0].thinking, 'thinking about it');
        assert.match(a.content[0].signature, /^[A-Za-z0-9+/]+=*$/);
        assert.equal(a.content[1].text, 'echo: [[think]] why');
        assert.equal(a.usage.output_tokens, 3 + 3);
        if (stream) {
          const kinds = a.events.filter((e) => e.index === 0 && e.type !== 'content_block_start').map((e) => e.delta?.type ?? e.type);
          assert.deepEqual(kinds, ['thinking_delta', 'signature_delta', 'content_block_stop']);
        }
        const adaptive = await claude(stream, say('[[think]] [[call get_time {}]]', { thinking: { type: 'adaptive' } }));
        assert.deepEqual(adaptive.content.map((b) => b.type), ['thinking', 'tool_use']);
      });

      test('[[think]] with thinking off: no thinking block', async () => {
        const a = await claude(stream, say('[[think]] why'));
        assert.deepEqual(a.content.map((b) => b.type), ['text']);
      });

      test('[[max_tokens]]: stop_reason max_tokens with part of the text', async () => {
        const a = await claude(stream, say('[[max_tokens]] a long long story'));
        assert.equal(a.stop_reason, 'max_tokens');
        assert.equal(a.content[0].text, 'echo: [[max_tokens]] a');
      });

      test('[[safety]]: stop_reason refusal with no content', async () => {
        const a = await claude(stream, say('[[safety]]'));
        assert.equal(a.stop_reason, 'refusal');
        assert.deepEqual(a.content, []);
        assert.deepEqual(a.stop_details, REFUSAL_DETAILS, 'stop_details says why, as recorded live');
      });

      test('[[stop:SEQ]]: stop_reason stop_sequence naming SEQ', async () => {
        const a = await claude(stream, say('count [[stop:END]]'));
        assert.equal(a.stop_reason, 'stop_sequence');
        assert.equal(a.stop_sequence, 'END');
        assert.equal(a.content[0].text, 'echo: count');
      });
    });
  }

  test('count-tokens: the words of the system prompt and every message', async () => {
    const res = await post('/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict', {
      model: 'claude-sonnet-4-5',
      system: [{ type: 'text', text: 'be brief' }],
      messages: [{ role: 'user', content: 'one two three' }],
    });
    assert.deepEqual(JSON.parse(res.text), { input_tokens: 5 });
  });

  test('lastAnthropicBody() is the newest Messages body as sent', async () => {
    await claude(false, say('peek'));
    assert.equal(fake.lastAnthropicBody()?.messages[0].content, 'peek');
  });
});

describe('Claude on Vertex request validation', () => {
  /** Claude Code's shape: system blocks with cache_control, closed 2020-12 schemas, adaptive thinking, a tool round trip. */
  const claudeCodeLike = (): Json => ({
    anthropic_version: 'vertex-2023-10-16',
    max_tokens: 32000,
    system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
    thinking: { type: 'adaptive' },
    metadata: { user_id: 'u' },
    tools: [
      {
        name: 'Bash',
        description: 'Run',
        input_schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { command: { type: 'string' } }, additionalProperties: false },
      },
      { name: 'ToolSearch', input_schema: { type: 'object', properties: {} }, defer_loading: true },
      { type: 'web_search_20250305', name: 'web_search' },
    ],
    messages: [
      { role: 'user', content: [{ type: 'text', text: '<system-reminder>ctx</system-reminder>' }, { type: 'text', text: 'list files', cache_control: { type: 'ephemeral' } }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Running.' }, { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'exit 1', is_error: true }] },
      { role: 'user', content: 'and now?' },
    ],
  });

  test('a Claude-Code-like request passes, streamed and not', async () => {
    for (const stream of [false, true]) {
      const res = await post(claudePath(stream), claudeCodeLike());
      assert.equal(res.status, 200, res.text);
      const answer = stream ? foldAnthropicStream(res.text) : (JSON.parse(res.text) as AnthropicAnswer);
      assert.deepEqual(answer.content, [{ type: 'text', text: 'echo: and now?' }]);
    }
  });

  const rows: { name: string; mutate: (b: Json) => void; message: string }[] = [
    { name: 'a system role in messages', mutate: (b) => b.messages.splice(1, 0, { role: 'system', content: 'x' }), message: "messages.1.role: Input should be 'user' or 'assistant'" },
    {
      name: 'a tool_result whose tool_use is not in the previous assistant turn',
      mutate: (b) => (b.messages[2].content[0].tool_use_id = 'toolu_9'),
      message:
        'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
    },
    {
      name: 'a tool_result in a turn after a user turn',
      mutate: (b) => b.messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'again' }] }),
      message:
        'messages.4.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_1. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
    },
    { name: 'a tool without input_schema.type', mutate: (b) => delete b.tools[0].input_schema.type, message: 'tools.0.custom.input_schema.type: Field required' },
    { name: 'a tool whose input_schema is not an object', mutate: (b) => (b.tools[1].input_schema = { type: 'array' }), message: "tools.1.custom.input_schema.type: Input should be 'object'" },
    { name: 'a tool without input_schema', mutate: (b) => delete b.tools[0].input_schema, message: 'tools.0.custom.input_schema: Field required' },
    { name: 'an empty text block', mutate: (b) => (b.messages[0].content[0].text = ''), message: 'messages: text content blocks must be non-empty' },
    { name: 'an empty user message', mutate: (b) => (b.messages[3].content = []), message: 'messages.3: all messages must have non-empty content except for the optional final assistant message' },
    { name: 'a message without content', mutate: (b) => delete b.messages[3].content, message: 'messages.3.content: Field required' },
    { name: 'a thinking budget under 1024', mutate: (b) => (b.thinking = { type: 'enabled', budget_tokens: 100 }), message: 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024' },
    { name: 'a model field in the body', mutate: (b) => (b.model = 'claude-sonnet-4-5'), message: 'model: Extra inputs are not permitted' },
  ];

  for (const row of rows) {
    test(`400 invalid_request_error in Anthropic's shape: ${row.name}`, async () => {
      const body = claudeCodeLike();
      row.mutate(body);
      const res = await post(claudePath(false), body);
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { type: 'error', error: { type: 'invalid_request_error', message: row.message } });
    });
  }
});

describe('the OpenAI-compatible routes still echo', () => {
  test('Vertex chat completions', async () => {
    const res = await post('/v1/projects/p/locations/global/endpoints/openapi/chat/completions', { model: 'google/gemini-2.5-flash', messages: [{ role: 'user', content: '[[call x {}]]' }] });
    assert.equal(JSON.parse(res.text).choices[0].message.content, 'echo: [[call x {}]]');
  });
});

describe('parseCallDirectives', () => {
  const rows: [string, string, unknown][] = [
    ['one call', 'a [[call f {"x":1}]] b', [{ name: 'f', args: { x: 1 } }]],
    ['no arguments', '[[call f]]', [{ name: 'f', args: {} }]],
    ['brackets inside a JSON string', '[[call f {"s":"]] {"}]]', [{ name: 'f', args: { s: ']] {' } }]],
    ['nested JSON', '[[call f {"a":{"b":[1,2]}}]]', [{ name: 'f', args: { a: { b: [1, 2] } } }]],
    ['two calls', '[[call f {}]][[call g {"y":true}]]', [{ name: 'f', args: {} }, { name: 'g', args: { y: true } }]],
    ['broken JSON is not a directive', '[[call f {x:1}]] [[call g {}]]', [{ name: 'g', args: {} }]],
    ['an array is not arguments', '[[call f [1]]]', []],
    ['no closing brackets', '[[call f {}', []],
  ];
  for (const [name, text, want] of rows) test(name, () => assert.deepEqual(parseCallDirectives(text), want));
});
