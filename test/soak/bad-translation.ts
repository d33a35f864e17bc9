/**
 * The bad-input corpus's translation section (issue 17): hostile requests on the three translated
 * front-ends (OpenAI Chat, Responses, Anthropic Messages) to a Gemini model, and some to a Claude
 * model: every finding of the issue (a $ref graph that inlines to a million copies, JSON nested
 * 100,000 deep in each place it was found, lookups that hit Object.prototype, malformed escapes,
 * image URLs of every scheme) and their neighbours. The same promises as the rest of the corpus;
 * each answer is a translation (200) or a 400 in the caller's shape.
 */
import { doublingRefGraph } from '../helpers/hostile-input';

type Json = Record<string, unknown>;
type FrontEnd = 'chat' | 'responses' | 'messages';

export interface TranslationCase {
  name: string;
  path: string;
  body: string;
}

const PATHS: Record<FrontEnd, string> = { chat: '/v1/chat/completions', responses: '/v1/responses', messages: '/v1/messages' };

const deepText = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
/** A marker replaced by raw JSON text after stringifying (a value too deep to stringify). */
const DEEP = '\u0000DEEP\u0000';
const withDeep = (body: Json): string => JSON.stringify(body).replace(JSON.stringify(DEEP), deepText(100_000));

/** What a hostile request varies, in terms each front-end places in its own field. */
interface Slots {
  schema?: unknown;
  /** The arguments of an earlier tool call (an object; Chat and Responses send it as JSON text). */
  toolArgs?: unknown;
  /** Tool-call arguments as the client's own text (Chat and Responses). */
  toolArgsText?: string;
  imageUrl?: string;
  effort?: unknown;
  role?: unknown;
  partType?: unknown;
  toolName?: unknown;
  toolChoice?: 'named' | 'hostile';
  toolCallId?: unknown;
  metadata?: unknown;
  stream?: boolean;
  model?: string;
  /** A raw override merged over the body last. */
  extra?: Json;
}

const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

function bodyFor(frontEnd: FrontEnd, s: Slots): Json {
  const model = s.model ?? 'gemini-2.5-flash';
  const toolName = s.toolName ?? 'get_weather';
  const schema = s.schema ?? SCHEMA;
  const args = s.toolArgs ?? { city: 'Paris' };
  const argsText = s.toolArgsText ?? (args === DEEP ? `{"a":${deepText(100_000)}}` : JSON.stringify(args));
  const role = s.role ?? 'user';
  const partType = s.partType;
  const callId = s.toolCallId ?? 'call_1';
  let body: Json;
  if (frontEnd === 'chat') {
    const userContent: unknown[] = [{ type: partType ?? 'text', text: 'hi' }];
    if (s.imageUrl !== undefined) userContent.push({ type: 'image_url', image_url: { url: s.imageUrl } });
    body = {
      model,
      messages: [
        { role, content: userContent },
        { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: toolName, arguments: argsText } }] },
        { role: 'tool', tool_call_id: callId, content: 'sunny' },
      ],
      tools: [{ type: 'function', function: { name: toolName, parameters: schema } }],
      ...(s.effort !== undefined ? { reasoning_effort: s.effort } : {}),
      ...(s.toolChoice ? { tool_choice: s.toolChoice === 'named' ? { type: 'function', function: { name: toolName } } : { type: 'function', function: { name: 'constructor' } } } : {}),
      ...(s.metadata !== undefined ? { metadata: s.metadata } : {}),
    };
  } else if (frontEnd === 'responses') {
    const content: unknown[] = [{ type: partType ?? 'input_text', text: 'hi' }];
    if (s.imageUrl !== undefined) content.push({ type: 'input_image', image_url: s.imageUrl });
    body = {
      model,
      input: [
        { role, content },
        { type: 'function_call', call_id: callId, name: toolName, arguments: argsText },
        { type: 'function_call_output', call_id: callId, output: 'sunny' },
      ],
      tools: [{ type: 'function', name: toolName, parameters: schema }],
      ...(s.effort !== undefined ? { reasoning: { effort: s.effort } } : {}),
      ...(s.toolChoice ? { tool_choice: s.toolChoice === 'named' ? { type: 'function', name: toolName } : { type: 'function', name: 'constructor' } } : {}),
      ...(s.metadata !== undefined ? { metadata: s.metadata } : {}),
    };
  } else {
    const content: unknown[] = [{ type: partType ?? 'text', text: 'hi' }];
    if (s.imageUrl !== undefined) content.push({ type: 'image', source: { type: 'url', url: s.imageUrl } });
    body = {
      model,
      max_tokens: 64,
      messages: [
        { role, content },
        { role: 'assistant', content: [{ type: 'tool_use', id: callId, name: toolName, input: args }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: callId, content: 'sunny' }] },
      ],
      tools: [{ name: toolName, input_schema: schema }],
      ...(s.effort !== undefined ? { output_config: { effort: s.effort } } : {}),
      ...(s.toolChoice ? { tool_choice: s.toolChoice === 'named' ? { type: 'tool', name: toolName } : { type: 'tool', name: 'constructor' } } : {}),
      ...(s.metadata !== undefined ? { metadata: s.metadata } : {}),
    };
  }
  if (s.stream) body.stream = true;
  return { ...body, ...s.extra };
}

/** The hostile variations, each sent on every translated front-end. */
const VARIATIONS: [string, Slots][] = [
  // the findings
  ['a 2 KB $ref graph inlining to 2^20 copies', { schema: doublingRefGraph() }],
  ['the $ref graph, streamed', { schema: doublingRefGraph(), stream: true }],
  ['the $ref graph on a Claude model', { schema: doublingRefGraph(), model: 'claude-sonnet-4-5' }],
  ['JSON 100,000 deep in a schema default', { schema: { type: 'object', properties: { a: { type: 'array', default: DEEP } } } }],
  ['JSON 100,000 deep in tool-call arguments', { toolArgs: DEEP }],
  ['JSON 100,000 deep in metadata', { metadata: { a: DEEP } }],
  ['schema type "constructor"', { schema: { type: 'object', properties: { a: { type: 'constructor', format: 'float' } } } }],
  ['schema type ["__proto__", "string"]', { schema: { type: 'object', properties: { a: { type: ['__proto__', 'string'] } } } }],
  ['$ref with a malformed percent-escape', { schema: { type: 'object', properties: { a: { $ref: '#/$defs/%E0%A4%A' } } } }],
  ['$ref into the prototype', { schema: { type: 'object', properties: { a: { $ref: '#/constructor' }, b: { $ref: '#/__proto__/toString' } } } }],
  ['data: image URL with a malformed escape', { imageUrl: 'data:image/png,%E0%A4%A' }],
  ['image URL ending in .constructor, to Claude', { imageUrl: 'https://x.test/a.constructor', model: 'claude-sonnet-4-5' }],
  ['image URL ending in .constructor', { imageUrl: 'https://x.test/a.constructor' }],
  ['effort "constructor"', { effort: 'constructor' }],
  ['effort "__proto__"', { effort: '__proto__' }],
  ['effort "toString", to Claude', { effort: 'toString', model: 'claude-sonnet-4-5' }],
  ['a file:/// image URL', { imageUrl: 'file:///etc/passwd' }],
  ['a property named __proto__ in a tool schema', { schema: JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}},"required":["__proto__"]}') }],
  // neighbours
  ['an http:// metadata-server image URL', { imageUrl: 'http://169.254.169.254/latest/meta-data/' }],
  ['a gs:// image URL', { imageUrl: 'gs://bucket/cat.png' }],
  ['a javascript: image URL', { imageUrl: 'javascript:alert(1)' }],
  ['a relative image URL', { imageUrl: '../../etc/passwd' }],
  ['a data: URL with bad base64', { imageUrl: 'data:image/png;base64,@@@@' }],
  ['a data: URL without a media type', { imageUrl: 'data:,hello' }],
  ['a data: URL without a comma', { imageUrl: 'data:image/png;base64' }],
  ['a valid data: URL image', { imageUrl: 'data:image/png;base64,iVBORw0KGgo=' }],
  ['a boolean schema (true)', { schema: true }],
  ['a boolean schema (false)', { schema: false }],
  ['a schema nested 120 deep (under the limit)', { schema: JSON.parse('{"type":"object","properties":{"a":'.repeat(60) + '{}' + '}}'.repeat(60)) }],
  ['a recursive $ref', { schema: { type: 'object', properties: { n: { $ref: '#' } } } }],
  ['a schema of 300 alternatives', { schema: { type: 'object', properties: { a: { anyOf: Array.from({ length: 300 }, (_, i) => ({ const: `v${i}` })) } } } }],
  ['tool named "__proto__"', { toolName: '__proto__' }],
  ['tool named "constructor", forced by tool_choice', { toolName: 'constructor', toolChoice: 'named' }],
  ['tool_choice naming "constructor" (undeclared)', { toolChoice: 'hostile' }],
  ['role "constructor"', { role: 'constructor' }],
  ['role "__proto__"', { role: '__proto__' }],
  ['content part type "__proto__"', { partType: '__proto__' }],
  ['tool call id "__proto__"', { toolCallId: '__proto__' }],
  ['tool-call arguments not JSON', { toolArgsText: '{"a":' }],
  ['tool-call arguments a JSON array', { toolArgsText: '[1,2]' }],
  ['max tokens a string', { extra: { max_tokens: 'many', max_output_tokens: 'many' } }],
];

/** Every variation on every translated front-end: 3 × VARIATIONS.length cases. */
export function translationCases(): TranslationCase[] {
  const cases: TranslationCase[] = [];
  for (const [what, slots] of VARIATIONS) {
    for (const frontEnd of ['chat', 'responses', 'messages'] as FrontEnd[]) {
      cases.push({ name: `translation ${frontEnd}: ${what}`, path: PATHS[frontEnd], body: withDeep(bodyFor(frontEnd, slots)) });
    }
  }
  return cases;
}

/** The worst case for the neighbour measurement: the $ref graph on the Anthropic front-end, as the issue measured it. */
export const worstCase = (): TranslationCase => ({
  name: 'the $ref graph (messages)',
  path: PATHS.messages,
  body: JSON.stringify(bodyFor('messages', { schema: doublingRefGraph() })),
});
