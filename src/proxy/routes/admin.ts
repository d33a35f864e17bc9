/**
 * Health and admin (DESIGN section 6). `/healthz` follows auth_mode; the admin routes always need
 * the key. Everything comes from the pool: counts and summaries never carry a token.
 */
import type { PoolCounts } from '../../core/pool';
import { sendJson, type Route, type RouteContext } from '../route';

export const adminRoutes: readonly Route[] = [
  { method: 'GET', path: '/healthz', access: 'health', handle: health },
  { method: 'GET', path: '/admin/accounts', access: 'admin', handle: accounts },
  { method: 'POST', path: '/admin/reload', access: 'admin', handle: reload },
  { method: 'POST', path: '/admin/cooldowns/reset', access: 'admin', handle: resetCooldowns },
];

/**
 * `status`: `ok` when every account is healthy, `degraded` when some are not, `unavailable` (and
 * HTTP 503, for a load balancer or an uptime monitor) when none can serve any model.
 */
function health(ctx: RouteContext): void {
  const accounts = ctx.pool.counts();
  const status = healthStatus(accounts);
  sendJson(ctx.res, status === 'unavailable' ? 503 : 200, { service: 'tokenpool', version: ctx.version, status, accounts });
}

export function healthStatus(c: PoolCounts): 'ok' | 'degraded' | 'unavailable' {
  if (c.healthy === 0) return 'unavailable';
  return c.healthy === c.total ? 'ok' : 'degraded';
}

function accounts(ctx: RouteContext): void {
  sendJson(ctx.res, 200, { accounts: ctx.pool.summaries() });
}

async function reload(ctx: RouteContext): Promise<void> {
  await ctx.pool.reload();
  ctx.log.info('[proxy] pool reloaded through the admin API');
  sendJson(ctx.res, 200, { ok: true, accounts: ctx.pool.counts() });
}

function resetCooldowns(ctx: RouteContext): void {
  ctx.pool.resetCooldowns();
  ctx.log.info('[proxy] cooldowns reset through the admin API');
  sendJson(ctx.res, 200, { ok: true, accounts: ctx.pool.counts() });
}
