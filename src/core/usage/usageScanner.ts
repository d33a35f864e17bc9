/**
 * Finds the usage object in an upstream answer's bytes as they pass (DESIGN section 11): a
 * pass-through stream is never held back, parsed or copied chunk by chunk. Each chunk costs one
 * native search for the key (`"usageMetadata"` or `"usage"`); the scanner keeps a reference to the
 * chunk of the last hit (and the few after it, should the object run on), and parses that object
 * once, at the end. With `first`, the first hit is parsed too (Anthropic's `message_start` carries
 * the input counts, `message_delta` the output). A key inside a JSON string is escaped (`\"usage\"`)
 * and is not a hit; a key split between two chunks is found across them.
 */
import type { UsageFormat } from './tokens';

/** How far past a hit the object may run, in bytes; a usage object is a few hundred. */
const MAX_OBJECT_BYTES = 16 * 1024;

const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const COLON = 0x3a;
const LETTER_N = 0x6e;

const KEYS: Record<UsageFormat, Buffer> = {
  gemini: Buffer.from('"usageMetadata"'),
  anthropic: Buffer.from('"usage"'),
  openai: Buffer.from('"usage"'),
};

export class UsageScanner {
  private readonly key: Buffer;
  /** The last bytes seen (a key's length of them), for a key split between chunks: copied, never allocated. */
  private readonly window: Buffer;
  private windowLength = 0;
  /** The chunk where the last usage value starts, where in it, and the chunks after it. */
  private hit: Buffer | undefined;
  private hitAt = 0;
  private readonly after: Buffer[] = [];
  private afterBytes = 0;
  /** The first value's bytes until its object is complete (with `first` only). */
  private firstParts: Buffer[] | undefined;
  private firstBytes = 0;
  private firstDone: boolean;
  private firstValue: unknown;

  constructor(format: UsageFormat, options: { first?: boolean } = {}) {
    this.key = KEYS[format];
    this.window = Buffer.allocUnsafe(this.key.length); // only the first windowLength bytes are read
    this.firstDone = !options.first;
  }

  push(chunk: Buffer): void {
    if (this.firstParts) this.addFirst(chunk);
    const inChunk = this.lastValueAt(chunk);
    const wantFirst = !this.firstDone && !this.firstParts;
    const split = inChunk < 0 || wantFirst ? this.splitValueAt(chunk) : -1;
    if (wantFirst) {
      const at = split >= 0 ? split : this.firstValueAt(chunk);
      if (at >= 0) {
        this.firstParts = [];
        this.firstBytes = 0;
        this.addFirst(chunk.subarray(at));
      }
    }
    const at = inChunk >= 0 ? inChunk : split;
    if (at >= 0) {
      this.hit = chunk;
      this.hitAt = at;
      this.after.length = 0;
      this.afterBytes = 0;
    } else if (this.hit && this.afterBytes < MAX_OBJECT_BYTES) {
      this.after.push(chunk);
      this.afterBytes += chunk.length;
    }
    this.remember(chunk);
  }

  /** The first usage object (with `first`) and the last one; undefined where none was found or it did not parse. */
  result(): { first: unknown; last: unknown } {
    let last: unknown;
    if (this.hit) {
      const tail = this.hit.subarray(this.hitAt);
      last = objectAt(this.after.length === 0 ? tail : Buffer.concat([tail, ...this.after]));
    }
    return { first: this.firstValue, last };
  }

  private addFirst(bytes: Buffer): void {
    const parts = this.firstParts!;
    parts.push(bytes);
    this.firstBytes += bytes.length;
    const value = objectAt(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    if (value !== undefined || this.firstBytes >= MAX_OBJECT_BYTES) {
      this.firstValue = value;
      this.firstDone = true;
      this.firstParts = undefined;
    }
  }

  /** Where the value after the last real key in the chunk starts (not escaped, not `null`), or -1. */
  private lastValueAt(chunk: Buffer): number {
    let at = chunk.lastIndexOf(this.key);
    while (at >= 0 && !this.realKey(chunk, at)) at = at === 0 ? -1 : chunk.lastIndexOf(this.key, at - 1);
    return at < 0 ? -1 : at + this.key.length;
  }

  private firstValueAt(chunk: Buffer): number {
    let at = chunk.indexOf(this.key);
    while (at >= 0 && !this.realKey(chunk, at)) at = chunk.indexOf(this.key, at + 1);
    return at < 0 ? -1 : at + this.key.length;
  }

  private realKey(chunk: Buffer, at: number): boolean {
    const before = at > 0 ? chunk[at - 1] : this.windowLength > 0 ? this.window[this.windowLength - 1] : undefined;
    if (before === BACKSLASH) return false;
    return !nullFollows(chunk, at + this.key.length);
  }

  /** A key begun in the bytes before this chunk and finished in it: where its value starts in the chunk, or -1. */
  private splitValueAt(chunk: Buffer): number {
    const { key, window } = this;
    const seen = this.windowLength;
    for (let k = 1; k < key.length && k <= seen; k++) {
      const rest = key.length - k;
      if (chunk.length < rest || chunk[0] !== key[k]) continue;
      if (window.compare(key, 0, k, seen - k, seen) !== 0 || chunk.compare(key, k, key.length, 0, rest) !== 0) continue;
      if (seen - k > 0 && window[seen - k - 1] === BACKSLASH) continue;
      return nullFollows(chunk, rest) ? -1 : rest;
    }
    return -1;
  }

  /** Keeps the last key-length bytes seen. */
  private remember(chunk: Buffer): void {
    const size = this.window.length;
    if (chunk.length >= size) {
      chunk.copy(this.window, 0, chunk.length - size);
      this.windowLength = size;
      return;
    }
    const keep = Math.min(this.windowLength, size - chunk.length);
    this.window.copy(this.window, 0, this.windowLength - keep, this.windowLength);
    chunk.copy(this.window, keep);
    this.windowLength = keep + chunk.length;
  }
}

/** `"usage":null` (OpenAI chunks before the last) is not the usage; past the chunk's end it cannot be told yet. */
function nullFollows(chunk: Buffer, from: number): boolean {
  let i = from;
  while (i < chunk.length && (chunk[i] === COLON || isSpace(chunk[i]))) i++;
  return i < chunk.length && chunk[i] === LETTER_N;
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * The JSON object at the start of `bytes`, after the key (`: {...}`), parsed; undefined when it is
 * not an object or not complete.
 */
export function objectAt(bytes: Buffer): unknown {
  let i = 0;
  while (i < bytes.length && (bytes[i] === COLON || isSpace(bytes[i]))) i++;
  if (bytes[i] !== OPEN_BRACE) return undefined;
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE) depth++;
    else if (b === CLOSE_BRACE && --depth === 0) {
      try {
        return JSON.parse(bytes.toString('utf8', start, i + 1)) as unknown;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
