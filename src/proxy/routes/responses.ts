/**
 * The OpenAI Responses front-end (DESIGN section 10), stateless: `store` is treated as false and
 * `previous_response_id` is refused with a 400 that says to send the whole input. Gemini models go
 * to `generateContent`, Claude models to Anthropic Messages on Vertex; `prompt_cache_key` is the
 * session key that keeps a conversation on one account.
 */
import type { Answer } from '../../protocols/conversation';
import { fromResponsesRequest, renderResponsesAnswer, responsesStreamEncoder } from '../../protocols/openai-responses';
import { sessionKey } from '../session';
import type { Route, RouteContext } from '../route';
import { conversationCall, decodeRequest, notOffered, resolveFor } from '../translate';
import { requireOpenAiModel } from './openai';

export const responsesRoutes: readonly Route[] = [{ method: 'POST', path: '/v1/responses', access: 'api', body: true, handle: responses }];

async function responses(ctx: RouteContext): Promise<void> {
  const resolved = resolveFor(ctx, requireOpenAiModel(ctx.body));
  if (resolved.family === 'maas') throw notOffered('The Responses API', resolved);
  const decoded = decodeRequest(() => fromResponsesRequest(ctx.body, resolved.model));
  for (const note of decoded.notes) ctx.log.info(`[proxy] /v1/responses ${resolved.requested}: ${note}`);
  const client = {
    encoder: () => responsesStreamEncoder(decoded.answer),
    render: (answer: Answer) => renderResponsesAnswer(answer, decoded.answer),
  };
  const key = sessionKey(ctx.req.headers, decoded.sessionKey ?? ctx.body.user);
  await ctx.forward(conversationCall(decoded.request, resolved.family, client, key, ctx.log));
}
