/**
 * Vertex AI (DESIGN section 6, kind `vertex`): every protocol is served under
 * `/v1/projects/{p}/locations/{l}` on `https://{l}-aiplatform.googleapis.com` (the bare host for
 * `global`), or under `base_url` when one is set.
 */
import type { Config } from '../../core/config';
import { HttpError } from '../errors';
import {
  baseOrigin,
  geminiQuery,
  jsonBody,
  pathSafeModel,
  type Upstream,
  type UpstreamAccount,
  type UpstreamOp,
  type UpstreamTarget,
} from './target';

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export const vertexOrigin = (location: string): string =>
  location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;

/** OpenAI-compatible model ids on Vertex name their publisher: `google/<model>` unless one is given. */
export const vertexOpenAiModel = (model: string): string => (model.includes('/') ? model : `google/${model}`);

export function vertexUpstream(config: Config['upstream']): Upstream {
  return {
    unsupported: () => undefined,
    target: (op, body, account, raw) => vertexTarget(config, op, body, account, raw),
  };
}

export function vertexTarget(
  config: Config['upstream'],
  op: UpstreamOp,
  body: Record<string, unknown>,
  account: UpstreamAccount,
  raw?: Buffer,
): UpstreamTarget {
  const project = account.projectId || config.project_id;
  const location = account.location || config.location || 'us-central1';
  if (!project) {
    throw new HttpError(500, 'No Google Cloud project for this account: set upstream.project_id in config.json or the account\'s project_id', {
      reason: 'no_project',
    });
  }
  if (!/^[a-z0-9-]+$/i.test(location)) {
    throw new HttpError(500, `Invalid Vertex AI location "${location}"`, { reason: 'invalid_location' });
  }
  const base = `${baseOrigin(config.base_url, vertexOrigin(location))}/v1/projects/${encodeURIComponent(project)}/locations/${location}`;
  switch (op.api) {
    case 'openai-chat':
      return {
        url: `${base}/endpoints/openapi/chat/completions`,
        body: jsonBody({ ...body, model: vertexOpenAiModel(op.model) }),
        headers: {},
      };
    case 'gemini':
      return {
        url: `${base}/publishers/google/models/${pathSafeModel(op.model)}:${op.method}${geminiQuery(op)}`,
        body: raw ?? jsonBody(body),
        headers: {},
      };
    case 'anthropic-messages': {
      const { model: _model, ...rest } = body;
      return {
        url: `${base}/publishers/anthropic/models/${pathSafeModel(op.model)}:${op.stream ? 'streamRawPredict' : 'rawPredict'}`,
        body: jsonBody({ ...rest, anthropic_version: VERTEX_ANTHROPIC_VERSION }),
        headers: {},
      };
    }
    case 'anthropic-count-tokens':
      return {
        url: `${base}/publishers/anthropic/models/count-tokens:rawPredict`,
        body: jsonBody({ ...body, anthropic_version: VERTEX_ANTHROPIC_VERSION }),
        headers: {},
      };
  }
}
