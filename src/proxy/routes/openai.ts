/**
 * OpenAI front-end (DESIGN sections 6 and 10): chat completions, streamed or not, and the model
 * list. Gemini and Claude models go through the codecs (Gemini's thought signatures ride in the
 * tool call ids); Vertex MaaS models (`publisher/model`) pass through to the OpenAI-compatible endpoint.
 */
import { listedModels } from '../../core/models';
import type { Answer } from '../../protocols/conversation';
import { chatStreamEncoder, fromChatRequest, renderChatAnswer } from '../../protocols/openai-chat';
import { HttpError } from '../errors';
import { sessionKey } from '../session';
import { sendJson, type Route, type RouteContext } from '../route';
import { conversationCall, decodeRequest, resolveFor } from '../translate';

export const openaiRoutes: readonly Route[] = [
  { method: 'POST', path: '/v1/chat/completions', access: 'api', body: true, handle: chatCompletions },
  { method: 'GET', path: '/v1/models', access: 'api', handle: listModels },
];

export const requireOpenAiModel = (body: Record<string, unknown>): string => {
  const model = body.model;
  if (typeof model !== 'string' || !model) throw new HttpError(400, '"model" is required', { reason: 'missing_model' });
  return model;
};

async function chatCompletions(ctx: RouteContext): Promise<void> {
  const resolved = resolveFor(ctx, requireOpenAiModel(ctx.body));
  const key = sessionKey(ctx.req.headers, ctx.body.user);
  if (resolved.family === 'maas') {
    return ctx.forward({
      op: { api: 'openai-chat', model: resolved.model, stream: ctx.body.stream === true },
      body: resolved.alias !== undefined ? { ...ctx.body, model: resolved.model } : undefined,
      sessionKey: key,
    });
  }
  const request = decodeRequest(() => fromChatRequest(ctx.body, resolved.model));
  const options = ctx.body.stream_options as { include_usage?: unknown } | undefined;
  const client = {
    encoder: () => chatStreamEncoder({ model: resolved.requested, includeUsage: options?.include_usage === true }),
    render: (answer: Answer) => renderChatAnswer(answer, resolved.requested),
  };
  await ctx.forward(conversationCall(request, resolved.family, client, key, ctx.log));
}

function listModels(ctx: RouteContext): void {
  const { models } = ctx.config.upstream;
  sendJson(ctx.res, 200, {
    object: 'list',
    data: listedModels(models, ctx.config.routing.model_aliases).map((id) => ({ id, object: 'model', created: 0, owned_by: models.includes(id) ? 'google' : 'tokenpool' })),
  });
}
