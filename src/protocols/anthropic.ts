/**
 * The Anthropic Messages codec (DESIGN section 10), in four files: requests from clients
 * (`anthropic-request.ts`), requests to Claude (`anthropic-request-encoder.ts`), Claude's answers
 * to events (`anthropic-answer-decoder.ts`) and events to Anthropic's answers
 * (`anthropic-answer.ts`). Import from here.
 */
export { fromAnthropicRequest } from './anthropic-request';
export { toAnthropicRequest, DEFAULT_MAX_TOKENS, MIN_THINKING_BUDGET, BUDGET_FOR_EFFORT } from './anthropic-request-encoder';
export { anthropicAnswerDecoder, FINISH_FOR_STOP_REASON } from './anthropic-answer-decoder';
export { anthropicStreamEncoder, renderAnthropicAnswer, STOP_REASON_FOR_FINISH } from './anthropic-answer';
