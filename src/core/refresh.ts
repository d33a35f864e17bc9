/**
 * Access-token refresh for the pool: one refresh per account in flight (everyone who asks
 * meanwhile shares its result), the new token saved through the pool's locked write, and a failure
 * turned into its failover decision (invalid_grant disables, others cool the account) exactly once.
 */
import { clientOf, withTokens, type Account } from './account';
import { ACCOUNT_WIDE } from './cooldowns';
import { AccountNotFoundError, InvalidGrantError, OAuthClientMismatchError, OAuthError } from './errors';
import { decide, type Decision } from './failover';
import type { GoogleOAuth, TokenSet } from './oauth';
import { messageOf, type PoolState } from './poolState';

/** Where a refresh was started: the wording of the failure line depends on it. */
export type RefreshContext = 'acquire' | 'force' | 'check';

/** Carries out a decision for the account (outcomes.ts); the write it started, if any. */
export type ApplyDecision = (id: string, model: string, decision: Decision, now: number, refreshToken: string) => Promise<void> | undefined;

export class TokenRefresher {
  private readonly refreshing = new Map<string, Promise<TokenSet>>();
  /** Refresh failures whose decision has been applied already (waiters share one error). */
  private readonly applied = new WeakSet<OAuthError>();
  private readonly warnedClients = new Set<string>();

  constructor(
    private readonly state: PoolState,
    private readonly oauth: GoogleOAuth,
    private readonly applyDecision: ApplyDecision,
  ) {}

  /** One refresh per account in flight; everyone who asks meanwhile gets the same result. */
  refresh(id: string, context: RefreshContext): Promise<TokenSet> {
    let flight = this.refreshing.get(id);
    if (!flight) {
      flight = this.refreshNow(id, context).finally(() => this.refreshing.delete(id));
      this.refreshing.set(id, flight);
    }
    return flight;
  }

  /** A refresh failure reported from outside (the pool's report()): applied unless it was already. */
  reported(id: string, error: OAuthError, refreshToken: string): void {
    if (this.applied.has(error)) return;
    this.state.track(this.failed(id, error, 'acquire', refreshToken), `the state of ${this.state.emailOf(id)}`);
  }

  private async refreshNow(id: string, context: RefreshContext): Promise<TokenSet> {
    const { state } = this;
    const account = state.accounts.get(id);
    if (!account) throw new AccountNotFoundError(id);
    const refreshToken = account.token.refresh_token;
    let tokens: TokenSet;
    try {
      tokens = await this.oauth.refresh(refreshToken, clientOf(account));
    } catch (err) {
      state.countRefresh(id, err instanceof InvalidGrantError ? 'invalid_grant' : err instanceof OAuthClientMismatchError ? 'client_mismatch' : 'error');
      if (err instanceof OAuthError) await this.failed(id, err, context, refreshToken);
      throw err;
    }
    state.countRefresh(id, 'ok');
    state.log.debug(`[refresh] refreshed ${account.email}, valid until ${new Date(tokens.expiry_timestamp * 1000).toISOString()}`);
    try {
      // Never onto a record that was disabled meanwhile, nor over a token re-added meanwhile.
      await state.writeThrough(id, 'refresh', (current) =>
        current.disabled || current.token.refresh_token !== refreshToken ? undefined : withTokens(current, tokens),
      );
    } catch (err) {
      state.log.warn(`[pool] could not save the refreshed token of ${account.email}: ${messageOf(err)}`);
    }
    return tokens;
  }

  private async failed(id: string, error: OAuthError, context: RefreshContext, refreshToken: string): Promise<void> {
    const { state } = this;
    this.applied.add(error);
    const account = state.accounts.get(id);
    if (!account) return;
    const next = context === 'check' ? '' : ', trying next account';
    state.log.warn(`[refresh] Token refresh failed (${account.email}): ${error.message}${next}`);
    if (error instanceof OAuthClientMismatchError) this.warnClientMismatch(account, error);
    const decision = decide({ kind: 'refresh', error }, { consecutiveFailures: state.cooldowns.failures(id, ACCOUNT_WIDE), already401: false });
    await this.applyDecision(id, ACCOUNT_WIDE, decision, state.now(), refreshToken);
  }

  private warnClientMismatch(account: Account, error: OAuthClientMismatchError): void {
    const client = account.token.client_id ?? 'the configured oauth.client_id';
    if (this.warnedClients.has(client)) return;
    this.warnedClients.add(client);
    this.state.log.warn(
      `[refresh] The OAuth client (${client}) does not match the one ${account.email}'s refresh token was issued to ` +
        `(${error.error}); accounts cool for 1 h instead of being disabled. Configure the client that issued ` +
        'the tokens, or re-add the accounts with this client.',
    );
  }
}
