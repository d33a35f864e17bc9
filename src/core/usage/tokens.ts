/**
 * Tokens from each upstream's own usage object (DESIGN section 11), as one shape: `input` is
 * everything read (cache reads included), `cached` the part read from a cache, `output` the visible
 * answer and `thinking` the tokens spent thinking, apart from it (so input + output + thinking is
 * what was billed, without counting anything twice). Pure; table-tested.
 */
import type { Tokens } from './record';

/** The wire format whose usage object is read. */
export type UsageFormat = 'gemini' | 'anthropic' | 'openai';

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Gemini `usageMetadata`: `candidatesTokenCount` leaves the thoughts out; `promptTokenCount` holds the cached part. */
export function geminiTokens(meta: unknown): Tokens {
  if (!isRecord(meta)) return { input: 0, output: 0, cached: 0, thinking: 0 };
  return {
    input: count(meta.promptTokenCount),
    output: count(meta.candidatesTokenCount),
    cached: count(meta.cachedContentTokenCount),
    thinking: count(meta.thoughtsTokenCount),
  };
}

/**
 * Anthropic `usage`, from `message_start` and then `message_delta` (whole-message totals: a later
 * one replaces each count it gives). `input_tokens` leaves cache reads and writes out, so they are
 * added; `output_tokens` holds the thinking, which `output_tokens_details.thinking_tokens` names.
 */
export function anthropicTokens(...usages: unknown[]): Tokens {
  let input = 0;
  let cacheWrite = 0;
  let cacheRead = 0;
  let output = 0;
  let thinking = 0;
  for (const usage of usages) {
    if (!isRecord(usage)) continue;
    if ('input_tokens' in usage) input = count(usage.input_tokens);
    if ('cache_creation_input_tokens' in usage) cacheWrite = count(usage.cache_creation_input_tokens);
    if ('cache_read_input_tokens' in usage) cacheRead = count(usage.cache_read_input_tokens);
    if ('output_tokens' in usage) output = count(usage.output_tokens);
    if (isRecord(usage.output_tokens_details)) thinking = count(usage.output_tokens_details.thinking_tokens);
  }
  return { input: input + cacheWrite + cacheRead, output: Math.max(0, output - thinking), cached: cacheRead, thinking };
}

/** OpenAI `usage` (Chat): `prompt_tokens` holds the cached part, `completion_tokens` the reasoning. */
export function openaiTokens(usage: unknown): Tokens {
  if (!isRecord(usage)) return { input: 0, output: 0, cached: 0, thinking: 0 };
  const thinking = isRecord(usage.completion_tokens_details) ? count(usage.completion_tokens_details.reasoning_tokens) : 0;
  return {
    input: count(usage.prompt_tokens),
    output: Math.max(0, count(usage.completion_tokens) - thinking),
    cached: isRecord(usage.prompt_tokens_details) ? count(usage.prompt_tokens_details.cached_tokens) : 0,
    thinking,
  };
}

/** The neutral usage of a translated answer (protocols/conversation.ts): output includes the reasoning. */
export function neutralTokens(usage: { inputTokens: number; outputTokens: number; cachedInputTokens?: number; reasoningTokens?: number }): Tokens {
  const thinking = count(usage.reasoningTokens);
  return { input: count(usage.inputTokens), output: Math.max(0, count(usage.outputTokens) - thinking), cached: count(usage.cachedInputTokens), thinking };
}

/** The usage objects a scan found (the first and the last), read in `format`. */
export function tokensFrom(format: UsageFormat, first: unknown, last: unknown): Tokens {
  switch (format) {
    case 'gemini':
      return geminiTokens(last ?? first);
    case 'anthropic':
      return anthropicTokens(first, last);
    case 'openai':
      return openaiTokens(last ?? first);
  }
}
