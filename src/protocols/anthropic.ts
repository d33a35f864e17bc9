/**
 * The Anthropic Messages codec (DESIGN section 10), in two files: requests
 * (`anthropic-request.ts`) and answers (`anthropic-answer.ts`). Import from here.
 */
export { fromAnthropicRequest, toAnthropicRequest, DEFAULT_MAX_TOKENS, MIN_THINKING_BUDGET, BUDGET_FOR_EFFORT } from './anthropic-request';
export { anthropicAnswerDecoder, anthropicStreamEncoder, renderAnthropicAnswer, FINISH_FOR_STOP_REASON, STOP_REASON_FOR_FINISH } from './anthropic-answer';
