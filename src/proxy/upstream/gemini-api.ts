/**
 * The Gemini API (DESIGN section 6, kind `gemini`): Gemini paths pass through (under the `v1` or `v1beta` the client used), OpenAI goes to its
 * OpenAI-compatible endpoint, the account's project is named in `x-goog-user-project` (quota and
 * billing for OAuth callers). There is no Anthropic route on this API.
 */
import type { Config } from '../../core/config';
import { HttpError } from '../errors';
import { baseOrigin, geminiQuery, jsonBody, pathSafeModel, type Upstream, type UpstreamAccount, type UpstreamOp, type UpstreamTarget } from './target';

export const GEMINI_API_ORIGIN = 'https://generativelanguage.googleapis.com';

const NO_ANTHROPIC = 'Anthropic models are not served by the Gemini API upstream (upstream.kind "gemini"); use upstream.kind "vertex"';

export function geminiApiUpstream(config: Config['upstream']): Upstream {
  return {
    unsupported: (op) => (op.api === 'anthropic-messages' || op.api === 'anthropic-count-tokens' ? NO_ANTHROPIC : undefined),
    target: (op, body, account, raw) => geminiApiTarget(config, op, body, account, raw),
  };
}

export function geminiApiTarget(
  config: Config['upstream'],
  op: UpstreamOp,
  body: Record<string, unknown>,
  account: UpstreamAccount,
  raw?: Buffer,
): UpstreamTarget {
  const base = baseOrigin(config.base_url, GEMINI_API_ORIGIN);
  const project = account.projectId || config.project_id;
  const headers: Record<string, string> = project ? { 'x-goog-user-project': project } : {};
  switch (op.api) {
    case 'openai-chat':
      return { url: `${base}/v1beta/openai/chat/completions`, body: jsonBody(body), headers };
    case 'gemini':
      return { url: `${base}/${op.version ?? 'v1beta'}/models/${pathSafeModel(op.model)}:${op.method}${geminiQuery(op)}`, body: raw ?? jsonBody(body), headers };
    case 'anthropic-messages':
    case 'anthropic-count-tokens':
      throw new HttpError(404, NO_ANTHROPIC, { reason: 'not_found' });
  }
}
