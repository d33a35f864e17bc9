import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { reduceSchema } from '../../src/protocols/gemini-schema';

type Schema = Record<string, unknown>;

/** The keys Gemini's `parameters` accepts (Google's OpenAPI subset; the fake upstream refuses any other). */
const ACCEPTED = new Set(['type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering', 'default', 'items', 'minimum', 'maximum']);

/** Paths of keys Gemini would refuse, anywhere in the schema. */
function refusedKeys(schema: Schema, path = 'parameters'): string[] {
  const found: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (!ACCEPTED.has(key)) found.push(`${path}.${key}`);
    else if (key === 'properties') for (const [name, sub] of Object.entries(value as Schema)) found.push(...refusedKeys(sub as Schema, `${path}.properties[${name}]`));
    else if (key === 'items') found.push(...refusedKeys(value as Schema, `${path}.items`));
    else if (key === 'anyOf') (value as Schema[]).forEach((sub, i) => found.push(...refusedKeys(sub, `${path}.anyOf[${i}]`)));
  }
  return found;
}

test('schema: each keyword Claude-style schemas carry, input -> what Gemini gets', () => {
  const table: { keyword: string; input: Schema; want: Schema }[] = [
    { keyword: '$schema dropped', input: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'string' }, want: { type: 'string' } },
    { keyword: '$id and $comment dropped', input: { $id: 'urn:x', $comment: 'c', type: 'string' }, want: { type: 'string' } },
    { keyword: 'additionalProperties dropped', input: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, want: { type: 'object', properties: { a: { type: 'string' } } } },
    { keyword: 'unevaluatedProperties, patternProperties, propertyNames dropped', input: { type: 'object', properties: { a: { type: 'string' } }, unevaluatedProperties: false, patternProperties: { '^x': { type: 'string' } }, propertyNames: { pattern: '^a' } }, want: { type: 'object', properties: { a: { type: 'string' } } } },
    { keyword: 'dependentSchemas, dependentRequired, if/then/else, not dropped', input: { type: 'object', properties: { a: { type: 'string' } }, dependentSchemas: { a: {} }, dependentRequired: { a: [] }, if: {}, then: {}, else: {}, not: {} }, want: { type: 'object', properties: { a: { type: 'string' } } } },
    { keyword: 'readOnly, writeOnly, deprecated, contentEncoding dropped', input: { type: 'string', readOnly: true, writeOnly: false, deprecated: true, contentEncoding: 'base64' }, want: { type: 'string' } },
    { keyword: 'examples -> example (the first)', input: { type: 'string', examples: ['ls -la', 'pwd'] }, want: { type: 'string', example: 'ls -la' } },
    { keyword: 'default kept', input: { type: 'integer', default: 5 }, want: { type: 'integer', default: 5 } },
    { keyword: 'title, description, pattern, lengths kept', input: { type: 'string', title: 'T', description: 'D', pattern: '^a', minLength: 1, maxLength: 9 }, want: { type: 'string', title: 'T', description: 'D', pattern: '^a', minLength: 1, maxLength: 9 } },
    { keyword: 'minItems/maxItems kept', input: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 4 }, want: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 4 } },
    { keyword: 'array without items gets an open items', input: { type: 'array' }, want: { type: 'array', items: {} } },
    { keyword: 'tuple items -> anyOf of them', input: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] }, want: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] } } },
    { keyword: 'const string -> enum [value] with its type', input: { const: 'fast' }, want: { type: 'string', enum: ['fast'] } },
    { keyword: 'const number -> its type, the value in the description (enum is strings only)', input: { const: 3, description: 'Count.' }, want: { type: 'integer', description: 'Count. Allowed values: 3.' } },
    { keyword: 'string enum kept', input: { type: 'string', enum: ['a', 'b'] }, want: { type: 'string', enum: ['a', 'b'] } },
    { keyword: 'enum of mixed values stringified', input: { enum: ['a', 1, true] }, want: { type: 'string', enum: ['a', '1', 'true'] } },
    { keyword: 'enum of numbers on a number type -> described', input: { type: 'number', enum: [0.5, 1] }, want: { type: 'number', description: 'Allowed values: 0.5, 1.' } },
    { keyword: 'null in enum -> nullable', input: { type: ['string', 'null'], enum: ['a', null] }, want: { type: 'string', nullable: true, enum: ['a'] } },
    { keyword: 'exclusiveMinimum (number) -> minimum', input: { type: 'number', exclusiveMinimum: 0 }, want: { type: 'number', minimum: 0 } },
    { keyword: 'exclusiveMinimum on an integer -> the next integer', input: { type: 'integer', exclusiveMinimum: 0 }, want: { type: 'integer', minimum: 1 } },
    { keyword: 'exclusiveMaximum -> maximum', input: { type: 'integer', exclusiveMaximum: 10 }, want: { type: 'integer', maximum: 9 } },
    { keyword: 'exclusiveMinimum with a stricter minimum keeps the minimum', input: { type: 'number', minimum: 5, exclusiveMinimum: 0 }, want: { type: 'number', minimum: 5 } },
    { keyword: 'draft-4 boolean exclusiveMinimum', input: { type: 'integer', minimum: 0, exclusiveMinimum: true }, want: { type: 'integer', minimum: 1 } },
    { keyword: 'minimum/maximum kept', input: { type: 'number', minimum: 1, maximum: 600000 }, want: { type: 'number', minimum: 1, maximum: 600000 } },
    { keyword: 'type array with null -> type + nullable', input: { type: ['string', 'null'] }, want: { type: 'string', nullable: true } },
    { keyword: 'type array of two types -> anyOf', input: { type: ['string', 'number'] }, want: { anyOf: [{ type: 'string' }, { type: 'number' }] } },
    { keyword: 'nullable object keeps its properties', input: { type: ['object', 'null'], properties: { a: { type: 'string' } } }, want: { type: 'object', nullable: true, properties: { a: { type: 'string' } } } },
    { keyword: 'anyOf kept, nested reduced', input: { anyOf: [{ type: 'string', format: 'email' }, { type: 'integer', exclusiveMinimum: 0 }] }, want: { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 1 }] } },
    { keyword: 'anyOf with null -> nullable, a single alternative inlined', input: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null }, want: { type: 'string', nullable: true, default: null } },
    { keyword: 'anyOf with an open alternative -> no constraint', input: { anyOf: [{ type: 'string' }, {}] }, want: {} },
    { keyword: 'oneOf -> anyOf', input: { oneOf: [{ type: 'string' }, { type: 'boolean' }] }, want: { anyOf: [{ type: 'string' }, { type: 'boolean' }] } },
    { keyword: 'allOf -> merged (properties joined, required united)', input: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'number' } }, required: ['b'] }], description: 'both' }, want: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a', 'b'], description: 'both' } },
    { keyword: 'format date-time kept on strings', input: { type: 'string', format: 'date-time' }, want: { type: 'string', format: 'date-time' } },
    { keyword: 'format enum kept on strings', input: { type: 'string', format: 'enum', enum: ['a'] }, want: { type: 'string', format: 'enum', enum: ['a'] } },
    { keyword: 'other string formats dropped (uri, email, uuid)', input: { type: 'string', format: 'uri' }, want: { type: 'string' } },
    { keyword: 'number formats int32/int64/float/double kept', input: { type: 'integer', format: 'int64' }, want: { type: 'integer', format: 'int64' } },
    { keyword: 'a number format on a string dropped', input: { type: 'string', format: 'int64' }, want: { type: 'string' } },
    { keyword: 'required limited to defined properties', input: { type: 'object', properties: { a: { type: 'string' } }, required: ['a', 'ghost', 'constructor'] }, want: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] } },
    { keyword: 'required without properties dropped', input: { type: 'object', required: ['a'] }, want: { type: 'object' } },
    { keyword: 'properties without a type -> object', input: { properties: { a: { type: 'boolean' } } }, want: { type: 'object', properties: { a: { type: 'boolean' } } } },
    { keyword: 'empty properties left out', input: { type: 'object', properties: {} }, want: { type: 'object' } },
    { keyword: 'nullable: true kept', input: { type: 'string', nullable: true }, want: { type: 'string', nullable: true } },
    { keyword: 'propertyOrdering kept', input: { type: 'object', properties: { b: { type: 'string' }, a: { type: 'string' } }, propertyOrdering: ['b', 'a'] }, want: { type: 'object', properties: { b: { type: 'string' }, a: { type: 'string' } }, propertyOrdering: ['b', 'a'] } },
    { keyword: 'a boolean schema (true) -> open', input: { type: 'object', properties: { any: true } }, want: { type: 'object', properties: { any: {} } } },
  ];
  for (const row of table) assert.deepEqual(reduceSchema(row.input), row.want, row.keyword);
});

test('schema: $ref to $defs and definitions is inlined, siblings kept', () => {
  const table: { name: string; input: Schema; want: Schema }[] = [
    {
      name: '$defs',
      input: { type: 'object', properties: { p: { $ref: '#/$defs/Point' } }, $defs: { Point: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } },
      want: { type: 'object', properties: { p: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } },
    },
    {
      name: 'definitions (draft-7), with a sibling description',
      input: { type: 'object', properties: { c: { $ref: '#/definitions/Color', description: 'The color.' } }, definitions: { Color: { type: 'string', enum: ['red', 'blue'] } } },
      want: { type: 'object', properties: { c: { type: 'string', enum: ['red', 'blue'], description: 'The color.' } } },
    },
    {
      name: 'a ref through another ref',
      input: { $ref: '#/$defs/A', $defs: { A: { type: 'object', properties: { b: { $ref: '#/$defs/B' } } }, B: { type: 'string', const: 'b' } } },
      want: { type: 'object', properties: { b: { type: 'string', enum: ['b'] } } },
    },
    {
      name: 'an escaped pointer',
      input: { type: 'object', properties: { a: { $ref: '#/$defs/a~1b' } }, $defs: { 'a/b': { type: 'boolean' } } },
      want: { type: 'object', properties: { a: { type: 'boolean' } } },
    },
    {
      name: 'an unresolvable ref -> open, its description kept',
      input: { type: 'object', properties: { a: { $ref: 'https://example.com/x.json', description: 'A.' } } },
      want: { type: 'object', properties: { a: { description: 'A.' } } },
    },
  ];
  for (const row of table) assert.deepEqual(reduceSchema(row.input), row.want, row.name);
});

test('schema: a recursive $ref is inlined once, then stops at {type: object}', () => {
  const tree = {
    type: 'object',
    properties: { root: { $ref: '#/$defs/Node' } },
    $defs: { Node: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/Node' } } } } },
  };
  assert.deepEqual(reduceSchema(tree), {
    type: 'object',
    properties: { root: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { type: 'object' } } } } },
  });
  // Two siblings using the same definition both get it (the guard is per path, not global).
  const twice = { type: 'object', properties: { a: { $ref: '#/$defs/S' }, b: { $ref: '#/$defs/S' } }, $defs: { S: { type: 'string' } } };
  assert.deepEqual(reduceSchema(twice), { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } });
  const self = { type: 'object', properties: { next: { $ref: '#' } } };
  assert.deepEqual(reduceSchema(self), { type: 'object', properties: { next: { type: 'object', properties: { next: { type: 'object' } } } } });
});

test('schema: a Claude Code tool schema keeps its meaning and carries no key Gemini refuses', () => {
  const bash = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    additionalProperties: false,
    properties: {
      command: { type: 'string', description: 'The command to execute' },
      timeout: { type: 'number', exclusiveMinimum: 0, maximum: 600000, description: 'Optional timeout in milliseconds' },
      run_in_background: { type: 'boolean' },
      edits: {
        type: 'array',
        minItems: 1,
        items: { type: 'object', additionalProperties: false, properties: { old_string: { type: 'string' }, replace_all: { type: 'boolean', default: false } }, required: ['old_string'] },
      },
      options: { anyOf: [{ $ref: '#/$defs/Options' }, { type: 'null' }] },
      mode: { type: 'string', enum: ['acceptEdits', 'plan'] },
      todo: { type: 'object', properties: { status: { const: 'pending' }, when: { type: 'string', format: 'date-time' } } },
    },
    required: ['command'],
    $defs: { Options: { type: 'object', additionalProperties: { type: 'string' }, properties: { cwd: { type: 'string', format: 'uri' } } } },
  };
  const reduced = reduceSchema(bash);
  assert.deepEqual(refusedKeys(reduced), []);
  assert.deepEqual(reduced.required, ['command']);
  const properties = reduced.properties as Record<string, Schema>;
  assert.deepEqual(Object.keys(properties), ['command', 'timeout', 'run_in_background', 'edits', 'options', 'mode', 'todo']);
  assert.deepEqual(properties.timeout, { type: 'number', minimum: 0, maximum: 600000, description: 'Optional timeout in milliseconds' });
  assert.deepEqual(properties.options, { type: 'object', nullable: true, properties: { cwd: { type: 'string' } } });
  assert.deepEqual(properties.edits.items, { type: 'object', properties: { old_string: { type: 'string' }, replace_all: { type: 'boolean', default: false } }, required: ['old_string'] });
  assert.deepEqual(properties.todo, { type: 'object', properties: { status: { type: 'string', enum: ['pending'] }, when: { type: 'string', format: 'date-time' } } });
});

test('schema: the input is not modified', () => {
  const input = { type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string', examples: ['x'] } }, additionalProperties: false };
  const copy = structuredClone(input);
  reduceSchema(input);
  assert.deepEqual(input, copy);
});
