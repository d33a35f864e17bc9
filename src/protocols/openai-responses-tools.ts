/**
 * OpenAI Responses `tools` and `tool_choice` to the neutral model (DESIGN section 10), with the
 * table that takes a neutral tool name back to the client's (name, namespace, freeform) for the
 * answer. Field names follow the `openai` package's `Tool` and `ToolChoice*` types. Pure.
 */
import { UntranslatableError, type FunctionTool, type Tool, type ToolChoice } from './conversation';
import type { ResponsesToolName } from './openai-responses-items';

type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
export const typeOf = (value: unknown): string => (isRecord(value) && typeof value.type === 'string' ? value.type : typeof value);
export const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Hosted tool types that become the neutral hosted web search. */
const WEB_SEARCH_TYPES = new Set(['web_search', 'web_search_2025_08_26', 'web_search_preview', 'web_search_preview_2025_03_11']);

/** The declared tools, neutral, with the way back from a neutral name to the client's. */
export interface ToolTable {
  declared: Tool[];
  /** Neutral name -> (name, namespace, freeform), for the answer. */
  names: Map<string, ResponsesToolName>;
  /** The neutral name of a tool the client names as (namespace, name). */
  neutralName(name: string, namespace?: string): string;
}

const tableKey = (name: string, namespace?: string) => `${namespace ?? ''}\u0000${name}`;

/** The flat name Codex itself uses when a namespace split cannot be kept (`ns__name`). */
const flatName = (namespace: string, name: string) => `${namespace.replace(/_+$/, '')}__${name.replace(/^_+/, '')}`;

/**
 * `tools` as neutral tools. `function` tools keep their JSON Schema; `custom` (freeform) tools
 * become functions with one string parameter `input` (the model fills it; the answer then calls
 * the tool with that text as `custom_tool_call`); a `namespace` tool (Codex's MCP servers and
 * agent tools) gives its nested tools under their plain names, which the answer calls back with
 * `namespace` set as Codex routes them, or as `namespace__name` when the plain name is taken twice;
 * web search becomes the neutral hosted web search; other hosted tools are left out with a note.
 */
export function fromTools(value: unknown, notes: string[]): ToolTable {
  /** The declared tools in the client's order: a function or custom tool (maybe in a namespace), or a hosted search. */
  const entries: ({ tool: Json; namespace?: string; path: string } | { hosted: string })[] = [];
  const list = Array.isArray(value) ? value : [];
  list.forEach((tool, i) => {
    const type = typeOf(tool);
    if (!isRecord(tool)) throw new UntranslatableError(`tools[${i}]`, 'must be a tool object');
    if (type === 'function' || type === 'custom') entries.push({ tool, path: `tools[${i}]` });
    else if (type === 'namespace' && typeof tool.name === 'string' && Array.isArray(tool.tools)) {
      tool.tools.forEach((nested, j) => {
        const path = `tools[${i}].tools[${j}]`;
        if (isRecord(nested) && (nested.type === 'function' || nested.type === 'custom')) entries.push({ tool: nested, namespace: tool.name as string, path });
        else notes.push(`${path} (${typeOf(nested)}): not a function or custom tool, left out`);
      });
    } else if (WEB_SEARCH_TYPES.has(type)) entries.push({ hosted: type });
    else notes.push(`tools[${i}] (${type}): a hosted OpenAI tool tokenpool cannot run, left out`);
  });

  const uses = new Map<string, number>();
  for (const entry of entries) if ('tool' in entry) uses.set(String(entry.tool.name), (uses.get(String(entry.tool.name)) ?? 0) + 1);
  const declared: Tool[] = [];
  const names = new Map<string, ResponsesToolName>();
  const byClientName = new Map<string, string>();
  for (const entry of entries) {
    if ('hosted' in entry) {
      declared.push({ type: 'hosted', kind: 'web_search', name: entry.hosted });
      continue;
    }
    const { tool, namespace, path } = entry;
    if (typeof tool.name !== 'string' || !tool.name) throw new UntranslatableError(`${path}.name`, 'must be a non-empty string');
    const neutral = namespace !== undefined && uses.get(tool.name)! > 1 ? flatName(namespace, tool.name) : tool.name;
    const freeform = tool.type === 'custom';
    names.set(neutral, { name: tool.name, ...(namespace === undefined ? {} : { namespace }), freeform });
    byClientName.set(tableKey(tool.name, namespace), neutral);
    declared.push(freeform ? freeformTool(neutral, tool) : functionTool(neutral, tool));
  }
  return {
    declared,
    names,
    neutralName: (name, namespace) =>
      byClientName.get(tableKey(name, namespace)) ?? byClientName.get(tableKey(name)) ?? (namespace ? flatName(namespace, name) : name),
  };
}

function functionTool(name: string, tool: Json): FunctionTool {
  const schema = isRecord(tool.parameters) ? tool.parameters : { type: 'object', properties: {} };
  return { type: 'function', name, ...(typeof tool.description === 'string' ? { description: tool.description } : {}), inputSchema: schema };
}

/**
 * A `custom` tool as a function of one string `input`. Its grammar (Codex's `apply_patch` sends a
 * Lark grammar) is kept in `freeform.grammar` and told to the model in the parameter's description.
 */
function freeformTool(name: string, tool: Json): FunctionTool {
  const format = isRecord(tool.format) ? tool.format : undefined;
  let input = 'The raw input for this tool, as plain text (not JSON).';
  if (format?.type === 'grammar' && typeof format.definition === 'string') {
    input += ` It must follow this ${String(format.syntax ?? '')} grammar:\n${format.definition}`;
  }
  return {
    type: 'function',
    name,
    ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
    inputSchema: { type: 'object', properties: { input: { type: 'string', description: input } }, required: ['input'] },
    freeform: format === undefined ? {} : { grammar: format },
  };
}

/** `tool_choice`, and for `allowed_tools` the neutral names of the tools it allows. */
export function fromToolChoice(value: unknown, tools: ToolTable): { choice?: ToolChoice; allowed?: Set<string> } {
  if (value === undefined || value === null) return {};
  if (value === 'auto' || value === 'none' || value === 'required') return { choice: { type: value } };
  const type = typeOf(value);
  if (!isRecord(value)) throw new UntranslatableError('tool_choice', 'must be auto, none, required or a tool');
  const declared = (name: string): string => {
    if (!tools.declared.some((tool) => tool.name === name)) throw new UntranslatableError('tool_choice', `names ${name}, which is not in tools`);
    return name;
  };
  if ((type === 'function' || type === 'custom') && typeof value.name === 'string') {
    return { choice: { type: 'tool', name: declared(tools.neutralName(value.name, stringOf(value.namespace))) } };
  }
  if (WEB_SEARCH_TYPES.has(type)) {
    const hosted = tools.declared.find((tool) => tool.type === 'hosted' && tool.kind === 'web_search');
    return { choice: { type: 'tool', name: declared(hosted?.name ?? type) } };
  }
  if (type === 'allowed_tools' && Array.isArray(value.tools)) {
    const allowed = new Set<string>();
    for (const tool of value.tools) {
      const toolType = typeOf(tool);
      if (isRecord(tool) && typeof tool.name === 'string') allowed.add(tools.neutralName(tool.name, stringOf(tool.namespace)));
      else if (WEB_SEARCH_TYPES.has(toolType)) tools.declared.forEach((t) => t.type === 'hosted' && allowed.add(t.name));
    }
    return { choice: { type: value.mode === 'required' ? 'required' : 'auto' }, allowed };
  }
  throw new UntranslatableError('tool_choice', `requires the hosted tool ${type}, which tokenpool cannot run`);
}

