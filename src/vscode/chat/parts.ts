/**
 * VS Code's chat messages and answer parts as plain shapes (DESIGN section 12), so the mapping to
 * and from the neutral conversation is pure and tested without `vscode`. chatHost.ts turns the
 * host's class instances into these shapes and back.
 */
import type { Usage } from '../../protocols/conversation';

/** A part of a message VS Code sends to the provider. */
export type ChatInputPart =
  | { kind: 'text'; value: string }
  /** A model's thinking from an earlier turn (only where the host has thinking parts). */
  | { kind: 'thinking'; value: string; id?: string; metadata?: ThinkingMetadata }
  | { kind: 'tool-call'; callId: string; name: string; input: unknown }
  | { kind: 'tool-result'; callId: string; content: ChatInputPart[]; isError?: boolean }
  /** Bytes with a MIME type: an image, or JSON or text data. */
  | { kind: 'data'; mimeType: string; data: Uint8Array }
  /** A `@vscode/prompt-tsx` element tree (tool results use them). */
  | { kind: 'prompt-tsx'; value: unknown }
  /** A part this version does not know. */
  | { kind: 'unknown'; description: string };

/** What rides in a thinking part's metadata: the signature (Gemini's thoughtSignature, Claude's) or redacted thinking. */
export interface ThinkingMetadata {
  signature?: string;
  redacted?: string;
}

export type ChatRole = 'user' | 'assistant' | 'system';

export interface ChatInputMessage {
  role: ChatRole;
  parts: ChatInputPart[];
}

export interface ChatTool {
  name: string;
  description: string;
  inputSchema?: object;
}

export interface ChatRequestOptions {
  tools: readonly ChatTool[];
  toolMode: 'auto' | 'required';
  /** Model options the caller passed (`temperature`, `topP`, `maxOutputTokens`, `stop`, `reasoningEffort`). */
  modelOptions: Readonly<Record<string, unknown>>;
  /** Whether the running VS Code has a thinking part: thoughts are asked for and reported only then. */
  thinking: boolean;
}

/** A part the provider reports to the chat's progress. */
export type ChatResponsePart =
  | { kind: 'text'; value: string }
  | { kind: 'thinking'; value: string; id: string; metadata?: ThinkingMetadata }
  /** A complete tool call: `input` is the parsed JSON object (`{}` when the model gave none). */
  | { kind: 'tool-call'; callId: string; name: string; input: Record<string, unknown> }
  | { kind: 'usage'; usage: Usage };

/** The MIME type of the data part that carries an answer's token usage (`LanguageModelDataPart.json`). */
export const USAGE_MIME_TYPE = 'application/vnd.tokenpool.usage+json';
