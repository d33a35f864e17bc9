/**
 * The scripted model on the Gemini routes: reads the last user content of a `generateContent` body
 * and renders a Plan as Gemini does, whole (one JSON) or as stream chunks. A thought part is shown
 * only when `thinkingConfig.includeThoughts` is set; a thoughtSignature rides on the first
 * non-thought part after `[[think]]`, and (Gemini 3) on the first functionCall part of every call
 * step. functionCall parts come whole, all in one chunk; streamed text is split in `chunks` pieces.
 *
 * Shaped after recorded live answers (test/fixtures/recorded): a streamed signed text carries its
 * signature on an empty text part in the last chunk; a streamed Gemini 3 call step ends with a
 * chunk of one empty text part and the finishReason; a whole Gemini 3 call step on the Gemini API
 * says `finishMessage: "Model generated function call(s)."`; usage has `promptTokensDetails` and no
 * zero `cachedContentTokenCount`; on Vertex every chunk has `createTime`, and a stream's chunks
 * before the last carry only `usageMetadata.trafficType`.
 */
import { get } from './gemini-validate';
import { countWords, outputWords, resultText, splitText, THOUGHT_TEXT, type Mint, type Plan, type TurnView } from './scripted-model';

type Json = Record<string, unknown>;
type Part = Json;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const partsOf = (content: unknown): Part[] => (isObject(content) && Array.isArray(content.parts) ? content.parts.filter(isObject) : []);
const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** The generateContent request inside a body (countTokens on the Gemini API may wrap it). */
export function generateRequestOf(body: Json): Json {
  const inner = get(body, 'generateContentRequest');
  return isObject(inner) ? inner : body;
}

export function geminiTurn(body: Json): TurnView {
  const request = generateRequestOf(body);
  const user = objects(request.contents)
    .reverse()
    .find((c) => c.role === undefined || c.role === 'user');
  const parts = partsOf(user);
  const declared = new Set(
    objects(request.tools)
      .flatMap((t) => objects(get(t, 'functionDeclarations')))
      .map((d) => String(d.name)),
  );
  return {
    text: parts.map((p) => (typeof p.text === 'string' && p.thought !== true ? p.text : '')).join(''),
    toolResults: parts.flatMap((p) => {
      const response = get(p, 'functionResponse');
      return isObject(response) ? [resultText(response.response)] : [];
    }),
    declared,
  };
}

/** Prompt tokens: the words of every text part, system instruction and tool result in the request. */
export function geminiInputWords(body: Json): number {
  const request = generateRequestOf(body);
  const contents = [get(request, 'systemInstruction'), ...objects(request.contents)];
  return contents.flatMap(partsOf).reduce((n, p) => {
    const response = get(p, 'functionResponse');
    if (isObject(response)) return n + countWords(resultText(response.response));
    return n + (typeof p.text === 'string' && p.thought !== true ? countWords(p.text) : 0);
  }, 0);
}

export interface GeminiReplyContext {
  model: string;
  body: Json;
  mint: Mint;
  responseId: string;
  /** Pieces a streamed text is cut into. */
  chunks: number;
  /** Vertex AI (else the Gemini API): `createTime`, `trafficType`, counts on a stream's last chunk only. */
  vertex?: boolean;
}

export interface GeminiReply {
  whole: Json;
  chunks: Json[];
}

const FINISH = { stop: 'STOP', max_tokens: 'MAX_TOKENS', stop_sequence: 'STOP', safety: 'SAFETY' } as const;

const SAFETY_RATINGS = [
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
];

export function renderGeminiReply(plan: Plan, ctx: GeminiReplyContext): GeminiReply {
  const config = get(ctx.body, 'generationConfig');
  const thinking = isObject(config) ? get(config, 'thinkingConfig') : undefined;
  const showThought = plan.think && isObject(thinking) && get(thinking, 'includeThoughts') === true;
  const signature = plan.think || (plan.kind === 'calls' && ctx.model.startsWith('gemini-3')) ? ctx.mint.signature() : undefined;
  const signed = (part: Part): Part => (signature ? { ...part, thoughtSignature: signature } : part);
  const input = geminiInputWords(ctx.body);
  const output = outputWords(plan);
  const usageMetadata = {
    promptTokenCount: input,
    candidatesTokenCount: output,
    totalTokenCount: input + output + (plan.think ? countWords(THOUGHT_TEXT) : 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: input }],
    ...(plan.think ? { thoughtsTokenCount: countWords(THOUGHT_TEXT) } : {}),
    ...(ctx.vertex ? { trafficType: 'ON_DEMAND' } : {}),
  };
  const gemini3 = ctx.model.startsWith('gemini-3');
  /** A chunk; `last` false for a stream's chunks before the last (on Vertex they carry no counts). */
  const chunk = (parts: Part[] | undefined, finishReason?: string, extra: Json = {}, last = true): Json => ({
    candidates: [
      {
        ...(parts ? { content: { role: 'model', parts } } : {}),
        index: 0,
        ...(finishReason ? { finishReason } : {}),
        ...(finishReason === 'SAFETY' ? { safetyRatings: SAFETY_RATINGS } : {}),
        ...extra,
      },
    ],
    usageMetadata: ctx.vertex && !last ? { trafficType: 'ON_DEMAND' } : usageMetadata,
    modelVersion: ctx.model,
    ...(ctx.vertex ? { createTime: new Date().toISOString() } : {}),
    responseId: ctx.responseId,
  });
  const early = (parts: Part[] | undefined): Json => chunk(parts, undefined, {}, false);
  const thought: Part[] = showThought ? [{ text: THOUGHT_TEXT, thought: true }] : [];

  if (plan.kind === 'text' && plan.finish === 'safety') {
    const blocked = chunk(undefined, 'SAFETY');
    return { whole: blocked, chunks: [blocked] };
  }
  if (plan.kind === 'calls') {
    const calls = plan.calls.map((c, i): Part => {
      const part = { functionCall: { name: c.name, args: c.args } };
      return i === 0 ? signed(part) : part;
    });
    const said = gemini3 && !ctx.vertex ? { finishMessage: 'Model generated function call(s).' } : {};
    return {
      whole: chunk([...thought, ...calls], 'STOP', said),
      chunks: [
        ...(showThought ? [early(thought)] : []),
        ...(gemini3 ? [early(calls), chunk([{ text: '' }], 'STOP')] : [chunk(calls, 'STOP')]),
      ],
    };
  }
  const finish = FINISH[plan.finish];
  const pieces = splitText(plan.text, ctx.chunks);
  const streamed = signature
    ? [...pieces.map((text) => early([{ text }])), chunk([{ text: '', thoughtSignature: signature }], finish)]
    : pieces.map((text, i) => (i === pieces.length - 1 ? chunk([{ text }], finish) : early([{ text }])));
  return {
    whole: chunk([...thought, signed({ text: plan.text })], finish),
    chunks: [...(showThought ? [early(thought)] : []), ...streamed],
  };
}

/** The stream as sent: SSE (`?alt=sse`) or one JSON array written piece by piece. */
export function geminiStreamWrites(chunks: Json[], sse: boolean): string[] {
  if (sse) return chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`);
  return chunks.map((c, i) => `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(c)}${i === chunks.length - 1 ? ']' : ''}`);
}
