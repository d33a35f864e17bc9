/**
 * Where Gemini's `thoughtSignature`s ride in the neutral model (DESIGN section 10): on text and
 * reasoning parts as `gemini.`-prefixed signatures, on a function call inside the tool call's id,
 * which every client returns with the tool's result. Pure.
 */
import { randomBytes } from 'node:crypto';

/** The prefix of neutral signatures that came from Gemini (others are never sent to Gemini). */
export const GEMINI_SIGNATURE_PREFIX = 'gemini.';

export const fromGemini = (signature: string | undefined): string | undefined =>
  signature?.startsWith(GEMINI_SIGNATURE_PREFIX) ? signature.slice(GEMINI_SIGNATURE_PREFIX.length) : undefined;

const SIGNED_ID = /^tpsig_[0-9a-f]{16}_([A-Za-z0-9_-]+)$/;

/** A new tool call id; with a signature `tpsig_<16 hex>_<base64url(signature)>`, else `call_<16 hex>`. */
export function toolCallIdWithSignature(signature?: string): string {
  const random = randomBytes(8).toString('hex');
  return signature ? `tpsig_${random}_${Buffer.from(signature, 'utf8').toString('base64url')}` : `call_${random}`;
}

/** The raw Gemini signature inside an id made by toolCallIdWithSignature, or undefined. */
export function signatureFromToolCallId(id: string): string | undefined {
  const match = SIGNED_ID.exec(id);
  return match ? Buffer.from(match[1], 'base64url').toString('utf8') : undefined;
}

/**
 * Google's documented stand-in for a missing thought signature (Gemini API docs, "Thought
 * signatures": for function calls that did not come from the model, e.g. history from another model
 * or rewritten by a client). Gemini 3 accepts a function-call turn carrying it instead of refusing it.
 */
export const SKIP_SIGNATURE_VALIDATOR = 'skip_thought_signature_validator';

type Part = Record<string, unknown>;

/**
 * Gemini 3 refuses a model turn whose first function call has no signature. For each such turn the
 * first function call gets the sentinel; a real signature is never replaced. Changes `contents` in
 * place and returns the names of the calls that got it (to log). Other models are left as they are.
 */
export function signUnsignedCalls(contents: readonly { role: string; parts: Part[] }[], model: string): string[] {
  if (!model.startsWith('gemini-3')) return [];
  const signed: string[] = [];
  for (const content of contents) {
    if (content.role !== 'model') continue;
    const first = content.parts.find((part) => 'functionCall' in part);
    if (!first || typeof first.thoughtSignature === 'string') continue;
    first.thoughtSignature = SKIP_SIGNATURE_VALIDATOR;
    signed.push(String((first.functionCall as { name?: unknown }).name));
  }
  return signed;
}
