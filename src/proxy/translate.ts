/**
 * Front-end × family (DESIGN section 10): which upstream a conversation goes to once its model is
 * resolved, and the forward call that sends it there and translates the answer back. The routes
 * decode the client's request into the neutral model; this file encodes it for the upstream.
 */
import type { Logger } from '../core/log';
import { resolveModel, type ModelFamily, type ResolvedModel } from '../core/models';
import { anthropicAnswerDecoder, toAnthropicRequest } from '../protocols/anthropic';
import { UntranslatableError, type Answer, type ConversationRequest, type StreamEncoder } from '../protocols/conversation';
import { geminiAnswerDecoder, toGeminiRequest } from '../protocols/gemini';
import { HttpError } from './errors';
import type { ForwardCall } from './forward';
import type { RouteContext } from './route';

/** The client's protocol side of a translated conversation. */
export interface ClientCodec {
  encoder(): StreamEncoder;
  render(answer: Answer): unknown;
}

/** The model the client named, after `routing.model_aliases`. */
export function resolveFor(ctx: RouteContext, requested: string): ResolvedModel {
  const resolved = resolveModel(requested, ctx.config.routing.model_aliases);
  if (resolved.alias !== undefined) ctx.log.debug(`[proxy] model ${requested} -> ${resolved.model} (alias ${resolved.alias})`);
  return resolved;
}

/** Runs a client-side decode; an UntranslatableError becomes a 400 naming the field. */
export function decodeRequest<T>(decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw untranslatable(err);
  }
}

/**
 * The forward call for a neutral conversation on a Gemini or Claude model. Gemini models get
 * `generateContent` (`streamGenerateContent?alt=sse` when streamed), Claude models Anthropic
 * Messages on Vertex.
 */
export function conversationCall(
  request: ConversationRequest,
  family: Exclude<ModelFamily, 'maas'>,
  client: ClientCodec,
  sessionKey: string | undefined,
  log: Logger,
): ForwardCall {
  const answer = { kind: 'events' as const, encoder: () => client.encoder(), render: (a: Answer) => client.render(a) };
  if (family === 'anthropic') {
    const body = decodeRequest(() => toAnthropicRequest(request));
    return {
      op: { api: 'anthropic-messages', model: request.model, stream: request.stream },
      body,
      sessionKey,
      answer: { ...answer, decoder: (stream) => anthropicAnswerDecoder({ stream, freeformTools: freeformToolNames(request) }) },
    };
  }
  const { body, dropped, unsigned, notes } = decodeRequest(() => toGeminiRequest(request));
  for (const what of dropped) log.info(`[proxy] ${request.model}: left out ${what}`);
  for (const note of notes) log.info(`[proxy] ${request.model}: ${note}`);
  if (unsigned.length > 0) {
    log.info(`[proxy] ${request.model}: function calls sent back without their thought signature (${unsigned.join(', ')}): sent with Google's skip_thought_signature_validator`);
  }
  return {
    op: {
      api: 'gemini',
      model: request.model,
      method: request.stream ? 'streamGenerateContent' : 'generateContent',
      stream: request.stream,
      alt: request.stream ? 'sse' : undefined,
    },
    body,
    sessionKey,
    answer: { ...answer, decoder: (stream) => geminiAnswerDecoder({ stream, model: request.model, freeformTools: freeformToolNames(request) }) },
  };
}

/** Freeform (Responses `custom`) tools: their calls carry raw text, not JSON arguments. */
const freeformToolNames = (request: ConversationRequest): string[] =>
  request.tools.flatMap((t) => (t.type === 'function' && t.freeform ? [t.name] : []));

/** A 400 in the client's shape for a front-end × family pair that is not offered. */
export function notOffered(what: string, resolved: ResolvedModel): HttpError {
  const via = resolved.alias !== undefined ? ` (${resolved.requested} via alias ${resolved.alias})` : '';
  return new HttpError(400, `${what} cannot serve model ${resolved.model}${via}: ${FAMILY_NAMES[resolved.family]} models are not offered on this route`, {
    reason: 'model_not_offered',
  });
}

const FAMILY_NAMES: Record<ModelFamily, string> = { gemini: 'Gemini', anthropic: 'Claude', maas: 'Vertex MaaS' };

function untranslatable(err: unknown): unknown {
  if (err instanceof UntranslatableError) return new HttpError(400, err.message, { reason: 'untranslatable_request' });
  return err;
}
