/**
 * In-memory cooldown bookkeeping (DESIGN section 4, "cooling"): per account (scope `*`) and per
 * account+model, each with an end time, a reason and the count of failures in a row that the
 * doubling backoffs read. Nothing here is persisted; a restart forgets it. No clock: callers pass
 * `now` in unix milliseconds.
 */
import type { CooldownView, RateLimitView } from './account';
import type { RateLimitHit } from './quota';

/** The scope of an account-wide cooldown, as `accounts list --json` shows it. */
export const ACCOUNT_WIDE = '*';

export interface CooldownRecord {
  /** Unix ms; in the past once the cooldown has run out (the failure count stays until a success). */
  until: number;
  reason: string;
  /** Failures in a row in this scope, this one included. */
  failures: number;
  /** What the last 429 in this scope said (delay asked for, quota named), for the headroom views. */
  rateLimit?: RateLimitHit;
  /** Google's 404 message when this model is missing in the account's project (this cooldown's cause). */
  modelNotFound?: string;
}

export class Cooldowns {
  /** account id -> scope (`*` or a model) -> record */
  private readonly byAccount = new Map<string, Map<string, CooldownRecord>>();

  /** Failures in a row counted against `scope` (`*` or a model) of the account. */
  failures(id: string, scope: string): number {
    return this.byAccount.get(id)?.get(scope)?.failures ?? 0;
  }

  /** Starts (or lengthens: a running longer cooldown is kept) a cooldown and counts the failure; a 429 brings what Google said. */
  add(
    id: string,
    scope: string,
    seconds: number,
    reason: string,
    now: number,
    cause: { rateLimit?: RateLimitHit; modelNotFound?: string } = {},
  ): CooldownRecord {
    let scopes = this.byAccount.get(id);
    if (!scopes) this.byAccount.set(id, (scopes = new Map()));
    const previous = scopes.get(scope);
    const until = now + Math.round(seconds * 1000);
    const lastRateLimit = cause.rateLimit ?? previous?.rateLimit;
    const record: CooldownRecord = {
      until: previous && previous.until > until ? previous.until : until,
      reason,
      failures: (previous?.failures ?? 0) + 1,
      ...(lastRateLimit ? { rateLimit: lastRateLimit } : {}),
      ...(cause.modelNotFound !== undefined ? { modelNotFound: cause.modelNotFound } : {}),
    };
    scopes.set(scope, record);
    return record;
  }

  /** What the last 429 of the account for `model` said, while its record lasts (until a success); undefined if none. */
  lastRateLimit(id: string, model: string): RateLimitHit | undefined {
    return this.byAccount.get(id)?.get(model)?.rateLimit;
  }

  /** Google's 404 message while the account cools for `model` because its project lacks it; else undefined. */
  modelNotFound(id: string, model: string, now: number): string | undefined {
    const record = this.byAccount.get(id)?.get(model);
    return record && record.until > now ? record.modelNotFound : undefined;
  }

  /** When the account may next serve `model`: the later of its account-wide and model cooldowns; 0 if none. */
  blockedUntil(id: string, model: string): number {
    const scopes = this.byAccount.get(id);
    if (!scopes) return 0;
    return Math.max(scopes.get(ACCOUNT_WIDE)?.until ?? 0, scopes.get(model)?.until ?? 0);
  }

  /** The end of a running account-wide cooldown, else null. */
  accountUntil(id: string, now: number): number | null {
    const until = this.byAccount.get(id)?.get(ACCOUNT_WIDE)?.until;
    return until !== undefined && until > now ? until : null;
  }

  /** A success on `model`: clears the account-wide record and that model's. True if a cooldown was running. */
  clearOnSuccess(id: string, model: string, now: number): boolean {
    const scopes = this.byAccount.get(id);
    if (!scopes) return false;
    let wasCooling = false;
    for (const scope of [ACCOUNT_WIDE, model]) {
      const record = scopes.get(scope);
      if (!record) continue;
      if (record.until > now) wasCooling = true;
      scopes.delete(scope);
    }
    if (scopes.size === 0) this.byAccount.delete(id);
    return wasCooling;
  }

  /** Forgets everything about one account (removed, or its token replaced). */
  forget(id: string): boolean {
    return this.byAccount.delete(id);
  }

  /** The user's "reset cooldowns": every cooldown and failure count goes. */
  resetAll(): boolean {
    const had = this.byAccount.size > 0;
    this.byAccount.clear();
    return had;
  }

  /** Running cooldowns of one account for summaries: `model` is `*` account-wide, `until` in unix seconds. */
  list(id: string, now: number): CooldownView[] {
    const views: CooldownView[] = [];
    for (const [scope, record] of this.byAccount.get(id) ?? []) {
      if (record.until <= now) continue;
      const view: CooldownView = { model: scope, until: Math.ceil(record.until / 1000), reason: record.reason };
      if (record.rateLimit) view.last_429 = rateLimitView(record.rateLimit);
      if (record.modelNotFound !== undefined) view.model_not_found = true;
      views.push(view);
    }
    return views.sort((a, b) => (a.model === ACCOUNT_WIDE ? -1 : b.model === ACCOUNT_WIDE ? 1 : a.model.localeCompare(b.model)));
  }

  /** The earliest end of any running cooldown (unix ms), or null. */
  nextEnd(now: number): number | null {
    let next: number | null = null;
    for (const scopes of this.byAccount.values()) {
      for (const record of scopes.values()) {
        if (record.until > now && (next === null || record.until < next)) next = record.until;
      }
    }
    return next;
  }
}

/** The last 429 as the admin API and `accounts list --json` show it: snake_case, unix seconds. */
function rateLimitView(hit: RateLimitHit): RateLimitView {
  return {
    at: Math.floor(hit.at / 1000),
    retry_delay_s: hit.retryDelayS,
    quota_id: hit.quotaId,
    quota_metric: hit.quotaMetric,
    window: hit.window,
  };
}
