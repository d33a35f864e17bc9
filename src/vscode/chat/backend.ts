/**
 * What the chat provider does, without `vscode` (DESIGN section 12): which models it offers, a chat
 * request through the proxy's own attempt loop (forward.ts) with the chat's progress as the sink,
 * and token counts through the same loop, cached, with an estimate when no account can count.
 * chatProvider.ts adapts it to VS Code's API.
 */
import type { Dispatcher } from 'undici';
import type { Config } from '../../core/config';
import { CancelledError } from '../../core/errors';
import { createDispatcher } from '../../core/http';
import type { Logger } from '../../core/log';
import { modelFamily } from '../../core/models';
import { toAnthropicRequest } from '../../protocols/anthropic';
import { countTokensFromGemini, toGeminiCountTokensRequest } from '../../protocols/gemini';
import type { UsageLedger } from '../../core/usage/ledger';
import { ClientSignal } from '../../proxy/clientSignal';
import { forward, type AnswerSink, type ForwardCall, type ForwardDeps } from '../../proxy/forward';
import { upstreamConversation } from '../../proxy/translate';
import { createUpstream } from '../../proxy/upstream/create';
import type { PoolRuntime, Services } from '../runtime';
import { ChatAnswerSink, JsonAnswerSink } from './answerSink';
import { chatModels, chatServes, type ChatModelInfo } from './modelTable';
import type { ChatInputMessage, ChatRequestOptions, ChatResponsePart } from './parts';
import { toConversation } from './request';
import { estimateTokens, TokenCountCache } from './tokenCount';

export class ChatBackend {
  private dispatcher: { network: string; value: Dispatcher } | undefined;
  private readonly counts = new TokenCountCache();

  constructor(
    private readonly runtime: PoolRuntime,
    private readonly log: Logger,
    /** This window's usage ledger while it serves the proxy: chat requests are counted there too (protocol `vscode-chat`). */
    private readonly usage: () => UsageLedger | undefined = () => undefined,
  ) {}

  /**
   * The models to list: `upstream.models` the chat can serve; none while the pool holds no account
   * (or the settings do not load). Accounts that are all disabled or turned off keep the models
   * listed, so a request gets the sentence that says which command heals them (README: choices).
   * Reads only; never prompts.
   */
  models(): ChatModelInfo[] {
    const services = this.runtime.current;
    if (!services || services.pool.availability().total === 0) return [];
    return chatModels(services.config.upstream.models, services.config.upstream.kind);
  }

  /** A key that changes when the listed models would: the runtime's change event fires far more often. */
  modelsKey(): string {
    return JSON.stringify(this.models().map((m) => m.id));
  }

  /** One chat request, its answer reported part by part as it arrives. Rejects with what forward() and the codecs throw. */
  async respond(model: string, messages: readonly ChatInputMessage[], options: ChatRequestOptions, report: (part: ChatResponsePart) => void, signal: AbortSignal): Promise<void> {
    const services = this.runtime.require();
    const family = this.family(model, services.config);
    const request = toConversation(model, messages, options);
    const { op, body, decoder } = upstreamConversation(request, family, this.log);
    const sink = new ChatAnswerSink(decoder(true), report, { thinking: options.thinking });
    await this.forward(services, { op, body }, sink, signal, model);
  }

  /**
   * Tokens in `input` for `model`: Gemini's countTokens or Claude's count_tokens through the pool,
   * cached per model and text; when no account can count it (or the caller gave up), the estimate.
   */
  async countTokens(model: string, input: string | ChatInputMessage, signal: AbortSignal): Promise<number> {
    const messages = typeof input === 'string' ? [{ role: 'user' as const, parts: [{ kind: 'text' as const, value: input }] }] : [input];
    const key = `${model}\n${JSON.stringify(messages, (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))}`;
    const cached = this.counts.get(key);
    if (cached !== undefined) return cached;
    const request = toConversation(model, messages, { tools: [], toolMode: 'auto', modelOptions: {}, thinking: false });
    try {
      const services = this.runtime.require();
      const family = this.family(model, services.config);
      const sink = new JsonAnswerSink();
      if (family === 'anthropic') {
        const { messages: turns, system, tools } = toAnthropicRequest({ ...request, stream: false });
        const body = { model, messages: turns, ...(system ? { system } : {}), ...(tools ? { tools } : {}) };
        await this.forward(services, { op: { api: 'anthropic-count-tokens', model, stream: false }, body }, sink, signal);
        const tokens = (sink.result as { input_tokens?: unknown } | null)?.input_tokens;
        if (typeof tokens !== 'number') throw new Error('count_tokens answered without input_tokens');
        return this.counts.set(key, tokens);
      }
      const body = toGeminiCountTokensRequest({ ...request, stream: false }, services.config.upstream.kind);
      await this.forward(services, { op: { api: 'gemini', model, method: 'countTokens', stream: false }, body }, sink, signal);
      return this.counts.set(key, countTokensFromGemini(sink.result));
    } catch (err) {
      if (!(err instanceof CancelledError)) this.log.debug(`[chat] counting tokens for ${model} failed, estimating: ${(err as Error).message}`);
      return estimateTokens(request);
    }
  }

  dispose(): void {
    void this.dispatcher?.value.destroy().catch(() => undefined);
    this.dispatcher = undefined;
  }

  private family(model: string, config: Config): 'gemini' | 'anthropic' {
    if (!chatServes(model, config.upstream.kind)) throw new Error(`${model} is not offered in the chat on the ${config.upstream.kind} upstream`);
    return modelFamily(model) === 'anthropic' ? 'anthropic' : 'gemini';
  }

  /** `recordAs`: the model the chat asked for, when the request is to be counted (token counts are not). */
  private forward(services: Services, call: ForwardCall, sink: AnswerSink, signal: AbortSignal, recordAs?: string): Promise<void> {
    const deps: ForwardDeps = {
      config: services.config,
      pool: services.pool,
      log: this.log,
      dispatcher: this.dispatcherFor(services.config),
      upstream: createUpstream(services.config.upstream),
      usage: recordAs === undefined ? undefined : this.usage(),
    };
    const clientSignal = new ClientSignal();
    if (signal.aborted) clientSignal.abort();
    else signal.addEventListener('abort', () => clientSignal.abort(), { once: true });
    const client = recordAs === undefined ? undefined : { protocol: 'vscode-chat' as const, model: recordAs };
    return forward(deps, { headers: {}, body: call.body ?? {}, sink, signal: clientSignal, client }, call);
  }

  /** One outbound connection pool for the chat, replaced when the network settings change. */
  private dispatcherFor(config: Config): Dispatcher {
    const network = JSON.stringify(config.network);
    if (this.dispatcher?.network !== network) {
      void this.dispatcher?.value.close().catch(() => undefined);
      this.dispatcher = { network, value: createDispatcher(config.network) };
    }
    return this.dispatcher.value;
  }
}
