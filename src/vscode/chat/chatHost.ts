/**
 * The running VS Code's chat parts as parts.ts's plain shapes and back. Data parts (finalized after 1.104)
 * and thinking parts (a proposed API the host exports without asking for it) are feature-detected:
 * where the host has no such class, such parts are neither read nor reported.
 */
import * as vscode from 'vscode';
import type { ChatInputMessage, ChatInputPart, ChatResponsePart, ThinkingMetadata } from './parts';
import { USAGE_MIME_TYPE } from './parts';

interface DataPartClass {
  new (data: Uint8Array, mimeType: string): { mimeType: string; data: Uint8Array };
  json(value: unknown, mime?: string): unknown;
}
interface ThinkingPartClass {
  new (value: string | string[], id?: string, metadata?: { readonly [key: string]: unknown }): { value: string | string[]; id?: string; metadata?: { readonly [key: string]: unknown } };
}

const api = vscode as unknown as { LanguageModelDataPart?: DataPartClass; LanguageModelThinkingPart?: ThinkingPartClass };
const DataPart = api.LanguageModelDataPart;
const ThinkingPart = api.LanguageModelThinkingPart;

/** Whether thinking can be reported to this VS Code. */
export const hostHasThinkingPart = ThinkingPart !== undefined;

export function fromHostMessage(message: vscode.LanguageModelChatRequestMessage): ChatInputMessage {
  // 3 is the system role some hosts send (proposed `LanguageModelChatMessageRole.System`).
  const role = message.role === vscode.LanguageModelChatMessageRole.Assistant ? 'assistant' : (message.role as number) === 3 ? 'system' : 'user';
  return { role, parts: message.content.map(fromHostPart) };
}

export function fromHostPart(part: unknown): ChatInputPart {
  if (part instanceof vscode.LanguageModelTextPart) return { kind: 'text', value: part.value };
  if (part instanceof vscode.LanguageModelToolCallPart) return { kind: 'tool-call', callId: part.callId, name: part.name, input: part.input };
  if (part instanceof vscode.LanguageModelToolResultPart) {
    const isError = (part as { isError?: unknown }).isError === true;
    return { kind: 'tool-result', callId: part.callId, content: part.content.map(fromHostPart), ...(isError ? { isError } : {}) };
  }
  if (part instanceof vscode.LanguageModelPromptTsxPart) return { kind: 'prompt-tsx', value: part.value };
  if (DataPart && part instanceof DataPart) return { kind: 'data', mimeType: part.mimeType, data: part.data };
  if (ThinkingPart && part instanceof ThinkingPart) {
    const value = Array.isArray(part.value) ? part.value.join('') : part.value;
    return { kind: 'thinking', value, ...(part.id ? { id: part.id } : {}), ...(part.metadata ? { metadata: thinkingMetadata(part.metadata) } : {}) };
  }
  if (typeof part === 'string') return { kind: 'text', value: part };
  return { kind: 'unknown', description: describe(part) };
}

/** The host's part for a reported one; undefined when this VS Code has no such part (thinking, usage). */
export function toHostPart(part: ChatResponsePart): vscode.LanguageModelResponsePart | undefined {
  switch (part.kind) {
    case 'text':
      return new vscode.LanguageModelTextPart(part.value);
    case 'tool-call':
      return new vscode.LanguageModelToolCallPart(part.callId, part.name, part.input);
    case 'thinking':
      return ThinkingPart ? (new ThinkingPart(part.value, part.id, part.metadata ? { ...part.metadata } : undefined) as unknown as vscode.LanguageModelResponsePart) : undefined;
    case 'usage':
      return DataPart ? (DataPart.json(part.usage, USAGE_MIME_TYPE) as vscode.LanguageModelResponsePart) : undefined;
  }
}

function thinkingMetadata(metadata: { readonly [key: string]: unknown }): ThinkingMetadata {
  return {
    ...(typeof metadata.signature === 'string' ? { signature: metadata.signature } : {}),
    ...(typeof metadata.redacted === 'string' ? { redacted: metadata.redacted } : {}),
  };
}

const describe = (part: unknown): string => {
  if (part === null || typeof part !== 'object') return typeof part;
  return `${part.constructor?.name ?? 'object'} {${Object.keys(part).join(', ')}}`;
};
