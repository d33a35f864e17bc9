/**
 * Anthropic-defined tools (`bash_*`, `text_editor_*`, `memory_*`) on models other than Claude: the
 * client runs them, Claude knows their input by heart, and any other model needs it declared. Each
 * becomes a function with the input Anthropic documents (the `@anthropic-ai/sdk` memory command
 * types; the tool-use docs for bash and the text editor), under the name the client expects in
 * `tool_use` blocks. Anthropic's server tools, which its own service runs, have no counterpart.
 * Pure.
 */
type Json = Record<string, unknown>;

export interface DefinedTool {
  name: string;
  description: string;
  inputSchema: Json;
}

const string = (description: string): Json => ({ type: 'string', description });
const lineRange: Json = {
  type: 'array',
  items: { type: 'integer' },
  description: 'Optional, for view of a file: [first, last] line, counted from 1; -1 as last means to the end.',
};

function bash(): DefinedTool {
  return {
    name: 'bash',
    description: 'Runs a command in a persistent bash shell and returns its output. State (directory, variables) carries over between calls.',
    inputSchema: {
      type: 'object',
      properties: {
        command: string('The bash command to run. Required unless restart is true.'),
        restart: { type: 'boolean', description: 'Restart the shell instead of running a command.' },
      },
    },
  };
}

/** The text editor; versions before 2025-04-29 are called `str_replace_editor` and can undo an edit. */
function textEditor(version: string): DefinedTool {
  const canUndo = version < '20250429';
  const commands = ['view', 'create', 'str_replace', 'insert', ...(canUndo ? ['undo_edit'] : [])];
  return {
    name: canUndo ? 'str_replace_editor' : 'str_replace_based_edit_tool',
    description:
      'Views, creates and edits text files. view shows a file with line numbers or lists a directory; create writes a new file; ' +
      'str_replace replaces old_str, which must occur exactly once, with new_str; insert puts new_str after line insert_line (0 for the start)' +
      (canUndo ? '; undo_edit reverts the last edit of the file.' : '.'),
    inputSchema: {
      type: 'object',
      properties: {
        command: { type: 'string', enum: commands, description: 'What to do.' },
        path: string('Absolute path of the file or directory.'),
        file_text: string('For create: the content of the new file.'),
        old_str: string('For str_replace: the exact text to replace, whitespace included.'),
        new_str: string('For str_replace: the replacement. For insert: the text to insert.'),
        insert_line: { type: 'integer', description: 'For insert: the line after which new_str goes (0 for the start of the file).' },
        view_range: lineRange,
      },
      required: ['command', 'path'],
    },
  };
}

function memory(): DefinedTool {
  return {
    name: 'memory',
    description:
      'Reads and writes files in the /memories directory, which lasts across conversations: view, create, str_replace, insert ' +
      '(insert_text after line insert_line), delete, and rename (old_path to new_path).',
    inputSchema: {
      type: 'object',
      properties: {
        command: { type: 'string', enum: ['view', 'create', 'str_replace', 'insert', 'delete', 'rename'], description: 'What to do.' },
        path: string('The file or directory, under /memories (every command but rename).'),
        file_text: string('For create: the content of the file.'),
        old_str: string('For str_replace: the exact text to replace.'),
        new_str: string('For str_replace: the replacement.'),
        insert_line: { type: 'integer', description: 'For insert: the line after which insert_text goes.' },
        insert_text: string('For insert: the text to insert.'),
        view_range: lineRange,
        old_path: string('For rename: the current path.'),
        new_path: string('For rename: the new path.'),
      },
      required: ['command'],
    },
  };
}

/** The function an Anthropic-defined client tool becomes, by its `type` (`bash_20250124`, …); undefined when it is not one. */
export function definedTool(type: string): DefinedTool | undefined {
  const match = /^(bash|text_editor|memory)_(\d{8})$/.exec(type);
  if (!match) return undefined;
  if (match[1] === 'bash') return bash();
  if (match[1] === 'text_editor') return textEditor(match[2]);
  return memory();
}

/** Tools Anthropic's own service runs (code execution, fetching, tool search, MCP servers): nothing upstream can run them. */
export function isAnthropicServerTool(type: string): boolean {
  return /^(code_execution|web_fetch|tool_search_tool)_/.test(type) || type === 'mcp_toolset';
}
