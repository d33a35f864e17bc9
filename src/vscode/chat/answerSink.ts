/**
 * The chat's side of the attempt loop (DESIGN section 12): an AnswerSink that decodes the committed
 * upstream answer with the upstream's codec, as it arrives, and reports each part to the chat's
 * progress at once. No `vscode` import: the report function is given.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import type { AnswerEvent, StreamDecoder } from '../../protocols/conversation';
import type { AnswerSink } from '../../proxy/forward';
import { ChatAnswerParts } from './answer';
import type { ChatResponsePart } from './parts';

export class ChatAnswerSink implements AnswerSink {
  private readonly parts: ChatAnswerParts;

  constructor(
    private readonly decoder: StreamDecoder,
    private readonly report: (part: ChatResponsePart) => void,
    options: { thinking: boolean },
  ) {
    this.parts = new ChatAnswerParts(options);
  }

  get started(): boolean {
    return this.parts.count > 0;
  }

  async deliver(response: Dispatcher.ResponseData): Promise<void> {
    const text = new StringDecoder('utf8');
    for await (const chunk of response.body) this.emit(this.decoder.push(text.write(chunk as Buffer)));
    const tail = text.end();
    this.emit([...(tail ? this.decoder.push(tail) : []), ...this.decoder.end()]);
  }

  private emit(events: AnswerEvent[]): void {
    for (const event of events) for (const part of this.parts.push(event)) this.report(part);
  }
}

/** A sink for a small JSON answer (a token count): read whole, handed over parsed. */
export class JsonAnswerSink implements AnswerSink {
  private value: unknown;
  private done = false;

  get started(): boolean {
    return this.done;
  }

  get result(): unknown {
    return this.value;
  }

  async deliver(response: Dispatcher.ResponseData): Promise<void> {
    this.value = await response.body.json();
    this.done = true;
  }
}
