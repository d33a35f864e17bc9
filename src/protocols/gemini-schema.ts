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

/** Formats Gemini knows, by type; others are left out. A Map: `type` is the client's string (`"constructor"` too). */
const FORMATS = new Map<string, string[]>([
  ['string', ['enum', 'date-time']],
  ['number', ['float', 'double', 'int32', 'int64']],
  ['integer', ['float', 'double', 'int32', 'int64']],
]);

/** A `$ref` seen again inside its own expansion (a recursive type), or past the budget, stops here. */
const RECURSION_STOP: Schema = { type: 'object' };

/**
 * What inlining `$ref`s may add to one request's schemas together. Inlining is where a small schema
 * grows (twenty definitions that each use the next one twice are a million copies), so it is
 * budgeted; a schema's own nodes are not (each is reduced once, so they cost what the request
 * carried). Past the budget, a `$ref` is cut to `{type: "object"}` the way a recursive one is.
 */
export const MAX_INLINED_NODES = 5_000;
/** Bytes of copied values (descriptions, defaults, examples, enums) that inlining may add. */
export const MAX_INLINED_BYTES = 1024 * 1024;
/** `$ref`s inlined inside one another, at most. */
export const MAX_REF_DEPTH = 16;

/** The work of reducing one request's schemas: counted, so a test can bound it, and spent against the limits above. */
export interface SchemaBudget {
  /** Nodes reduced in all (the work). */
  visited: number;
  /** Nodes reduced inside an inlined `$ref`. */
  inlinedNodes: number;
  /** Bytes of values copied inside an inlined `$ref`. */
  inlinedBytes: number;
  /** `$ref`s cut because the budget was spent or they nested too deep. */
  cut: number;
  /** The limits spent against (the constants above; a test may set smaller ones). */
  limits: { nodes: number; bytes: number; refDepth: number };
}

export const schemaBudget = (limits: SchemaBudget['limits'] = { nodes: MAX_INLINED_NODES, bytes: MAX_INLINED_BYTES, refDepth: MAX_REF_DEPTH }): SchemaBudget => ({
  visited: 0,
  inlinedNodes: 0,
  inlinedBytes: 0,
  cut: 0,
  limits,
});

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reduces a JSON Schema to the subset Gemini's `parameters` accepts (see the module comment). Pass
 * one budget to every schema of a request: the limits are for the request.
 */
export function reduceSchema(schema: Schema, budget: SchemaBudget = schemaBudget()): Schema {
  return reduce(schema, { root: schema, expanding: [], budget, sizes: new WeakMap() });
}

interface Walk {
  root: Schema;
  /** The `$ref`s being inlined around this node, outermost first (a stack: pushed and popped, never copied). */
  expanding: string[];
  budget: SchemaBudget;
  /** Sizes of copied object values, measured once each. */
  sizes: WeakMap<object, number>;
}

const spent = ({ budget }: Walk): boolean => budget.inlinedNodes > budget.limits.nodes || budget.inlinedBytes > budget.limits.bytes;

function reduce(node: unknown, w: Walk): Schema {
  w.budget.visited++;
  if (w.expanding.length > 0) {
    w.budget.inlinedNodes++;
    if (spent(w)) return { ...RECURSION_STOP };
  }
  if (!isSchema(node)) return {};
  if (typeof node.$ref === 'string') return reduceRef(node, w);

  const out: Schema = {};
  for (const key of KEPT) if (node[key] !== undefined) out[key] = node[key];
  if (Array.isArray(node.examples) && node.examples.length > 0) out.example = node.examples[0];
  else if (node.example !== undefined) out.example = node.example;
  if (w.expanding.length > 0) w.budget.inlinedBytes += copiedBytes(out, w.sizes) + copiedBytes(node.enum, w.sizes) + copiedBytes(node.const, w.sizes) + copiedBytes(node.required, w.sizes);

  applyType(node, out);
  applyEnum(node, out);
  applyExclusiveBounds(node, out);

  if (isSchema(node.properties)) {
    const properties: Schema = {};
    for (const [name, value] of Object.entries(node.properties)) {
      if (w.expanding.length > 0) {
        if (spent(w)) break;
        w.budget.inlinedBytes += name.length;
      }
      // defined, not assigned: a property named `__proto__` is a property like any other
      Object.defineProperty(properties, name, { value: reduce(value, w), enumerable: true, writable: true, configurable: true });
    }
    if (Object.keys(properties).length > 0) out.properties = properties;
    out.type ??= 'object';
  }
  if (Array.isArray(node.required)) out.required = node.required.filter((name): name is string => typeof name === 'string');
  const items = itemsOf(node);
  if (items !== undefined) {
    out.items = Array.isArray(items) ? unionOf(reduceAll(items, w)) : reduce(items, w);
    out.type ??= 'array';
  }

  const alternatives = node.anyOf ?? node.oneOf;
  if (Array.isArray(alternatives)) applyAlternatives(reduceAll(alternatives, w), out);
  const format = typeof node.format === 'string' ? node.format : undefined;
  if (format && typeof out.type === 'string' && FORMATS.get(out.type)?.includes(format)) out.format = format;
  if (!Array.isArray(node.allOf)) return withKnownRequired(out);
  // allOf: the parts merged, the node's own keywords over them.
  const merged: Schema = {};
  for (const part of reduceAll(node.allOf, w)) mergeInto(merged, part);
  return withKnownRequired(mergeInto(merged, out));
}

/** Each schema of a list reduced, stopping early once an inlining has spent the budget. */
function reduceAll(items: unknown[], w: Walk): Schema[] {
  const out: Schema[] = [];
  for (const item of items) {
    if (w.expanding.length > 0 && spent(w)) break;
    out.push(reduce(item, w));
  }
  return out;
}

/** About how many bytes a copied value adds to the output: strings by length, objects by their JSON, measured once. */
function copiedBytes(value: unknown, sizes: WeakMap<object, number>): number {
  if (typeof value === 'string') return value.length;
  if (typeof value !== 'object' || value === null) return value === undefined ? 0 : 8;
  let size = sizes.get(value);
  if (size === undefined) {
    if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) {
      size = 0;
      for (const [key, item] of Object.entries(value)) size += key.length + copiedBytes(item, sizes);
    } else size = 8;
    sizes.set(value, size);
  }
  return size;
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
function reduceRef(node: Schema, w: Walk): Schema {
  const ref = node.$ref as string;
  if (w.expanding.includes(ref)) return { ...RECURSION_STOP, ...describedBy(node) };
  if (w.expanding.length >= w.budget.limits.refDepth || spent(w)) {
    w.budget.cut++;
    return { ...RECURSION_STOP, ...describedBy(node) };
  }
  const target = resolvePointer(w.root, ref);
  if (target === undefined) return describedBy(node);
  w.expanding.push(ref);
  try {
    const reduced = reduce(target, w);
    if (Object.keys(node).length === 1) return reduced;
    const { $ref: _ref, ...siblings } = node;
    return mergeInto(reduced, reduce(siblings, w));
  } finally {
    w.expanding.pop();
  }
}

/** A JSON Pointer into the root (own members only); undefined when it leads nowhere or is not valid percent-encoding. */
function resolvePointer(root: Schema, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    let key: string;
    try {
      key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (!(isSchema(at) || Array.isArray(at)) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

const describedBy = (node: Schema): Schema => (typeof node.description === 'string' ? { description: node.description } : {});

/** JSON Schema's types; any other `type` is left out, like an unknown keyword. */
const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);

/** `type: ["string", "null"]` -> `type: "string", nullable: true`; several non-null types -> `anyOf`. */
function applyType(node: Schema, out: Schema): void {
  const named = Array.isArray(node.type) ? node.type : [node.type];
  const types = named.filter((t): t is string => typeof t === 'string' && JSON_TYPES.has(t));
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
