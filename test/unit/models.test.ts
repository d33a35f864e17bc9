import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { listedModels, matchAlias, modelFamily, resolveModel } from '../../src/core/models';

const aliases = {
  'claude-haiku-*': 'gemini-2.5-flash',
  'claude-*': 'gemini-2.5-pro',
  'claude-opus-4-1': 'claude-opus-4-1@20250805',
  'gpt-5*': 'gemini-2.5-pro',
  'gpt-5-mini': 'gemini-2.5-flash',
  '*-codex': 'gemini-3-pro-preview',
  'o*-mini': 'gemini-2.5-flash',
  'mistral': 'mistralai/mistral-medium-3',
};

test('aliases: the most specific match wins', () => {
  const table: { name: string; want: string; alias?: string }[] = [
    { name: 'claude-haiku-4-5-20251001', want: 'gemini-2.5-flash', alias: 'claude-haiku-*' },
    { name: 'claude-sonnet-4-5', want: 'gemini-2.5-pro', alias: 'claude-*' },
    { name: 'claude-opus-4-1', want: 'claude-opus-4-1@20250805', alias: 'claude-opus-4-1' },
    { name: 'gpt-5-mini', want: 'gemini-2.5-flash', alias: 'gpt-5-mini' },
    { name: 'gpt-5', want: 'gemini-2.5-pro', alias: 'gpt-5*' },
    { name: 'gpt-5-codex', want: 'gemini-3-pro-preview', alias: '*-codex' }, // 6 literal characters beat 4
    { name: 'gpt-4.1-codex', want: 'gemini-3-pro-preview', alias: '*-codex' },
    { name: 'o4-mini', want: 'gemini-2.5-flash', alias: 'o*-mini' },
    { name: 'o-mini', want: 'gemini-2.5-flash', alias: 'o*-mini' },
    { name: 'omini', want: 'omini' },
    { name: 'gemini-2.5-pro', want: 'gemini-2.5-pro' },
    { name: 'claude', want: 'claude' },
  ];
  for (const row of table) {
    const got = resolveModel(row.name, aliases);
    assert.equal(got.model, row.want, row.name);
    assert.equal(got.alias, row.alias, `${row.name}: alias`);
    assert.equal(got.requested, row.name);
  }
});

test('aliases: ties between globs go to fewer stars, then to the first written', () => {
  assert.equal(matchAlias('ab-x-cd', { 'ab*cd': 'one', 'a*b*cd': 'two' }), 'ab*cd');
  assert.equal(matchAlias('ab-x-cd', { 'ab-*': 'one', '*x-cd': 'two' }), '*x-cd');
  assert.equal(matchAlias('abc', { 'a*': 'one', '*c': 'two' }), 'a*');
  assert.equal(matchAlias('aXbXc', { 'a*b*c': 'one' }), 'a*b*c');
  assert.equal(matchAlias('abc', { 'a*b*bc': 'one' }), undefined, 'pieces may not overlap');
  assert.equal(matchAlias('anything', { '*': 'fallback' }), '*');
});

test('aliases are applied once, not chained', () => {
  assert.equal(resolveModel('a', { a: 'b', b: 'c' }).model, 'b');
});

test('family follows from the upstream model', () => {
  const table: [string, string][] = [
    ['gemini-2.5-pro', 'gemini'],
    ['gemini-3-pro-preview', 'gemini'],
    ['claude-sonnet-4-5@20250929', 'anthropic'],
    ['claude-haiku-4-5', 'anthropic'],
    ['meta/llama-4-maverick-17b-128e-instruct-maas', 'maas'],
    ['google/gemini-2.5-pro', 'maas'],
    ['learnlm-2.0-flash', 'gemini'],
  ];
  for (const [model, family] of table) assert.equal(modelFamily(model), family, model);
  assert.equal(resolveModel('claude-sonnet-4-5', aliases).family, 'gemini', 'after the alias');
  assert.equal(resolveModel('mistral', aliases).family, 'maas');
});

test('the model list holds configured models and exact alias names, once each', () => {
  assert.deepEqual(listedModels(['gemini-2.5-pro', 'gemini-2.5-flash'], { 'gpt-5-mini': 'x', 'claude-*': 'y', 'gemini-2.5-pro': 'z' }), [
    'gemini-2.5-pro',
    'gemini-2.5-flash',
    'gpt-5-mini',
  ]);
});
