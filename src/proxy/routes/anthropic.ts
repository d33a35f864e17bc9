/**
 * Anthropic front-end (DESIGN sections 6 and 10): messages, streamed or not, and token counting.
 * Claude models go to Vertex as they came (byte-faithful); Gemini models through the codecs.
 * `?beta=true` and any `anthropic-beta` header are accepted (routes match the path only).
 */
import { countTokensFromGemini, toGeminiCountTokensRequest } from '../../protocols/gemini';
import { anthropicStreamEncoder, fromAnthropicRequest, renderAnthropicAnswer } from '../../protocols/anthropic';
import { HttpError } from '../errors';
import { sessionKey } from '../session';
import { conversationCall, decodeRequest, notOffered, resolveFor } from '../translate';
import type { Route, RouteContext } from '../route';

export const anthropicRoutes: readonly Route[] = [
  { method: 'POST', path: '/v1/messages', access: 'api', body: true, handle: messages },
  { method: 'POST', path: '/v1/messages/count_tokens', access: 'api', body: true, handle: countTokens },
];

const requireModel = (body: Record<string, unknown>): string => {
  if (typeof body.model !== 'string' || !body.model) throw new HttpError(400, 'model: Field required', { reason: 'missing_model' });
  return body.model;
};

/** Anthropic's per-end-user id, `metadata.user_id`, doubles as the session key. */
const metadataUserId = (body: Record<string, unknown>): unknown =>
  typeof body.metadata === 'object' && body.metadata !== null ? (body.metadata as Record<string, unknown>).user_id : undefined;

async function messages(ctx: RouteContext): Promise<void> {
  const resolved = resolveFor(ctx, requireModel(ctx.body));
  const key = sessionKey(ctx.req.headers, metadataUserId(ctx.body));
  const stream = ctx.body.stream === true;
  switch (resolved.family) {
    case 'anthropic':
      return ctx.forward({ op: { api: 'anthropic-messages', model: resolved.model, stream }, sessionKey: key });
    case 'gemini': {
      const notes: string[] = [];
      const request = decodeRequest(() => fromAnthropicRequest(ctx.body, resolved.model, notes));
      for (const note of notes) ctx.log.info(`[proxy] /v1/messages ${resolved.requested}: ${note}`);
      const client = {
        encoder: () => anthropicStreamEncoder({ model: resolved.requested }),
        render: (answer: Parameters<typeof renderAnthropicAnswer>[0]) => renderAnthropicAnswer(answer, resolved.requested),
      };
      return ctx.forward(conversationCall(request, 'gemini', client, key, ctx.log));
    }
    case 'maas':
      throw notOffered('Anthropic Messages', resolved);
  }
}

async function countTokens(ctx: RouteContext): Promise<void> {
  const resolved = resolveFor(ctx, requireModel(ctx.body));
  const key = sessionKey(ctx.req.headers, metadataUserId(ctx.body));
  switch (resolved.family) {
    case 'anthropic':
      return ctx.forward({
        op: { api: 'anthropic-count-tokens', model: resolved.model, stream: false },
        body: resolved.alias !== undefined ? { ...ctx.body, model: resolved.model } : undefined,
        sessionKey: key,
      });
    case 'gemini': {
      const request = decodeRequest(() => fromAnthropicRequest({ ...ctx.body, stream: false }, resolved.model));
      return ctx.forward({
        op: { api: 'gemini', model: resolved.model, method: 'countTokens', stream: false },
        body: decodeRequest(() => toGeminiCountTokensRequest(request, ctx.config.upstream.kind)),
        sessionKey: key,
        answer: { kind: 'json', transform: (json) => ({ input_tokens: countTokensFromGemini(json) }) },
      });
    }
    case 'maas':
      throw notOffered('Anthropic count_tokens', resolved);
  }
}
