/**
 * The neutral answer events (DESIGN section 10) as the parts a chat provider reports: text and
 * thinking as they arrive, a tool call once its JSON input is complete (`{}` when the model gave
 * none), and the usage at the end. Fed one event at a time. Pure: no `vscode` import.
 */
import { parseArguments, type AnswerEvent, type FinishReason } from '../../protocols/conversation';
import type { ChatResponsePart } from './parts';

/** Why an answer ended without being usable: Google blocked it, or the model broke its own tool call. */
export class ChatAnswerError extends Error {
  constructor(
    message: string,
    readonly reason: FinishReason,
  ) {
    super(message);
    this.name = 'ChatAnswerError';
  }
}

export interface ChatAnswerOptions {
  /** Whether thinking parts are reported (the running VS Code has them). */
  thinking: boolean;
}

export class ChatAnswerParts {
  private readonly calls = new Map<string, { callId: string; name: string; args: string }>();
  private reported = 0;

  constructor(private readonly options: ChatAnswerOptions) {}

  /** How many parts have been handed out so far (usage included). */
  get count(): number {
    return this.reported;
  }

  push(event: AnswerEvent): ChatResponsePart[] {
    const parts = this.map(event);
    this.reported += parts.length;
    return parts;
  }

  private map(event: AnswerEvent): ChatResponsePart[] {
    switch (event.type) {
      case 'text-delta':
        return event.delta ? [{ kind: 'text', value: event.delta }] : [];
      case 'reasoning-delta':
        return this.options.thinking && event.delta ? [{ kind: 'thinking', value: event.delta, id: event.id }] : [];
      case 'reasoning-end': {
        if (!this.options.thinking || (!event.signature && !event.redacted)) return [];
        // The signature closes the part: the chat keeps it in the part's metadata and sends it back.
        const metadata = { ...(event.signature ? { signature: event.signature } : {}), ...(event.redacted ? { redacted: event.redacted } : {}) };
        return [{ kind: 'thinking', value: '', id: event.id, metadata }];
      }
      case 'tool-call-start':
        this.calls.set(event.id, { callId: event.toolCallId, name: event.name, args: '' });
        return [];
      case 'tool-call-delta': {
        const call = this.calls.get(event.id);
        if (call) call.args += event.delta;
        return [];
      }
      case 'tool-call-end': {
        const call = this.calls.get(event.id);
        this.calls.delete(event.id);
        if (!call) return [];
        const input = parseArguments(call.args);
        if (typeof input !== 'object' || input === null || Array.isArray(input)) {
          throw new ChatAnswerError(`The model called ${call.name} with arguments that are not a JSON object: ${call.args.slice(0, 200)}`, 'error');
        }
        return [{ kind: 'tool-call', callId: call.callId, name: call.name, input: input as Record<string, unknown> }];
      }
      case 'finish':
        return this.finish(event);
      default:
        return [];
    }
  }

  private finish(event: Extract<AnswerEvent, { type: 'finish' }>): ChatResponsePart[] {
    const usage: ChatResponsePart = { kind: 'usage', usage: event.usage };
    if (event.reason === 'content-filter') {
      throw new ChatAnswerError(`Google blocked the answer${event.rawReason ? ` (${event.rawReason})` : ''}.`, event.reason);
    }
    if (event.reason === 'error') {
      throw new ChatAnswerError(`The model's answer ended with an error${event.rawReason ? ` (${event.rawReason})` : ''}.`, event.reason);
    }
    return [usage];
  }
}
