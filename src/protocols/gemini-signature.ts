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
