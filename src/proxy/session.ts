/**
 * The session key that keeps a conversation on one account (session affinity, DESIGN section 5).
 * Chosen: the `x-tokenpool-session` header when the client sends one, else the end-user id the
 * protocol already carries in the body (OpenAI `user`, Anthropic `metadata.user_id`); Gemini has no
 * such field, so only the header. A client that sends neither gets plain round-robin.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { SESSION_HEADER } from './headers';

const MAX_KEY_CHARS = 256;

export function sessionKey(headers: IncomingHttpHeaders, bodyUserId: unknown): string | undefined {
  const header = headers[SESSION_HEADER];
  const chosen = (Array.isArray(header) ? header[0] : header) || (typeof bodyUserId === 'string' ? bodyUserId : undefined);
  return chosen ? chosen.slice(0, MAX_KEY_CHARS) : undefined;
}
