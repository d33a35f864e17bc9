import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AccountSummary } from '../../src/core/account';
import { describeSummary } from '../../src/cli/format';

const NOW = 1_800_000_000;

function summary(over: Partial<AccountSummary> = {}): AccountSummary {
  return {
    id: 'id-1', email: 'ada@example.com', state: 'healthy', project_id: 'ada-proj', location: null,
    disabled_at: null, disabled_reason: null, proxy_disabled_reason: null, proxy_disabled_until: null,
    cooldowns: [], last_used: null, ...over,
  };
}

describe('describeSummary: the REASON / COOLDOWNS column of accounts list', () => {
  const table: [string, Partial<AccountSummary>, string][] = [
    ['nothing', {}, ''],
    ['a model cooling on a 429', { cooldowns: [{ model: 'gemini-2.5-pro', until: NOW + 41, reason: '429 Too Many Requests' }] }, 'gemini-2.5-pro cooling 41 s (429 Too Many Requests)'],
    ['the whole account cooling', { state: 'cooling', cooldowns: [{ model: '*', until: NOW + 10, reason: '503 Service Unavailable' }] }, 'all models cooling 10 s (503 Service Unavailable)'],
    [
      'a model missing in the project',
      { cooldowns: [{ model: 'gemini-9-pro', until: NOW + 3600, reason: '404 Not Found: Publisher Model was not found', model_not_found: true }] },
      'gemini-9-pro not found in project ada-proj, tried again in 3600 s (404 Not Found: Publisher Model was not found)',
    ],
    [
      'a model missing in the default project',
      { project_id: null, cooldowns: [{ model: 'gemini-9-pro', until: NOW + 60, reason: '404 Not Found', model_not_found: true }] },
      'gemini-9-pro not found in project (the default), tried again in 60 s (404 Not Found)',
    ],
  ];
  for (const [name, over, want] of table) test(name, () => assert.equal(describeSummary(summary(over), NOW), want));
});
