/**
 * A failed chat request as one clear sentence for the chat (DESIGN section 12), and the
 * LanguageModelError code that fits it, if one does: `NoPermissions` when no account may be used
 * (none added, every one disabled or turned off), `NotFound` when the model is not in the
 * account's project, `Blocked` when Google blocked the answer. Pure: no `vscode` import.
 */
import { CancelledError } from '../../core/errors';
import type { Availability } from '../../core/pool';
import { UntranslatableError } from '../../protocols/conversation';
import { HttpError } from '../../proxy/errors';
import { ChatAnswerError } from './answer';

export type ChatErrorCode = 'NoPermissions' | 'NotFound' | 'Blocked';

export interface ChatFailure {
  message: string;
  code?: ChatErrorCode;
}

/** Why no account could take the request, from the pool's availability for the model. */
export function noAccountFailure(model: string, a: Availability, formatTime: (unixS: number) => string): ChatFailure {
  if (a.total === 0) {
    return { message: 'There are no Google accounts in Token Pool yet: add one in the Token Pool view.', code: 'NoPermissions' };
  }
  if (a.disabled === a.total) {
    const which = a.total === 1 ? 'The only Token Pool account is' : `All ${a.total} Token Pool accounts are`;
    const on = a.total === 1 ? 'it' : 'each';
    return { message: `${which} disabled (the sign-in expired or was revoked): run "Token Pool: Re-authenticate" on ${on} in the Token Pool view.`, code: 'NoPermissions' };
  }
  if (a.disabled + a.proxy_disabled === a.total) {
    const disabled = a.disabled > 0 ? `${a.disabled} disabled (Re-authenticate in the Token Pool view) and ` : '';
    return { message: `No Token Pool account may be used: ${disabled}${a.proxy_disabled} turned off (Enable for Proxy in the Token Pool view).`, code: 'NoPermissions' };
  }
  const parts = [
    a.cooling > 0 ? `${a.cooling} cooling down${a.earliestCooldownEnd !== null ? `, the first until ${formatTime(a.earliestCooldownEnd)}` : ''}` : '',
    a.disabled > 0 ? `${a.disabled} disabled` : '',
    a.proxy_disabled > 0 ? `${a.proxy_disabled} turned off` : '',
  ].filter(Boolean);
  const when = a.earliestCooldownEnd !== null ? `try again after ${formatTime(a.earliestCooldownEnd)}` : 'try again in a moment';
  return { message: `No Token Pool account can serve ${model} right now (${parts.join('; ') || `${a.total} accounts busy`}): ${when}.` };
}

/**
 * Any error of a chat request as a sentence. `availability` is asked only for the pool's 503 (no
 * account could take it); `undefined` back means the user cancelled, which is not a failure.
 */
export function chatFailure(err: unknown, model: string, availability: () => Availability, formatTime: (unixS: number) => string): ChatFailure | undefined {
  if (err instanceof CancelledError) return undefined;
  if (err instanceof ChatAnswerError) return { message: err.message, ...(err.reason === 'content-filter' ? { code: 'Blocked' as const } : {}) };
  if (err instanceof UntranslatableError) return { message: `Token Pool cannot send this request to ${model}: ${err.message}.` };
  if (err instanceof HttpError) {
    if (err.options.reason === 'no_account_available') return noAccountFailure(model, availability(), formatTime);
    if (err.options.reason === 'upstream_error') return upstreamFailure(err, model);
    return { message: sentence(err.message) };
  }
  return { message: `Token Pool could not answer: ${sentence(err instanceof Error ? err.message : String(err))}` };
}

/** What Google answered (its own message), after every account the loop tried. */
function upstreamFailure(err: HttpError, model: string): ChatFailure {
  const google = sentence(err.message);
  switch (err.status) {
    case 404:
      return { message: `${model} is not enabled in the Google Cloud project of the Token Pool accounts that tried it. Google said: ${google}`, code: 'NotFound' };
    case 403:
      return { message: `Google refused access to ${model}. Google said: ${google}`, code: 'NoPermissions' };
    case 429:
      return { message: `Google's quota for ${model} is used up on the Token Pool accounts that tried it. Google said: ${google}` };
    case 502:
    case 504:
      return { message: `Google could not be reached for ${model}: ${google}` };
  }
  if (err.status >= 500) return { message: `Google could not answer for ${model} (HTTP ${err.status}). Google said: ${google}` };
  return { message: `Google refused the request to ${model}. Google said: ${google}` };
}

const sentence = (text: string): string => {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
};
