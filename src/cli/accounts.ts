/** `tokenpool accounts …`: list, add, import-adc, check, proxy-disable/enable, remove. */
import { request } from 'undici';
import type { AccountSummary } from '../core/account';
import type { Config } from '../core/config';
import { defaultAdcPath, enrollAdc, enrollRefreshToken, type EnrollResult } from '../core/enroll';
import { findByEmail, type CliContext } from './context';
import { formatSummaryTable } from './format';
import { UsageError } from './usage';

export interface AccountsFlags {
  json?: boolean;
  'refresh-token'?: string;
  project?: string;
  location?: string;
  revoke?: boolean;
}

export async function runAccounts(ctx: CliContext, verb: string | undefined, args: string[], flags: AccountsFlags): Promise<number> {
  switch (verb) {
    case 'list':
      return list(ctx, flags);
    case 'add': {
      const token = flags['refresh-token'];
      if (!token) throw new UsageError('accounts add needs --refresh-token T');
      return report(await enrollRefreshToken(ctx.pool, ctx.oauth, token, placement(flags)));
    }
    case 'import-adc':
      return report(await enrollAdc(ctx.pool, ctx.oauth, args[0] ?? defaultAdcPath(), placement(flags)));
    case 'check':
      return check(ctx, args[0], flags);
    case 'proxy-disable':
    case 'proxy-enable': {
      const account = findByEmail(ctx.pool, required(args[0], `accounts ${verb} EMAIL`));
      await ctx.pool.setProxyDisabled(account.id, verb === 'proxy-disable');
      console.log(`${account.email}: ${verb === 'proxy-disable' ? 'proxy disabled (manual)' : 'proxy enabled'}`);
      return 0;
    }
    case 'remove': {
      const account = findByEmail(ctx.pool, required(args[0], 'accounts remove EMAIL'));
      if (flags.revoke) {
        const stored = await ctx.store.read(account.id);
        if (stored) await ctx.oauth.revoke(stored.token.refresh_token);
      }
      await ctx.pool.remove(account.id);
      console.log(`${account.email}: removed${flags.revoke ? ' and its token revoked at Google' : ''}`);
      return 0;
    }
    default:
      throw new UsageError(verb ? `unknown command "accounts ${verb}"` : 'accounts needs a command: list, add, import-adc, check, proxy-disable, proxy-enable, remove');
  }
}

const placement = (flags: AccountsFlags) => ({ project_id: flags.project ?? null, location: flags.location ?? null });

function required(value: string | undefined, usage: string): string {
  if (!value) throw new UsageError(`usage: tokenpool ${usage}`);
  return value;
}

export function report(result: EnrollResult): number {
  const { account } = result;
  const what = result.created ? 'added' : result.reenabled ? 'updated and re-enabled (token changed on re-add)' : 'updated';
  console.log(`${account.email}: ${what} (id ${account.id})`);
  if (account.proxy_disabled) console.log(`${account.email}: still proxy disabled (${account.proxy_disabled_reason}); run "tokenpool accounts proxy-enable ${account.email}" to route to it`);
  return 0;
}

async function list(ctx: CliContext, flags: AccountsFlags): Promise<number> {
  const summaries = (await liveSummaries(ctx.config)) ?? ctx.pool.summaries();
  if (flags.json) console.log(JSON.stringify(summaries, null, 2));
  else console.log(summaries.length ? formatSummaryTable(summaries) : 'no accounts yet: tokenpool login, or tokenpool accounts add --refresh-token T');
  return 0;
}

/**
 * Cooldowns live in the serving process's memory; when one is running on the configured address,
 * ask it (so `list` shows them), else fall back to what the files say.
 */
async function liveSummaries(config: Config): Promise<AccountSummary[] | undefined> {
  const host = config.proxy.host === '0.0.0.0' || config.proxy.host === '::' ? '127.0.0.1' : config.proxy.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.proxy.port}/admin/accounts`;
  try {
    const res = await request(url, {
      headers: { authorization: `Bearer ${config.proxy.api_key}` },
      headersTimeout: 500,
      bodyTimeout: 2000,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    const body = (await res.body.json()) as { accounts?: AccountSummary[] };
    return Array.isArray(body.accounts) ? body.accounts : undefined;
  } catch {
    return undefined;
  }
}

async function check(ctx: CliContext, email: string | undefined, flags: AccountsFlags): Promise<number> {
  const targets = email ? [findByEmail(ctx.pool, email)] : ctx.pool.summaries();
  const results: { email: string; ok: boolean; state: string; detail: string }[] = [];
  for (const target of targets) {
    if (target.state === 'disabled') {
      results.push({ email: target.email, ok: false, state: 'disabled', detail: target.disabled_reason ?? 'disabled' });
      continue;
    }
    const outcome = await ctx.pool.check(target.id);
    const state = findByEmail(ctx.pool, target.email).state;
    results.push(
      outcome.ok
        ? { email: target.email, ok: true, state, detail: `token valid until ${new Date(outcome.expiry * 1000).toISOString()}` }
        : { email: target.email, ok: false, state, detail: outcome.error.message },
    );
  }
  if (flags.json) console.log(JSON.stringify(results, null, 2));
  else for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.email}  ${r.state}  ${r.detail}`);
  return results.every((r) => r.ok) ? 0 : 1;
}
