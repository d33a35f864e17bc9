/** Anthropic front-end (DESIGN section 6): messages, streamed or not, and token counting. */
import { HttpError } from '../errors';
import { sessionKey } from '../session';
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
  await ctx.forward({
    op: { api: 'anthropic-messages', model: requireModel(ctx.body), stream: ctx.body.stream === true },
    sessionKey: sessionKey(ctx.req.headers, metadataUserId(ctx.body)),
  });
}

async function countTokens(ctx: RouteContext): Promise<void> {
  await ctx.forward({
    op: { api: 'anthropic-count-tokens', model: requireModel(ctx.body), stream: false },
    sessionKey: sessionKey(ctx.req.headers, metadataUserId(ctx.body)),
  });
}
