/**
 * The fake upstream's scripted model: what it answers, decided from the last user turn alone, the
 * same way for every protocol (the Gemini and Anthropic renderers turn a Plan into wire format).
 *
 * 1. The turn holds tool results: text `tool said: <results joined by " | ">`.
 * 2. Else the turn's text has `[[call NAME ARGS_JSON]]` directives (ARGS_JSON optional, default {})
 *    naming declared tools: those calls, in order (several = parallel calls). Undeclared names are
 *    ignored; when none is left the answer is text.
 * 3. `[[think]]` adds a thought first (each renderer decides whether it is shown).
 * 4. A text answer ends as the directives say: `[[safety]]` blocked (no content), `[[max_tokens]]`
 *    cut to its first half of words, `[[stop:SEQ]]` cut where the directive starts, as if SEQ was
 *    hit; otherwise a normal stop.
 * 5. Else the echo: `echo: <the turn's text>`.
 *
 * Usage is deterministic: tokens are whitespace-separated words.
 */

export interface FunctionCallPlan {
  name: string;
  args: Record<string, unknown>;
}

export type Finish = 'stop' | 'max_tokens' | 'stop_sequence' | 'safety';

export type Plan =
  | { kind: 'text'; text: string; finish: Finish; stopSequence?: string; think: boolean }
  | { kind: 'calls'; calls: FunctionCallPlan[]; think: boolean };

/** The last user turn as the model reads it, whatever the protocol. */
export interface TurnView {
  /** The turn's text parts joined. */
  text: string;
  /** The text of each tool result in the turn, in order; empty when there is none. */
  toolResults: string[];
  /** Names of the functions the request declares. */
  declared: ReadonlySet<string>;
}

/** The thought the model has when told `[[think]]`. */
export const THOUGHT_TEXT = 'thinking about it';

export function planAnswer(turn: TurnView): Plan {
  const think = turn.text.includes('[[think]]');
  if (turn.toolResults.length > 0) return finishText(`tool said: ${turn.toolResults.join(' | ')}`, turn.text, think);
  const calls = parseCallDirectives(turn.text).filter((c) => turn.declared.has(c.name));
  if (calls.length > 0) return { kind: 'calls', calls, think };
  return finishText(`echo: ${turn.text}`, turn.text, think);
}

function finishText(text: string, directives: string, think: boolean): Plan {
  if (directives.includes('[[safety]]')) return { kind: 'text', text: '', finish: 'safety', think };
  if (directives.includes('[[max_tokens]]')) {
    const words = text.split(/\s+/).filter(Boolean);
    return { kind: 'text', text: words.slice(0, Math.max(1, Math.floor(words.length / 2))).join(' '), finish: 'max_tokens', think };
  }
  const stop = /\[\[stop:([^\]]+)\]\]/.exec(directives);
  if (stop) {
    const at = text.indexOf(stop[0]);
    return { kind: 'text', text: (at >= 0 ? text.slice(0, at) : text).trimEnd(), finish: 'stop_sequence', stopSequence: stop[1], think };
  }
  return { kind: 'text', text, finish: 'stop', think };
}

/** Every well-formed `[[call NAME ARGS_JSON]]` in `text`, in order; a directive whose JSON is not an object is skipped. */
export function parseCallDirectives(text: string): FunctionCallPlan[] {
  const calls: FunctionCallPlan[] = [];
  const start = /\[\[call ([^\s\]]+)\s*/g;
  for (let m = start.exec(text); m; m = start.exec(text)) {
    const from = m.index + m[0].length;
    if (text.startsWith(']]', from)) {
      calls.push({ name: m[1], args: {} });
      continue;
    }
    const end = jsonObjectEnd(text, from);
    if (end === undefined || !/^\s*\]\]/.test(text.slice(end))) continue;
    try {
      const args: unknown = JSON.parse(text.slice(from, end));
      if (typeof args === 'object' && args !== null && !Array.isArray(args)) calls.push({ name: m[1], args: args as Record<string, unknown> });
    } catch {
      // Not JSON: not a directive.
    }
    start.lastIndex = end;
  }
  return calls;
}

/** The index just past the JSON object that starts at `from`, minding strings; undefined when unbalanced. */
function jsonObjectEnd(text: string, from: number): number | undefined {
  if (text[from] !== '{') return undefined;
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

export const countWords = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** Output tokens of a plan (a call counts its name and its JSON arguments). */
export function outputWords(plan: Plan): number {
  if (plan.kind === 'text') return countWords(plan.text);
  return plan.calls.reduce((n, c) => n + countWords(c.name) + countWords(JSON.stringify(c.args)), 0);
}

/** The text of a tool result: a lone string field (`{output: "..."}`, `{error: "..."}`) as is, anything else as JSON. */
export function resultText(response: unknown): string {
  if (typeof response === 'string') return response;
  if (typeof response === 'object' && response !== null && !Array.isArray(response)) {
    const values = Object.values(response);
    if (values.length === 1 && typeof values[0] === 'string') return values[0];
  }
  return JSON.stringify(response ?? null);
}

/** Ids and signatures the fake hands out, unique per FakeUpstream. */
export interface Mint {
  /** A fresh thought signature: base64 of `sig-<n>`. */
  signature(): string;
  /** A fresh counter value for ids. */
  next(): number;
}

export function createMint(): Mint {
  let signatures = 0;
  let ids = 0;
  return {
    signature: () => Buffer.from(`sig-${++signatures}`).toString('base64'),
    next: () => ++ids,
  };
}

export function splitText(text: string, chunks: number): string[] {
  const n = Math.max(1, chunks);
  return Array.from({ length: n }, (_, i) => text.slice(Math.floor((i * text.length) / n), Math.floor(((i + 1) * text.length) / n)));
}
