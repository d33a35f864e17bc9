/**
 * The OpenAI Responses API as a codec of the neutral model (DESIGN section 10, issue 9): requests
 * from Codex and the `openai` SDK in (`openai-responses-request.ts`, with `tools` and `tool_choice`
 * in `openai-responses-tools.ts`), answers out as the Responses stream or the response object
 * (`openai-responses-stream.ts`).
 */
export { fromResponsesRequest, type ResponsesRequest } from './openai-responses-request';
export { freeformToolNames, type ResponsesAnswerOptions, type ResponsesToolName } from './openai-responses-items';
export { renderResponsesAnswer, responsesStreamEncoder } from './openai-responses-stream';
