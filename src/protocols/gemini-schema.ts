/**
 * JSON Schema as clients write it (Claude Code's 2020-12 schemas, OpenAI strict schemas, Pydantic and
 * Zod output) reduced to the OpenAPI subset that Gemini's `FunctionDeclaration.parameters` and
 * `responseSchema` accept. Gemini answers 400 for any other keyword (`Unknown name
 * "additionalProperties" ... Cannot find field`), so what has a counterpart is rewritten and the rest
 * is left out. Pure.
 */

type Schema = Record<string, unknown>;

/** Keywords copied as they are (besides the ones rewritten below). */
const KEPT = ['title', 'description', 'default', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'minProperties', 'maxProperties', 'minimum', 'maximum', 'propertyOrdering'];

/** Formats Gemini knows, by type; others are left out. */
const FORMATS: Record<string, string[]> = {
  string: ['enum', 'date-time'],
  number: ['float', 'double', 'int32', 'int64'],
  integer: ['float', 'double', 'int32', 'int64'],
};

/** A `$ref` seen again inside its own expansion (a recursive type) stops here. */
const RECURSION_STOP: Schema = { type: 'object' };

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reduces a JSON Schema to the subset Gemini's `parameters` accepts (see the module comment). */
export function reduceSchema(schema: Schema): Schema {
  return reduce(schema, schema, new Set());
}

function reduce(node: unknown, root: Schema, expanding: Set<string>): Schema {
  if (!isSchema(node)) return {};
  if (typeof node.$ref === 'string') return reduceRef(node, root, expanding);

  const out: Schema = {};
  for (const key of KEPT) if (node[key] !== undefined) out[key] = node[key];
  if (Array.isArray(node.examples) && node.examples.length > 0) out.example = node.examples[0];
  else if (node.example !== undefined) out.example = node.example;

  applyType(node, out);
  applyEnum(node, out);
  applyExclusiveBounds(node, out);

  if (isSchema(node.properties)) {
    const properties: Schema = {};
    for (const [name, value] of Object.entries(node.properties)) properties[name] = reduce(value, root, expanding);
    if (Object.keys(properties).length > 0) out.properties = properties;
    out.type ??= 'object';
  }
  if (Array.isArray(node.required)) out.required = node.required.filter((name): name is string => typeof name === 'string');
  const items = itemsOf(node);
  if (items !== undefined) {
    out.items = Array.isArray(items) ? unionOf(items.map((item) => reduce(item, root, expanding))) : reduce(items, root, expanding);
    out.type ??= 'array';
  }

  const alternatives = node.anyOf ?? node.oneOf;
  if (Array.isArray(alternatives)) applyAlternatives(alternatives.map((item) => reduce(item, root, expanding)), out);
  const format = typeof node.format === 'string' ? node.format : undefined;
  if (format && typeof out.type === 'string' && FORMATS[out.type]?.includes(format)) out.format = format;
  if (!Array.isArray(node.allOf)) return withKnownRequired(out);
  // allOf: the parts merged, the node's own keywords over them.
  const merged: Schema = {};
  for (const part of node.allOf) mergeInto(merged, reduce(part, root, expanding));
  return withKnownRequired(mergeInto(merged, out));
}

/** Gemini refuses a `required` name that `properties` does not define. */
function withKnownRequired(schema: Schema): Schema {
  if (!Array.isArray(schema.required)) return schema;
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = schema.required.filter((name: string) => Object.hasOwn(properties, name));
  if (required.length > 0) schema.required = required;
  else delete schema.required;
  return schema;
}

/** `$ref` to `#/$defs/X`, `#/definitions/X` or any pointer into the root: inlined, siblings kept. */
function reduceRef(node: Schema, root: Schema, expanding: Set<string>): Schema {
  const ref = node.$ref as string;
  if (expanding.has(ref)) return { ...RECURSION_STOP, ...describedBy(node) };
  const target = resolvePointer(root, ref);
  if (!target) return describedBy(node);
  const { $ref: _ref, ...siblings } = node;
  const inner = new Set(expanding).add(ref);
  const reduced = reduce(target, root, inner);
  return Object.keys(siblings).length > 0 ? mergeInto(reduced, reduce(siblings, root, inner)) : reduced;
}

function resolvePointer(root: Schema, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    at = isSchema(at) || Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined;
  }
  return at;
}

const describedBy = (node: Schema): Schema => (typeof node.description === 'string' ? { description: node.description } : {});

/** `type: ["string", "null"]` -> `type: "string", nullable: true`; several non-null types -> `anyOf`. */
function applyType(node: Schema, out: Schema): void {
  const types = Array.isArray(node.type) ? node.type.filter((t): t is string => typeof t === 'string') : typeof node.type === 'string' ? [node.type] : [];
  const concrete = types.filter((t) => t !== 'null');
  if (concrete.length < types.length || node.nullable === true) out.nullable = true;
  if (concrete.length === 1) out.type = concrete[0];
  else if (concrete.length > 1) out.anyOf = concrete.map((type) => ({ type }));
  if (node.const !== undefined && out.type === undefined) out.type = typeOfValue(node.const);
}

/**
 * `const` -> a one-value `enum`. Gemini takes `enum` for strings only, so string values stay an enum;
 * values of other types (numbers, booleans) are named in the description instead, so the model still
 * writes a number where the tool expects one; `null` among them makes the schema nullable.
 */
function applyEnum(node: Schema, out: Schema): void {
  const values = node.const !== undefined ? [node.const] : Array.isArray(node.enum) ? node.enum : undefined;
  if (!values) return;
  const present = values.filter((value) => value !== null);
  if (present.length < values.length) out.nullable = true;
  if (present.length === 0) return;
  const kinds = new Set(present.map(typeOfValue));
  if (out.type === undefined && kinds.size === 1) out.type = [...kinds][0];
  if (present.every((value) => typeof value === 'string') && (out.type === undefined || out.type === 'string')) {
    out.type = 'string';
    out.enum = present;
    return;
  }
  if (out.type === undefined || out.type === 'string') {
    out.type = 'string';
    out.enum = present.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
    return;
  }
  const allowed = `Allowed values: ${present.map((value) => JSON.stringify(value)).join(', ')}.`;
  out.description = typeof out.description === 'string' && out.description ? `${out.description} ${allowed}` : allowed;
}

/** `exclusiveMinimum: 0` -> `minimum: 0` (`minimum: 1` for integers, the same bound); draft-4 booleans likewise. */
function applyExclusiveBounds(node: Schema, out: Schema): void {
  const step = out.type === 'integer' ? 1 : 0;
  const bound = (exclusive: unknown, inclusive: unknown): number | undefined =>
    typeof exclusive === 'number' ? exclusive : exclusive === true && typeof inclusive === 'number' ? inclusive : undefined;
  const low = bound(node.exclusiveMinimum, node.minimum);
  if (low !== undefined) out.minimum = typeof node.minimum === 'number' && node.exclusiveMinimum !== true ? Math.max(node.minimum, low + step) : low + step;
  const high = bound(node.exclusiveMaximum, node.maximum);
  if (high !== undefined) out.maximum = typeof node.maximum === 'number' && node.exclusiveMaximum !== true ? Math.min(node.maximum, high - step) : high - step;
}

function itemsOf(node: Schema): unknown {
  if (node.items !== undefined && node.items !== true) return node.items;
  if (Array.isArray(node.prefixItems) && node.prefixItems.length > 0) return node.prefixItems;
  return node.type === 'array' || (Array.isArray(node.type) && node.type.includes('array')) ? {} : undefined;
}

/** `anyOf`/`oneOf` alternatives: `{type: "null"}` among them becomes `nullable`; a single one left is inlined. */
function applyAlternatives(alternatives: Schema[], out: Schema): void {
  const isNull = (schema: Schema) => schema.type === 'null' || (schema.nullable === true && schema.type === undefined && Object.keys(schema).length === 1);
  const rest = alternatives.filter((schema) => !isNull(schema));
  if (rest.length < alternatives.length) out.nullable = true;
  if (rest.some((schema) => Object.keys(schema).length === 0)) return; // one alternative allows anything
  if (rest.length === 1) mergeInto(out, rest[0]);
  else if (rest.length > 1) out.anyOf = rest;
}

const unionOf = (schemas: Schema[]): Schema => (schemas.length === 1 ? schemas[0] : { anyOf: schemas });

/** `allOf` parts and `$ref` siblings: properties joined, `required` united, other keywords of `extra` win. */
function mergeInto(base: Schema, extra: Schema): Schema {
  for (const [key, value] of Object.entries(extra)) {
    if (key === 'properties' && isSchema(base.properties) && isSchema(value)) base.properties = { ...base.properties, ...value };
    else if (key === 'required' && Array.isArray(base.required) && Array.isArray(value)) base.required = [...new Set([...base.required, ...value])];
    else base[key] = value;
  }
  return base;
}

function typeOfValue(value: unknown): string | undefined {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (Array.isArray(value)) return 'array';
  if (isSchema(value)) return 'object';
  return undefined;
}
