/** The upstream for the configured kind (DESIGN section 6): Vertex AI by default, or the Gemini API. */
import type { Config } from '../../core/config';
import { geminiApiUpstream } from './gemini-api';
import type { Upstream } from './target';
import { vertexUpstream } from './vertex';

export function createUpstream(config: Config['upstream']): Upstream {
  return config.kind === 'gemini' ? geminiApiUpstream(config) : vertexUpstream(config);
}
