/**
 * Model routing (DESIGN section 10): a client's model name becomes the upstream model through
 * `routing.model_aliases`, and the upstream model decides the family, which decides the route.
 * Pure: table-tested in test/unit/models.test.ts.
 */

/** Gemini (`publishers/google`), Claude on Vertex (`publishers/anthropic`), or a Vertex MaaS `publisher/model`. */
export type ModelFamily = 'gemini' | 'anthropic' | 'maas';

export interface ResolvedModel {
  /** The model sent upstream. */
  model: string;
  /** The client's own name, as it asked. */
  requested: string;
  /** The alias key that matched (an exact name or a glob), if any. */
  alias?: string;
  family: ModelFamily;
}

/** Claude models are named `claude-…` on Vertex; anything with a `/` names its MaaS publisher; the rest is Gemini. */
export function modelFamily(model: string): ModelFamily {
  if (model.includes('/')) return 'maas';
  if (model.startsWith('claude-')) return 'anthropic';
  return 'gemini';
}

/**
 * The alias key that applies to `name`: an exact key first, else the most specific glob: the one
 * with the most literal characters, then the fewest `*`, then the first written.
 */
export function matchAlias(name: string, aliases: Readonly<Record<string, unknown>>): string | undefined {
  if (Object.prototype.hasOwnProperty.call(aliases, name) && !name.includes('*')) return name;
  let best: { key: string; literal: number; stars: number } | undefined;
  for (const key of Object.keys(aliases)) {
    if (!key.includes('*') || !globMatches(key, name)) continue;
    const stars = key.split('*').length - 1;
    const literal = key.length - stars;
    if (!best || literal > best.literal || (literal === best.literal && stars < best.stars)) best = { key, literal, stars };
  }
  return best?.key;
}

/** Applies the aliases once (no chains: an alias target is used as written). */
export function resolveModel(requested: string, aliases: Readonly<Record<string, string>>): ResolvedModel {
  const alias = matchAlias(requested, aliases);
  const model = alias === undefined ? requested : aliases[alias];
  return { model, requested, family: modelFamily(model), ...(alias !== undefined ? { alias } : {}) };
}

/** The names `GET /v1/models` lists: configured models, then alias names that are not globs, without repeats. */
export function listedModels(models: readonly string[], aliases: Readonly<Record<string, string>>): string[] {
  return [...new Set([...models, ...Object.keys(aliases).filter((k) => !k.includes('*'))])];
}

/** `*` matches any run of characters (also none); everything else is literal. */
function globMatches(glob: string, name: string): boolean {
  const pieces = glob.split('*');
  const first = pieces[0];
  const last = pieces[pieces.length - 1];
  if (!name.startsWith(first) || name.length < first.length + last.length || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = name.indexOf(piece, at);
    if (found === -1 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}
