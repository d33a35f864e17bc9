/**
 * The scripted model on Claude on Vertex (rawPredict / streamRawPredict): reads the last user
 * message of a Messages body and renders a Plan as Anthropic does, whole or as the SSE event
 * sequence. A thinking block (with thinking_delta, then signature_delta) comes first after
 * `[[think]]` when the request turns thinking on; tool_use blocks stream their input as two
 * input_json_delta pieces.
 */
import { countWords, outputWords, splitText, THOUGHT_TEXT, type Mint, type Plan, type TurnView } from './scripted-model';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** Text of a string content or of its text blocks. */
const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : objects(content).map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('');

export function anthropicTurn(body: Json): TurnView {
  const user = objects(body.messages)
    .reverse()
    .find((m) => m.role === 'user');
  const blocks = objects(user?.content);
  return {
    text: textOf(user?.content),
    toolResults: blocks.filter((b) => b.type === 'tool_result').map((b) => textOf(b.content)),
    declared: new Set(objects(body.tools).map((t) => String(t.name))),
  };
}

/** Input tokens: the words of the system prompt, every text block and every tool result. */
export function anthropicInputWords(body: Json): number {
  const results = objects(body.messages)
    .flatMap((m) => objects(m.content))
    .filter((b) => b.type === 'tool_result')
    .map((b) => textOf(b.content));
  return [textOf(body.system), ...objects(body.messages).map((m) => textOf(m.content)), ...results].reduce((n, t) => n + countWords(t), 0);
}

export interface AnthropicReplyContext {
  model: string;
  body: Json;
  mint: Mint;
  messageId: string;
  chunks: number;
}

type Block =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export const REFUSAL_DETAILS = {
  type: 'refusal',
  category: 'general_harms',
  explanation: "This request triggered restrictions on harmful content and was blocked under Anthropic's Usage Policy.",
};

const STOP_REASON = { stop: 'end_turn', max_tokens: 'max_tokens', stop_sequence: 'stop_sequence', safety: 'refusal' } as const;

export function renderAnthropicReply(plan: Plan, ctx: AnthropicReplyContext): { whole: Json; events: string[] } {
  const thinkingOn = isObject(ctx.body.thinking) && (ctx.body.thinking.type === 'enabled' || ctx.body.thinking.type === 'adaptive');
  const blocks: Block[] = [];
  if (plan.think && thinkingOn) {
    blocks.push({ type: 'thinking', thinking: THOUGHT_TEXT, signature: Buffer.from(`claude-sig-${ctx.mint.next()}`).toString('base64') });
  }
  if (plan.kind === 'calls') {
    for (const c of plan.calls) blocks.push({ type: 'tool_use', id: `toolu_01fake${String(ctx.mint.next()).padStart(12, '0')}`, name: c.name, input: c.args });
  } else if (plan.finish !== 'safety') blocks.push({ type: 'text', text: plan.text });
  const stopReason = plan.kind === 'calls' ? 'tool_use' : STOP_REASON[plan.finish];
  const stopSequence = plan.kind === 'text' && plan.stopSequence !== undefined ? plan.stopSequence : null;
  const input = anthropicInputWords(ctx.body);
  const output = outputWords(plan) + (blocks[0]?.type === 'thinking' ? countWords(THOUGHT_TEXT) : 0);
  const usage = { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const message = { id: ctx.messageId, type: 'message', role: 'assistant', model: ctx.model };
  // A refusal says why in `stop_details`, as recorded live (vercel-ai/anthropic-refusal).
  const details = stopReason === 'refusal' ? { stop_details: REFUSAL_DETAILS } : {};
  const whole = { ...message, content: blocks, stop_reason: stopReason, ...details, stop_sequence: stopSequence, usage: { ...usage, output_tokens: output } };

  const sse = (data: Json): string => `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
  const events = [sse({ type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } })];
  blocks.forEach((block, index) => {
    const delta = (d: Json): string => sse({ type: 'content_block_delta', index, delta: d });
    const start = (content_block: Json): void => {
      events.push(sse({ type: 'content_block_start', index, content_block }));
      if (index === 0) events.push(sse({ type: 'ping' }));
    };
    if (block.type === 'thinking') {
      start({ type: 'thinking', thinking: '', signature: '' });
      events.push(delta({ type: 'thinking_delta', thinking: block.thinking }), delta({ type: 'signature_delta', signature: block.signature }));
    } else if (block.type === 'text') {
      start({ type: 'text', text: '' });
      events.push(...splitText(block.text, ctx.chunks).map((text) => delta({ type: 'text_delta', text })));
    } else {
      start({ type: 'tool_use', id: block.id, name: block.name, input: {} });
      const json = JSON.stringify(block.input);
      const half = Math.ceil(json.length / 2);
      // A call without arguments streams one empty `partial_json`, as recorded live (vercel-ai/anthropic-tool-no-args).
      if (json === '{}') events.push(delta({ type: 'input_json_delta', partial_json: '' }));
      else events.push(delta({ type: 'input_json_delta', partial_json: json.slice(0, half) }), delta({ type: 'input_json_delta', partial_json: json.slice(half) }));
    }
    events.push(sse({ type: 'content_block_stop', index }));
  });
  if (blocks.length === 0) events.push(sse({ type: 'ping' }));
  events.push(sse({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: stopSequence, ...details }, usage: { output_tokens: output } }), sse({ type: 'message_stop' }));
  return { whole, events };
}
