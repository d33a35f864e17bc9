/**
 * Gemini front-end (DESIGN section 6): generateContent, streamGenerateContent, countTokens and the
 * model list, under `/v1beta` and the stable `/v1` (`GET /v1/models` only when asked Gemini's way:
 * OpenAI's list shares the path).
 */
import { listedModels } from '../../core/models';
import { GEMINI_METHOD_PATH, HttpError, isGeminiShaped } from '../errors';
import { sessionKey } from '../session';
import { sendJson, type Route, type RouteContext } from '../route';
import { notOffered, resolveFor } from '../translate';
import type { GeminiMethod, GeminiVersion } from '../upstream/target';

export const geminiRoutes: readonly Route[] = [
  { method: 'POST', path: GEMINI_METHOD_PATH, access: 'api', body: true, handle: modelMethod },
  { method: 'GET', path: '/v1beta/models', access: 'api', handle: listModels },
  { method: 'GET', path: '/v1/models', access: 'api', when: (req, url) => isGeminiShaped(req.headers, url.searchParams), handle: listModels },
];

async function modelMethod(ctx: RouteContext): Promise<void> {
  let model: string;
  try {
    model = decodeURIComponent(ctx.params[1]);
  } catch {
    throw new HttpError(400, 'The model name in the path is not valid percent-encoding', { reason: 'invalid_model' });
  }
  const version = ctx.params[0] as GeminiVersion;
  const method = ctx.params[2] as GeminiMethod;
  const resolved = resolveFor(ctx, model);
  if (resolved.family !== 'gemini') throw notOffered('The Gemini API route', resolved);
  await ctx.forward({
    op: {
      api: 'gemini',
      model: resolved.model,
      method,
      version,
      stream: method === 'streamGenerateContent',
      alt: ctx.url.searchParams.get('alt') ?? undefined,
    },
    sessionKey: sessionKey(ctx.req.headers, undefined),
  });
}

const GENERATION_METHODS = ['generateContent', 'streamGenerateContent', 'countTokens'];

function listModels(ctx: RouteContext): void {
  sendJson(ctx.res, 200, {
    models: listedModels(ctx.config.upstream.models, ctx.config.routing.model_aliases).map((id) => ({
      name: `models/${id}`,
      baseModelId: id,
      displayName: id,
      supportedGenerationMethods: GENERATION_METHODS,
    })),
  });
}
