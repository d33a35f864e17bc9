/** OpenAI front-end (DESIGN section 6): chat completions, streamed or not, and the model list. */
import { HttpError } from '../errors';
import { sessionKey } from '../session';
import { sendJson, type Route, type RouteContext } from '../route';

export const openaiRoutes: readonly Route[] = [
  { method: 'POST', path: '/v1/chat/completions', access: 'api', body: true, handle: chatCompletions },
  { method: 'GET', path: '/v1/models', access: 'api', handle: listModels },
];

async function chatCompletions(ctx: RouteContext): Promise<void> {
  const model = ctx.body.model;
  if (typeof model !== 'string' || !model) throw new HttpError(400, '"model" is required', { reason: 'missing_model' });
  await ctx.forward({
    op: { api: 'openai-chat', model, stream: ctx.body.stream === true },
    sessionKey: sessionKey(ctx.req.headers, ctx.body.user),
  });
}

function listModels(ctx: RouteContext): void {
  sendJson(ctx.res, 200, {
    object: 'list',
    data: ctx.config.upstream.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'google' })),
  });
}
