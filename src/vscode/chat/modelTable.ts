/**
 * What VS Code's chat is told about each model of `upstream.models` (DESIGN section 12): a name,
 * family, version, its real input and output limits and what it can take. The limits come from
 * Google's and Anthropic's model pages (README "Use it in VS Code's chat" lists them); a model the
 * table does not know gets conservative limits. Pure: no `vscode` import.
 */
import { modelFamily } from '../../core/models';

export interface ChatModelInfo {
  id: string;
  name: string;
  family: string;
  version: string;
  tooltip: string;
  detail: string;
  maxInputTokens: number;
  maxOutputTokens: number;
  capabilities: { toolCalling: boolean; imageInput: boolean };
}

interface Limits {
  /** Longest prefix wins. */
  prefix: string;
  input: number;
  output: number;
}

/**
 * Context window and largest answer per model line. Sources: Google Cloud's Vertex AI model pages
 * (Gemini 3 Pro, 3 Flash, 2.5 Pro, 2.5 Flash, 2.5 Flash-Lite, 2.0 Flash, 2.0 Flash-Lite) and
 * Anthropic's models overview (Claude on Vertex AI), as of December 2026.
 */
export const MODEL_LIMITS: readonly Limits[] = [
  { prefix: 'gemini-3', input: 1_048_576, output: 65_536 },
  { prefix: 'gemini-2.5', input: 1_048_576, output: 65_536 },
  { prefix: 'gemini-2.0', input: 1_048_576, output: 8_192 },
  { prefix: 'claude-opus-4-1', input: 200_000, output: 32_000 },
  { prefix: 'claude-opus-4@', input: 200_000, output: 32_000 },
  { prefix: 'claude-opus-4-5', input: 200_000, output: 64_000 },
  { prefix: 'claude-sonnet-4', input: 200_000, output: 64_000 },
  { prefix: 'claude-haiku-4-5', input: 200_000, output: 64_000 },
  { prefix: 'claude-3-7-sonnet', input: 200_000, output: 64_000 },
  { prefix: 'claude-3-5-haiku', input: 200_000, output: 8_192 },
  { prefix: 'claude-3-5-sonnet', input: 200_000, output: 8_192 },
];

/** For a model the table does not name: what every current Gemini and Claude model can at least take. */
export const UNKNOWN_MODEL_LIMITS = { input: 128_000, output: 8_192 } as const;

export function modelLimits(model: string): { input: number; output: number } {
  let best: Limits | undefined;
  for (const entry of MODEL_LIMITS) {
    if (model.startsWith(entry.prefix) && (!best || entry.prefix.length > best.prefix.length)) best = entry;
  }
  return best ? { input: best.input, output: best.output } : { ...UNKNOWN_MODEL_LIMITS };
}

/** Whether a model can be offered in the chat on this upstream: Gemini always, Claude on Vertex only, MaaS never. */
export function chatServes(model: string, upstreamKind: 'vertex' | 'gemini'): boolean {
  const family = modelFamily(model);
  return family === 'gemini' || (family === 'anthropic' && upstreamKind === 'vertex');
}

/** `gemini-2.5-flash` → `Gemini 2.5 Flash`, `claude-sonnet-4-5@20250929` → `Claude Sonnet 4.5`. */
export function displayName(model: string): string {
  const base = model.split('@')[0];
  const words = base.split('-');
  const out: string[] = [];
  for (const word of words) {
    const previous = out[out.length - 1];
    // Claude's versions are written with dashes (`4-5`); join consecutive numbers with a dot.
    if (/^\d+$/.test(word) && previous !== undefined && /^\d+(\.\d+)*$/.test(previous)) out[out.length - 1] = `${previous}.${word}`;
    else out.push(/^\d/.test(word) ? word : word.charAt(0).toUpperCase() + word.slice(1));
  }
  return out.join(' ');
}

/** The model's entry for VS Code's model picker and `vscode.lm.selectChatModels`. */
export function chatModelInfo(model: string): ChatModelInfo {
  const limits = modelLimits(model);
  const [family, version] = model.includes('@') ? model.split('@', 2) : [model, model];
  return {
    id: model,
    name: displayName(model),
    family,
    version,
    tooltip: `${model} through your Token Pool accounts`,
    detail: 'Token Pool',
    maxInputTokens: limits.input,
    maxOutputTokens: limits.output,
    capabilities: { toolCalling: true, imageInput: true },
  };
}

/** The models the chat offers: `upstream.models` that it can serve, in their order, without repeats. */
export function chatModels(models: readonly string[], upstreamKind: 'vertex' | 'gemini'): ChatModelInfo[] {
  return [...new Set(models)].filter((m) => chatServes(m, upstreamKind)).map(chatModelInfo);
}
