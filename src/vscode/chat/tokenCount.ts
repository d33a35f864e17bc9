/**
 * Token counts for the chat (DESIGN section 12): a small cache of what Google counted, and the
 * estimate used when no account can count: about four characters a token (the rule of thumb Google
 * and Anthropic both give for English text and code), plus 258 tokens an image (what Gemini
 * charges for an image up to 384 pixels a side; larger ones cost more). Pure: no `vscode` import.
 */
import type { ConversationRequest } from '../../protocols/conversation';

export const CHARS_PER_TOKEN = 4;
export const TOKENS_PER_IMAGE = 258;

export function estimateTokens(request: ConversationRequest): number {
  let chars = 0;
  let images = 0;
  const text = (value: string): void => {
    chars += value.length;
  };
  for (const message of request.messages) {
    if (message.role === 'system') {
      text(message.text);
      continue;
    }
    for (const part of message.parts) {
      if (part.type === 'text' || part.type === 'reasoning') text(part.text);
      else if (part.type === 'file') images++;
      else if (part.type === 'tool-call') text(part.name + JSON.stringify(part.input ?? {}));
      else if (part.type === 'tool-result') {
        for (const inner of part.output) {
          if (inner.type === 'text') text(inner.text);
          else images++;
        }
      }
    }
  }
  return Math.ceil(chars / CHARS_PER_TOKEN) + images * TOKENS_PER_IMAGE;
}

/** The last `capacity` counts, by key (model and text); the oldest goes first. */
export class TokenCountCache {
  private readonly entries = new Map<string, number>();

  constructor(private readonly capacity = 2000) {}

  get(key: string): number | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Used again: it becomes the newest.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: number): number {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }
}
