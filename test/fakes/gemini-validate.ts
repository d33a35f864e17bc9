/**
 * What Vertex AI and the Gemini API refuse in a `generateContent` / `streamGenerateContent` /
 * `countTokens` body, with Google's messages (400 INVALID_ARGUMENT), so a codec bug fails loudly:
 * unknown field names anywhere the proto has none (JSON-parse errors, reported first and all at
 * once, paths in snake_case, map entries as `properties[i].value`), then the field rules (contents
 * and parts, one data field per part, roles, function names, arrays without items, function
 * response turns) and, for Gemini 3 models, a function-call turn sent back without its thought
 * signature. Field names are accepted in camelCase and snake_case, as Google's JSON parser does.
 */

export type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'countTokens';

export interface GeminiCheck {
  route: 'vertex-gemini' | 'gemini-api';
  method: GeminiMethod;
  model: string;
}

type Json = Record<string, unknown>;

interface Found {
  /** JSON-parse errors: the whole message is these lines. */
  parse: string[];
  /** Field rule violations, as `path: message`. */
  field: string[];
  /** Errors that are a message of their own (roles, function turns). */
  plain: string[];
}

const keys = (...names: string[]): ReadonlySet<string> => new Set(names);

const GENERATE_KEYS = keys('contents', 'tools', 'toolConfig', 'systemInstruction', 'generationConfig', 'safetySettings', 'cachedContent', 'labels', 'model');
const VERTEX_COUNT_KEYS = keys('contents', 'instances', 'model', 'systemInstruction', 'tools', 'generationConfig');
const GEMINI_API_COUNT_KEYS = keys('contents', 'generateContentRequest');
const CONTENT_KEYS = keys('role', 'parts');
const DATA_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'] as const;
const PART_KEYS = keys(...DATA_FIELDS, 'thought', 'thoughtSignature', 'videoMetadata', 'mediaResolution', 'partMetadata');
const TOOL_KEYS = keys(
  'functionDeclarations', 'googleSearch', 'googleSearchRetrieval', 'codeExecution', 'urlContext', 'retrieval', 'googleMaps',
  'enterpriseWebSearch', 'computerUse', 'fileSearch',
);
const DECLARATION_KEYS = keys('name', 'description', 'parameters', 'parametersJsonSchema', 'response', 'responseJsonSchema', 'behavior');
/** The OpenAPI subset `parameters` takes (Google's `Schema` message). */
export const SCHEMA_KEYS = keys(
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required', 'minProperties',
  'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering', 'default', 'items', 'minimum', 'maximum',
);
const SCHEMA_TYPES = keys('TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL');
const GENERATION_CONFIG_KEYS = keys(
  'temperature', 'topP', 'topK', 'candidateCount', 'maxOutputTokens', 'stopSequences', 'responseLogprobs', 'logprobs', 'presencePenalty',
  'frequencyPenalty', 'seed', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseModalities', 'mediaResolution',
  'speechConfig', 'thinkingConfig', 'routingConfig', 'audioTimestamp', 'enableAffectiveDialog', 'imageConfig', 'modelSelectionConfig',
  'enableEnhancedCivicAnswers',
);
const THINKING_CONFIG_KEYS = keys('thinkingBudget', 'includeThoughts', 'thinkingLevel');
const TOOL_CONFIG_KEYS = keys('functionCallingConfig', 'retrievalConfig');
const FUNCTION_CALLING_KEYS = keys('mode', 'allowedFunctionNames');
const FUNCTION_CALLING_MODES = keys('MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED');
const SAFETY_SETTING_KEYS = keys('category', 'threshold', 'method');
const FUNCTION_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/;

const camel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (at: string, name: string): string => (at ? `${at}.${name}` : name);

/** A field by its camelCase name, sent in either spelling. */
export function get(obj: Json, name: string): unknown {
  return obj[name] ?? obj[snake(name)];
}

/** The 400 message Google would send, or undefined when the body is accepted. */
export function validateGeminiRequest(body: unknown, check: GeminiCheck): string | undefined {
  const found: Found = { parse: [], field: [], plain: [] };
  if (!isObject(body)) return 'Invalid JSON payload received.';
  const requestName = check.method === 'countTokens' ? 'CountTokensRequest' : 'GenerateContentRequest';
  const typeName = check.route === 'vertex-gemini' ? 'type.googleapis.com/google.cloud.aiplatform.v1.Type' : 'type.googleapis.com/google.ai.generativelanguage.v1beta.Type';
  if (check.method === 'countTokens') {
    unknownKeys(body, check.route === 'vertex-gemini' ? VERTEX_COUNT_KEYS : GEMINI_API_COUNT_KEYS, '', found);
    const inner = get(body, 'generateContentRequest');
    if (isObject(inner)) unknownKeys(inner, GENERATE_KEYS, 'generate_content_request', found);
    checkGenerate(isObject(inner) ? inner : body, isObject(inner) ? 'generate_content_request' : '', found, typeName, false);
  } else {
    unknownKeys(body, GENERATE_KEYS, '', found);
    checkGenerate(body, '', found, typeName, true);
  }
  if (found.parse.length > 0) return found.parse.join('\n');
  if (found.field.length > 0) return found.field.map((f) => `* ${requestName}.${f}\n`).join('');
  if (found.plain.length > 0) return found.plain[0];
  if (check.method !== 'countTokens' && check.model.startsWith('gemini-3')) return missingSignature(get(body, 'contents'));
  return undefined;
}

function unknownKeys(obj: Json, known: ReadonlySet<string>, at: string, found: Found): void {
  for (const key of Object.keys(obj)) {
    if (known.has(camel(key))) continue;
    found.parse.push(at ? `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.` : `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`);
  }
}

/** A repeated field that is present must be a list; returns it, or [] after noting the error. */
function list(value: unknown, at: string, found: Found): unknown[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  found.parse.push(`Invalid value at '${at}' (repeated), ${JSON.stringify(value)}`);
  return [];
}

/** A message field that is present must be an object. */
function message(value: unknown, at: string, found: Found): Json | undefined {
  if (value === undefined) return undefined;
  if (isObject(value)) return value;
  found.parse.push(`Invalid value at '${at}' (message), ${JSON.stringify(value)}`);
  return undefined;
}

function checkGenerate(body: Json, prefix: string, found: Found, typeName: string, generate: boolean): void {
  const contents = list(get(body, 'contents'), join(prefix, 'contents'), found);
  if (generate && contents.length === 0) found.field.push(`${join(prefix, 'contents')}: contents is not specified`);
  contents.forEach((content, i) => checkContent(content, join(prefix, `contents[${i}]`), found));
  if (generate) checkFunctionTurns(contents, found);
  const system = message(get(body, 'systemInstruction'), join(prefix, 'system_instruction'), found);
  if (system) checkSystem(system, join(prefix, 'system_instruction'), found);
  list(get(body, 'tools'), join(prefix, 'tools'), found).forEach((tool, i) => checkTool(tool, join(prefix, `tools[${i}]`), found, typeName));
  const toolConfig = message(get(body, 'toolConfig'), join(prefix, 'tool_config'), found);
  if (toolConfig) checkToolConfig(toolConfig, join(prefix, 'tool_config'), found);
  const config = message(get(body, 'generationConfig'), join(prefix, 'generation_config'), found);
  if (config) {
    unknownKeys(config, GENERATION_CONFIG_KEYS, join(prefix, 'generation_config'), found);
    const thinking = message(get(config, 'thinkingConfig'), join(prefix, 'generation_config.thinking_config'), found);
    if (thinking) unknownKeys(thinking, THINKING_CONFIG_KEYS, join(prefix, 'generation_config.thinking_config'), found);
  }
  list(get(body, 'safetySettings'), join(prefix, 'safety_settings'), found).forEach((s, i) => {
    if (isObject(s)) unknownKeys(s, SAFETY_SETTING_KEYS, join(prefix, `safety_settings[${i}]`), found);
  });
}

function checkContent(content: unknown, at: string, found: Found): void {
  if (!isObject(content)) {
    found.parse.push(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${JSON.stringify(content)}`);
    return;
  }
  unknownKeys(content, CONTENT_KEYS, at, found);
  const role = content.role;
  if (role !== undefined && role !== '' && role !== 'user' && role !== 'model') found.plain.push('Please use a valid role: user, model.');
  const parts = list(content.parts, `${at}.parts`, found);
  if (parts.length === 0) found.field.push(`${at}.parts: contents.parts must not be empty.`);
  parts.forEach((part, j) => checkPart(part, `${at}.parts[${j}]`, found));
}

function checkPart(part: unknown, at: string, found: Found): void {
  if (!isObject(part)) {
    found.parse.push(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part), ${JSON.stringify(part)}`);
    return;
  }
  unknownKeys(part, PART_KEYS, at, found);
  const signed = typeof get(part, 'thoughtSignature') === 'string';
  const data = DATA_FIELDS.filter((f) => {
    const value = get(part, f);
    return value !== undefined && value !== null && !(f === 'text' && value === '' && !signed);
  });
  if (data.length === 0) found.field.push(`${at}.data: required oneof field 'data' must have one initialized field`);
  if (data.length > 1) found.parse.push(`Invalid value at '${at}.data' (oneof), oneof field 'data' is already set. Cannot overwrite with '${snake(data[1])}'`);
  const call = get(part, 'functionCall');
  if (call !== undefined && !(isObject(call) && typeof call.name === 'string' && call.name)) found.field.push(`${at}.function_call.name: missing field.`);
  const response = get(part, 'functionResponse');
  if (response !== undefined) {
    if (!(isObject(response) && typeof response.name === 'string' && response.name)) found.field.push(`${at}.function_response.name: missing field.`);
    const value = isObject(response) ? response.response : undefined;
    if (value !== undefined && !isObject(value)) {
      found.parse.push(`Invalid value at '${at}.function_response.response' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(value)}`);
    }
  }
}

function checkSystem(system: Json, at: string, found: Found): void {
  unknownKeys(system, CONTENT_KEYS, at, found);
  const parts = list(system.parts, `${at}.parts`, found);
  parts.forEach((part, j) => {
    checkPart(part, `${at}.parts[${j}]`, found);
    if (isObject(part) && DATA_FIELDS.some((f) => f !== 'text' && get(part, f) !== undefined)) {
      found.field.push(`${at}.parts[${j}]: system_instruction parts must be text.`);
    }
  });
}

function checkTool(tool: unknown, at: string, found: Found, typeName: string): void {
  if (!isObject(tool)) return void found.parse.push(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Tool), ${JSON.stringify(tool)}`);
  unknownKeys(tool, TOOL_KEYS, at, found);
  list(get(tool, 'functionDeclarations'), `${at}.function_declarations`, found).forEach((declaration, i) => {
    const here = `${at}.function_declarations[${i}]`;
    if (!isObject(declaration)) return;
    unknownKeys(declaration, DECLARATION_KEYS, here, found);
    if (typeof declaration.name !== 'string' || !FUNCTION_NAME.test(declaration.name)) {
      found.field.push(
        `${here}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.`,
      );
    }
    const parameters = declaration.parameters;
    const jsonSchema = get(declaration, 'parametersJsonSchema');
    if (parameters !== undefined) checkSchema(parameters, `${here}.parameters`, `${here}.parameters`, found, typeName);
    if (jsonSchema !== undefined && !isObject(jsonSchema)) {
      found.parse.push(`Invalid value at '${here}.parameters_json_schema' (type.googleapis.com/google.protobuf.Value), ${JSON.stringify(jsonSchema)}`);
    }
    if (parameters !== undefined && jsonSchema !== undefined) {
      found.field.push(`${here}.parameters_json_schema: parameters_json_schema and parameters cannot both be set.`);
    }
  });
}

/**
 * Google's `Schema`: only the OpenAPI subset. JSON-parse paths index map entries
 * (`properties[2].value`); field-rule paths name them (`properties[city]`), as Google's do.
 */
function checkSchema(schema: unknown, at: string, named: string, found: Found, typeName: string): void {
  if (!isObject(schema)) return void found.parse.push(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Schema), ${JSON.stringify(schema)}`);
  unknownKeys(schema, SCHEMA_KEYS, at, found);
  const type = schema.type;
  if (Array.isArray(type)) found.parse.push(`Invalid JSON payload received. Unknown name "type" at '${at}': Proto field is not repeating, cannot start list.`);
  else if (type !== undefined && (typeof type !== 'string' || !SCHEMA_TYPES.has(type.toUpperCase()))) {
    found.parse.push(`Invalid value at '${at}.type' (${typeName}), ${JSON.stringify(type)}`);
  }
  for (const field of ['enum', 'required', 'propertyOrdering']) {
    list(get(schema, field), `${at}.${snake(field)}`, found).forEach((v, i) => {
      if (typeof v !== 'string') found.parse.push(`Invalid value at '${at}.${snake(field)}[${i}]' (TYPE_STRING), ${JSON.stringify(v)}`);
    });
  }
  const properties = schema.properties;
  if (properties !== undefined) {
    if (!isObject(properties)) found.parse.push(`Invalid value at '${at}.properties' (map), ${JSON.stringify(properties)}`);
    else Object.entries(properties).forEach(([name, sub], i) => checkSchema(sub, `${at}.properties[${i}].value`, `${named}.properties[${name}]`, found, typeName));
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${at}.items`, `${named}.items`, found, typeName);
  else if (typeof type === 'string' && type.toUpperCase() === 'ARRAY') found.field.push(`${named}.items: missing field.`);
  list(get(schema, 'anyOf'), `${at}.any_of`, found).forEach((sub, i) => checkSchema(sub, `${at}.any_of[${i}]`, `${named}.any_of[${i}]`, found, typeName));
}

function checkToolConfig(config: Json, at: string, found: Found): void {
  unknownKeys(config, TOOL_CONFIG_KEYS, at, found);
  const calling = message(get(config, 'functionCallingConfig'), `${at}.function_calling_config`, found);
  if (!calling) return;
  unknownKeys(calling, FUNCTION_CALLING_KEYS, `${at}.function_calling_config`, found);
  if (calling.mode !== undefined && !(typeof calling.mode === 'string' && FUNCTION_CALLING_MODES.has(calling.mode))) {
    found.parse.push(`Invalid value at '${at}.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), ${JSON.stringify(calling.mode)}`);
  }
}

const partsOf = (content: unknown): Json[] =>
  isObject(content) && Array.isArray(content.parts) ? (content.parts as unknown[]).filter(isObject) : [];
const countOf = (content: unknown, field: string): number => partsOf(content).filter((p) => get(p, field) !== undefined).length;

/** A function response turn answers the function call turn right before it, one response per call. */
function checkFunctionTurns(contents: unknown[], found: Found): void {
  contents.forEach((content, i) => {
    const responses = countOf(content, 'functionResponse');
    if (responses === 0) return;
    const calls = i > 0 ? countOf(contents[i - 1], 'functionCall') : 0;
    if (calls === 0) found.plain.push('Please ensure that function response turn comes immediately after a function call turn.');
    else if (calls !== responses) {
      found.plain.push('Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.');
    }
  });
}

/** Gemini 3: the first functionCall part of each model turn must carry the thoughtSignature it came with. */
function missingSignature(contents: unknown): string | undefined {
  if (!Array.isArray(contents)) return undefined;
  for (const [i, content] of contents.entries()) {
    if (!isObject(content) || content.role !== 'model') continue;
    const first = partsOf(content).find((p) => get(p, 'functionCall') !== undefined);
    if (!first || typeof get(first, 'thoughtSignature') === 'string') continue;
    const name = String((get(first, 'functionCall') as Json).name);
    return (
      'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing ' +
      `thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${name}\` , position ${i + 1}. ` +
      'Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.'
    );
  }
  return undefined;
}
