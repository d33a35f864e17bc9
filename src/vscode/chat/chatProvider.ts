/**
 * The pool as a Language Model Chat Provider (DESIGN section 12): vendor `tokenpool`, its models
 * in the chat's model picker and to every extension through `vscode.lm`. The work is ChatBackend's;
 * this file speaks VS Code's API: parts, cancellation, LanguageModelError, the change event.
 */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { UsageLedger } from '../../core/usage/ledger';
import { CHAT_VENDOR } from '../ids';
import type { PoolRuntime } from '../runtime';
import { ChatBackend } from './backend';
import { fromHostMessage, hostHasThinkingPart, toHostPart } from './chatHost';
import { chatFailure } from './errors';
import type { ChatModelInfo } from './modelTable';

export class TokenpoolChatProvider implements vscode.LanguageModelChatProvider<ChatModelInfo>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  private readonly backend: ChatBackend;
  private readonly subscription: { dispose(): void };
  private listed: string;

  constructor(
    private readonly runtime: PoolRuntime,
    private readonly log: Logger,
    usage: () => UsageLedger | undefined,
  ) {
    this.backend = new ChatBackend(runtime, log, usage);
    this.listed = this.backend.modelsKey();
    this.subscription = runtime.onDidChange(() => {
      const key = this.backend.modelsKey();
      if (key === this.listed) return;
      this.listed = key;
      this.changed.fire();
    });
  }

  provideLanguageModelChatInformation(): ChatModelInfo[] {
    // Silent or not, nothing here prompts: with no usable account the list is empty.
    return this.backend.models();
  }

  async provideLanguageModelChatResponse(
    model: ChatModelInfo,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    if (token.isCancellationRequested) abort.abort();
    const started = Date.now();
    try {
      const request = {
        tools: (options.tools ?? []).map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema })),
        toolMode: options.toolMode === vscode.LanguageModelChatToolMode.Required ? ('required' as const) : ('auto' as const),
        modelOptions: options.modelOptions ?? {},
        thinking: hostHasThinkingPart,
      };
      await this.backend.respond(model.id, messages.map(fromHostMessage), request, (part) => {
        const hostPart = toHostPart(part);
        if (hostPart) progress.report(hostPart);
      }, abort.signal);
      this.log.debug(`[chat] ${model.id} answered in ${Date.now() - started} ms`);
    } catch (err) {
      throw this.hostError(err, model.id, token);
    } finally {
      cancel.dispose();
    }
  }

  async provideTokenCount(model: ChatModelInfo, text: string | vscode.LanguageModelChatRequestMessage, token: vscode.CancellationToken): Promise<number> {
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    try {
      return await this.backend.countTokens(model.id, typeof text === 'string' ? text : fromHostMessage(text), abort.signal);
    } finally {
      cancel.dispose();
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
    this.backend.dispose();
  }

  /** The error the chat shows: one sentence, a LanguageModelError where one fits; a cancel stays a cancel. */
  private hostError(err: unknown, model: string, token: vscode.CancellationToken): Error {
    const services = this.runtime.current;
    const failure = chatFailure(err, model, () => services?.pool.availability(model) ?? emptyAvailability, (unixS) => new Date(unixS * 1000).toLocaleTimeString());
    if (!failure || token.isCancellationRequested) return new vscode.CancellationError();
    this.log.warn(`[chat] ${model}: ${failure.message}`);
    return failure.code ? vscode.LanguageModelError[failure.code](failure.message) : new Error(failure.message);
  }
}

const emptyAvailability = { total: 0, healthy: 0, cooling: 0, proxy_disabled: 0, disabled: 0, eligibleForModel: 0, limited: 0, earliestCooldownEnd: null };

/**
 * Registers the provider under the vendor package.json contributes. `proxy`: this window's proxy,
 * whose usage ledger counts the chat's requests while it serves.
 */
export function registerChatProvider(runtime: PoolRuntime, proxy: { readonly usage: UsageLedger | undefined }, log: Logger): vscode.Disposable {
  const provider = new TokenpoolChatProvider(runtime, log, () => proxy.usage);
  return vscode.Disposable.from(vscode.lm.registerLanguageModelChatProvider(CHAT_VENDOR, provider), provider);
}
