/**
 * The `tokenpool-google` AuthenticationProvider. Sessions are the pool's accounts; createSession
 * runs the loopback OAuth flow (src/core/loopback.ts) in a cancellable progress notification and
 * upserts the account by the email Google returns. Re-authenticating one account passes it as
 * `login_hint`; if Google signs in someone else, that someone is added as a new account and the
 * user is told; no other account is ever overwritten.
 */
import * as vscode from 'vscode';
import type { Account } from '../core/account';
import type { Config } from '../core/config';
import { enrollTokens } from '../core/enroll';
import { CancelledError } from '../core/errors';
import type { Logger } from '../core/log';
import { runLoopbackFlow } from '../core/loopback';
import { isCancellation } from './commandRunner';
import { describeEnroll } from './describeAccount';
import { AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, Settings } from './ids';
import { DisposableBase } from './lifecycle';
import type { PoolRuntime } from './runtime';
import { openSettings } from './settings';

const SIGN_IN_TIMEOUT_MS = 5 * 60_000;

const sameEmail = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * True when an OAuth client is configured; otherwise says exactly which setting to fill, offers to
 * open it, and returns false.
 */
export function ensureOAuthClient(config: Config): boolean {
  if (config.oauth.client_id) return true;
  const message =
    'Token Pool: to sign in with Google, set "tokenpool.oauth.clientId" (and "tokenpool.oauth.clientSecret") ' +
    'to your own OAuth client of type "Desktop app" from the Google Cloud console. ' +
    'Importing gcloud credentials works without one.';
  void vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => choice && openSettings(Settings.oauthClientId));
  return false;
}

export class GoogleAuthProvider extends DisposableBase implements vscode.AuthenticationProvider {
  private readonly sessionsChanged = this._register(new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>());
  readonly onDidChangeSessions = this.sessionsChanged.event;
  /** id → email of the accounts last announced, to tell additions and removals apart. */
  private known: Map<string, string> | undefined;

  constructor(
    private readonly runtime: PoolRuntime,
    private readonly log: Logger,
  ) {
    super();
    this._register(runtime.onDidChange(() => this.announceChanges()));
    this._register(vscode.authentication.registerAuthenticationProvider(AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, this, { supportsMultipleAccounts: true }));
  }

  /** The scopes every session carries (the configured OAuth scopes). */
  get scopes(): string[] {
    return this.runtime.current?.config.oauth.scopes ?? [];
  }

  async getSessions(scopes: readonly string[] | undefined, options?: vscode.AuthenticationProviderSessionOptions): Promise<vscode.AuthenticationSession[]> {
    const services = this.runtime.current;
    if (!services) return [];
    if (scopes && !scopes.every((scope) => services.config.oauth.scopes.includes(scope))) return [];
    const { accounts } = await services.store.loadAll();
    return accounts
      .filter((account) => !options?.account || sameEmail(account.email, options.account.label))
      .sort((a, b) => a.email.localeCompare(b.email))
      .map((account) => this.session(account.id, account.email, account.token.access_token));
  }

  async createSession(_scopes: readonly string[], options?: vscode.AuthenticationProviderSessionOptions): Promise<vscode.AuthenticationSession> {
    const wanted = options?.account?.label;
    try {
      if (!ensureOAuthClient(this.runtime.require().config)) throw new CancelledError('no OAuth client configured');
      const { tokens, user } = await this.signIn(wanted);
      const result = await enrollTokens(this.runtime.require().pool, tokens, user);
      const { account } = result;
      if (wanted && !sameEmail(wanted, account.email)) {
        void vscode.window.showInformationMessage(
          `Token Pool: Google signed you in as ${account.email}, not ${wanted}. ${account.email} was ${result.created ? 'added as a new account' : 'updated'}; ${wanted} is unchanged.`,
        );
      } else {
        void vscode.window.showInformationMessage(`Token Pool: ${describeEnroll(result)}`);
      }
      this.log.info(`[auth] signed in as ${account.email} (${result.created ? 'new account' : 'existing account'})`);
      const session = this.session(account.id, account.email, account.token.access_token);
      // The pool's change event may already have announced a new account.
      const announced = this.known?.has(account.id) ?? false;
      this.known?.set(account.id, account.email);
      const created = result.created && !announced;
      this.sessionsChanged.fire({ added: created ? [session] : [], removed: [], changed: created ? [] : [session] });
      return session;
    } catch (err) {
      if (isCancellation(err)) throw new vscode.CancellationError();
      this.log.error(`[auth] sign-in failed: ${(err as Error).message}`);
      void vscode.window.showErrorMessage(`Token Pool: sign-in failed: ${(err as Error).message}`);
      throw err;
    }
  }

  async removeSession(sessionId: string): Promise<void> {
    await this.runtime.require().pool.remove(sessionId);
  }

  /** The loopback flow in a cancellable notification; the browser may answer before openExternal resolves. */
  private signIn(loginHint: string | undefined) {
    const oauth = this.runtime.require().oauth;
    const title = loginHint ? `Token Pool: signing in to Google as ${loginHint}…` : 'Token Pool: signing in to Google…';
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_progress, token) => {
      const abort = new AbortController();
      const cancelled = token.onCancellationRequested(() => abort.abort());
      try {
        return await runLoopbackFlow({
          oauth,
          loginHint,
          signal: abort.signal,
          timeoutMs: SIGN_IN_TIMEOUT_MS,
          openUrl: (url) => {
            void vscode.env.openExternal(vscode.Uri.parse(url)).then((opened) => {
              if (!opened) this.log.info('[auth] the sign-in page was not opened; waiting for the browser anyway');
            });
          },
          toExternalRedirect: async (uri) => (await vscode.env.asExternalUri(vscode.Uri.parse(uri))).toString(true),
        });
      } finally {
        cancelled.dispose();
      }
    });
  }

  /** `tokenpool.addAccount`: a further account through VS Code's "Sign in to another account". */
  async addAccount(): Promise<void> {
    if (!ensureOAuthClient(this.runtime.require().config)) return;
    await this.requestSession({ createIfNone: true, clearSessionPreference: true });
  }

  /** `tokenpool.reauthenticate`: a new session for this account, with it as login_hint. */
  async reauthenticate(account: Pick<Account, 'email'>): Promise<void> {
    if (!ensureOAuthClient(this.runtime.require().config)) return;
    await this.requestSession({
      forceNewSession: { detail: `Sign in again as ${account.email} to give Token Pool a new token for it.` },
      account: { id: account.email, label: account.email },
    });
  }

  /** A getSession that VS Code's prompts may decline: those are not errors, and real failures were shown by createSession. */
  private async requestSession(options: vscode.AuthenticationGetSessionOptions): Promise<void> {
    try {
      await vscode.authentication.getSession(AUTH_PROVIDER_ID, this.scopes, options);
    } catch (err) {
      this.log.debug(`[auth] no session: ${(err as Error).message}`);
    }
  }

  private session(id: string, email: string, accessToken: string): vscode.AuthenticationSession {
    return { id, accessToken, account: { id: email, label: email }, scopes: this.scopes };
  }

  /** Tells VS Code about accounts that appeared or went away (any window, the CLI, by hand). */
  private announceChanges(): void {
    const services = this.runtime.current;
    if (!services) return;
    const now = new Map(services.pool.summaries().map((s) => [s.id, s.email]));
    const known = this.known;
    this.known = now;
    if (!known) return; // the first look only learns what is there
    const added = [...now].filter(([id]) => !known.has(id)).map(([id, email]) => this.session(id, email, ''));
    const removed = [...known].filter(([id]) => !now.has(id)).map(([id, email]) => this.session(id, email, ''));
    if (added.length || removed.length) this.sessionsChanged.fire({ added, removed, changed: [] });
  }
}
