/**
 * OpenAI Responses answers from neutral answer events (DESIGN section 10): events from any
 * upstream become the Responses SSE stream (`responsesStreamEncoder`) or the whole response object
 * (`renderResponsesAnswer`) that Codex and the `openai` SDK read. Event names follow the `openai`
 * package's `ResponseStreamEvent`; the items and the response object are built in
 * openai-responses-items.ts. Pure, apart from random item ids and the clock (both replaceable).
 */
import type { Answer, AnswerEvent, AssistantPart, StreamEncoder, Usage } from './conversation';
import {
  callItem, encryptedFor, endingWords, freeformInput, messageItem, outputText, randomId, reasoningItem, refusalPart,
  responseObject, responsesEnding, toolFor, urlCitation, type Ending, type Json, type ResponsesAnswerOptions, type ResponsesToolName,
} from './openai-responses-items';

/** One part of the answer being written, by its neutral id. */
interface OpenPart {
  kind: 'text' | 'reasoning' | 'call';
  itemId: string;
  /** Its place in `output`; unset until its `output_item.added` is written (text and reasoning wait for their first delta). */
  index?: number;
  text: string;
  /** For a call: its call id and how the client calls it. */
  callId?: string;
  tool?: ResponsesToolName;
  /** A call the upstream already marked freeform: its deltas are the raw input, not JSON around it. */
  raw?: boolean;
  /** For a text: its `url_citation` annotations so far. */
  annotations?: Json[];
}

/**
 * The Responses stream from neutral events, each written as it arrives: `response.created` and
 * `response.in_progress`, then per part `response.output_item.added`, its deltas and `…done` events
 * and `response.output_item.done`, then `response.completed` / `response.incomplete` /
 * `response.failed` with the whole response. Every event has the next `sequence_number` from 0.
 * A text part's signature becomes a reasoning item right after the message (when the client
 * includes `reasoning.encrypted_content`). A freeform tool's input streams as it comes when the
 * upstream marks the call freeform (its deltas are then the raw text); otherwise the neutral
 * arguments are JSON around the text, decoded when the call ends and sent as one delta.
 */
export function responsesStreamEncoder(options: ResponsesAnswerOptions): StreamEncoder {
  const makeId = options.makeId ?? randomId;
  const id = makeId('resp');
  const createdAt = Math.floor((options.now ?? Date.now)() / 1000);
  const output: Json[] = [];
  const open = new Map<string, OpenPart>();
  let sequence = 0;
  let started = false;
  let finished = false;

  const sse = (type: string, data: Json): string => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`;
  const snapshot = (ending: Omit<Ending, 'event'>, usage?: Usage) => responseObject(options, id, createdAt, output, ending, usage);

  const start = (): string => {
    if (started) return '';
    started = true;
    const response = snapshot({ status: 'in_progress', error: null, incomplete_details: null });
    return sse('response.created', { response }) + sse('response.in_progress', { response });
  };
  const add = (part: OpenPart, item: Json): string => {
    part.index = output.length;
    output.push(item);
    return sse('response.output_item.added', { output_index: part.index, item });
  };
  const done = (part: OpenPart, item: Json): string => {
    output[part.index!] = item;
    return sse('response.output_item.done', { output_index: part.index, item });
  };
  const where = (part: OpenPart): Json => ({ item_id: part.itemId, output_index: part.index });

  const addText = (part: OpenPart): string =>
    add(part, messageItem(part.itemId, '', 'in_progress')) + sse('response.content_part.added', { ...where(part), content_index: 0, part: outputText('') });
  const addReasoning = (part: OpenPart): string => add(part, reasoningItem(part.itemId, '', undefined));
  const addSummary = (part: OpenPart): string =>
    sse('response.reasoning_summary_part.added', { ...where(part), summary_index: 0, part: { type: 'summary_text', text: '' } });

  const endText = (part: OpenPart, status: string, signature?: string): string => {
    let out = '';
    if (part.text) {
      out += sse('response.output_text.done', { ...where(part), content_index: 0, text: part.text, logprobs: [] });
      out += sse('response.content_part.done', { ...where(part), content_index: 0, part: outputText(part.text, part.annotations) });
      out += done(part, messageItem(part.itemId, part.text, status, part.annotations));
    }
    const encrypted = encryptedFor(options, signature);
    if (encrypted !== undefined) {
      const carrier: OpenPart = { kind: 'reasoning', itemId: makeId('rs'), text: '' };
      const item = reasoningItem(carrier.itemId, '', encrypted);
      out += add(carrier, item) + done(carrier, item);
    }
    return out;
  };
  const endReasoning = (part: OpenPart, signature?: string, redacted?: string): string => {
    const encrypted = encryptedFor(options, signature, redacted);
    if (!part.text && encrypted === undefined) return '';
    let out = part.index === undefined ? addReasoning(part) : '';
    if (part.text) {
      out += sse('response.reasoning_summary_text.done', { ...where(part), summary_index: 0, text: part.text });
      out += sse('response.reasoning_summary_part.done', { ...where(part), summary_index: 0, part: { type: 'summary_text', text: part.text } });
    }
    return out + done(part, reasoningItem(part.itemId, part.text, encrypted));
  };
  const endCall = (part: OpenPart, status: string): string => {
    const tool = part.tool!;
    if (tool.freeform) {
      const input = part.raw ? part.text : freeformInput(part.text);
      const delta = input && !part.raw ? sse('response.custom_tool_call_input.delta', { ...where(part), delta: input }) : '';
      return delta + sse('response.custom_tool_call_input.done', { ...where(part), input }) + done(part, callItem(part.itemId, part.callId!, tool, input, status));
    }
    const args = part.text.trim() ? part.text : '{}';
    return (
      sse('response.function_call_arguments.done', { ...where(part), name: tool.name, arguments: args }) +
      done(part, callItem(part.itemId, part.callId!, tool, args, status))
    );
  };
  const close = (partId: string, status: string, signature?: string, redacted?: string): string => {
    const part = open.get(partId);
    if (!part) return '';
    open.delete(partId);
    if (part.kind === 'text') return endText(part, status, signature);
    if (part.kind === 'reasoning') return endReasoning(part, signature, redacted);
    return endCall(part, status);
  };
  /** The message item that says why the answer ended: a refusal part, or text. */
  const sayEnding = (words: { refusal?: string; text?: string }): string => {
    if (words.refusal === undefined && words.text === undefined) return '';
    const part: OpenPart = { kind: 'text', itemId: makeId('msg'), text: '' };
    if (words.text !== undefined) {
      const opening = addText(part);
      part.text = words.text;
      return opening + sse('response.output_text.delta', { ...where(part), content_index: 0, delta: words.text, logprobs: [] }) + endText(part, 'completed');
    }
    const refusal = words.refusal!;
    const item = { ...messageItem(part.itemId, '', 'completed'), content: [refusalPart(refusal)] };
    return (
      add(part, messageItem(part.itemId, '', 'in_progress')) +
      sse('response.content_part.added', { ...where(part), content_index: 0, part: refusalPart('') }) +
      sse('response.refusal.delta', { ...where(part), content_index: 0, delta: refusal }) +
      sse('response.refusal.done', { ...where(part), content_index: 0, refusal }) +
      sse('response.content_part.done', { ...where(part), content_index: 0, part: refusalPart(refusal) }) +
      done(part, item)
    );
  };
  const finish = (ending: Ending, usage?: Usage, words: { refusal?: string; text?: string } = {}): string => {
    finished = true;
    const status = ending.status === 'completed' ? 'completed' : 'incomplete';
    const closing = [...open.keys()].map((partId) => close(partId, status)).join('');
    const { event, ...fields } = ending;
    return closing + sayEnding(words) + sse(event, { response: snapshot(fields, usage) });
  };

  const step = (event: AnswerEvent): string => {
    const part = 'id' in event ? open.get(event.id) : undefined;
    switch (event.type) {
      case 'response-start':
        return '';
      case 'text-start':
        open.set(event.id, { kind: 'text', itemId: makeId('msg'), text: '' });
        return '';
      case 'reasoning-start':
        open.set(event.id, { kind: 'reasoning', itemId: makeId('rs'), text: '' });
        return '';
      case 'tool-call-start': {
        const tool = toolFor(options, event.name, event.freeform);
        const call: OpenPart = { kind: 'call', itemId: makeId(tool.freeform ? 'ctc' : 'fc'), text: '', callId: event.toolCallId, tool, raw: event.freeform === true };
        open.set(event.id, call);
        return add(call, callItem(call.itemId, event.toolCallId, tool, '', 'in_progress'));
      }
      case 'text-delta': {
        if (part?.kind !== 'text' || !event.delta) return '';
        const opening = part.index === undefined ? addText(part) : '';
        part.text += event.delta;
        return opening + sse('response.output_text.delta', { ...where(part), content_index: 0, delta: event.delta, logprobs: [] });
      }
      case 'reasoning-delta': {
        if (part?.kind !== 'reasoning' || !event.delta) return '';
        let opening = part.index === undefined ? addReasoning(part) : '';
        if (!part.text) opening += addSummary(part);
        part.text += event.delta;
        return opening + sse('response.reasoning_summary_text.delta', { ...where(part), summary_index: 0, delta: event.delta });
      }
      case 'tool-call-delta': {
        if (part?.kind !== 'call' || !event.delta) return '';
        part.text += event.delta;
        if (!part.tool!.freeform) return sse('response.function_call_arguments.delta', { ...where(part), delta: event.delta });
        return part.raw ? sse('response.custom_tool_call_input.delta', { ...where(part), delta: event.delta }) : '';
      }
      case 'text-citation': {
        if (part?.kind !== 'text' || part.index === undefined) return '';
        const annotation = urlCitation(event.citation);
        const annotations = (part.annotations ??= []);
        annotations.push(annotation);
        return sse('response.output_text.annotation.added', { ...where(part), content_index: 0, annotation_index: annotations.length - 1, annotation });
      }
      case 'text-end':
        return close(event.id, 'completed', event.signature);
      case 'reasoning-end':
        return close(event.id, 'completed', event.signature, event.redacted);
      case 'tool-call-end':
        return close(event.id, 'completed');
      case 'finish':
        return finish(responsesEnding(event.reason, event.rawReason, event.message), event.usage, endingWords(event));
    }
  };

  return {
    push(event) {
      if (finished) return '';
      return start() + step(event);
    },
    end() {
      if (finished) return '';
      const error = { code: 'server_error', message: 'the upstream answer ended before it was complete' };
      return start() + finish({ event: 'response.failed', status: 'failed', error, incomplete_details: null });
    },
  };
}

/** Answer parts as output items, in the order the model made them (a text's signature as a reasoning item after it). */
function outputItems(parts: AssistantPart[], options: ResponsesAnswerOptions, makeId: (prefix: string) => string): Json[] {
  return parts.flatMap((part): Json[] => {
    switch (part.type) {
      case 'text': {
        const encrypted = encryptedFor(options, part.signature);
        const annotations = part.citations?.map(urlCitation);
        return [
          ...(part.text ? [messageItem(makeId('msg'), part.text, 'completed', annotations)] : []),
          ...(encrypted === undefined ? [] : [reasoningItem(makeId('rs'), '', encrypted)]),
        ];
      }
      case 'reasoning': {
        const encrypted = encryptedFor(options, part.signature, part.redacted);
        return part.text || encrypted !== undefined ? [reasoningItem(makeId('rs'), part.text, encrypted)] : [];
      }
      case 'tool-call': {
        const tool = toolFor(options, part.name, part.freeform);
        const input = part.freeform && typeof part.input === 'string' ? part.input : freeformInput(part.input);
        const args = tool.freeform ? input : typeof part.input === 'string' ? part.input : JSON.stringify(part.input ?? {});
        return [callItem(makeId(tool.freeform ? 'ctc' : 'fc'), part.id, tool, args, 'completed')];
      }
    }
  });
}

/** A whole answer as the response object `responses.create` returns when not streamed. */
export function renderResponsesAnswer(answer: Answer, options: ResponsesAnswerOptions): Json {
  const makeId = options.makeId ?? randomId;
  const { event: _event, ...ending } = responsesEnding(answer.finish.reason, answer.finish.rawReason, answer.finish.message);
  const createdAt = Math.floor((options.now ?? Date.now)() / 1000);
  const output = outputItems(answer.parts, options, makeId);
  const words = endingWords(answer.finish);
  if (words.text !== undefined) output.push(messageItem(makeId('msg'), words.text, 'completed'));
  if (words.refusal !== undefined) output.push({ ...messageItem(makeId('msg'), '', 'completed'), content: [refusalPart(words.refusal)] });
  return responseObject(options, makeId('resp'), createdAt, output, ending, answer.finish.usage);
}
