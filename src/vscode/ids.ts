/**
 * Every identifier the extension shares with package.json: commands, views, context keys, setting
 * keys. No `vscode` import, so the pure modules and their tests can use it too.
 */

export const Commands = {
  addAccount: 'tokenpool.addAccount',
  addRefreshToken: 'tokenpool.addRefreshToken',
  importAdc: 'tokenpool.importAdc',
  reloadPool: 'tokenpool.reloadPool',
  resetCooldowns: 'tokenpool.resetCooldowns',
  reauthenticate: 'tokenpool.reauthenticate',
  proxyDisable: 'tokenpool.proxyDisable',
  proxyEnable: 'tokenpool.proxyEnable',
  refreshNow: 'tokenpool.refreshNow',
  copyEmail: 'tokenpool.copyEmail',
  removeAccount: 'tokenpool.removeAccount',
  startProxy: 'tokenpool.startProxy',
  stopProxy: 'tokenpool.stopProxy',
  showLog: 'tokenpool.showLog',
  statusMenu: 'tokenpool.statusMenu',
  dashboard: 'tokenpool.dashboard',
} as const;

export const Views = {
  container: 'tokenpool',
  accounts: 'tokenpool.accounts',
} as const;

export const STATUS_BAR_ID = 'tokenpool.status';
/** The dashboard's webview panel type. */
export const DASHBOARD_PANEL_TYPE = 'tokenpool.dashboard';
export const LOG_CHANNEL_NAME = 'Token Pool';

/** The Language Model Chat Provider's vendor (`vscode.lm.selectChatModels({ vendor })`). */
export const CHAT_VENDOR = 'tokenpool';
/** Opens the Accounts view: the chat provider's management entry (VS Code makes `<view id>.focus`). */
export const CHAT_MANAGEMENT_COMMAND = 'tokenpool.accounts.focus';

export const AUTH_PROVIDER_ID = 'tokenpool-google';
export const AUTH_PROVIDER_LABEL = 'Google (Token Pool)';

/** Context keys set with `setContext`, read by `when` clauses in package.json. */
export const ContextKeys = {
  noAccounts: 'tokenpool.noAccounts',
  oauthClientMissing: 'tokenpool.oauthClientMissing',
  serving: 'tokenpool.serving',
} as const;

/** The `contextValue` of an account row: `account:<state>`, matched with `viewItem =~ /^account:/`. */
export const accountContextValue = (state: string): string => `account:${state}`;

export const SETTINGS_SECTION = 'tokenpool';

/** Setting keys below the `tokenpool.` section. */
export const Settings = {
  dataDir: 'dataDir',
  proxyAutoStart: 'proxy.autoStart',
  proxyHost: 'proxy.host',
  proxyPort: 'proxy.port',
  proxyAuthMode: 'proxy.authMode',
  upstreamKind: 'upstream.kind',
  upstreamProjectId: 'upstream.projectId',
  upstreamLocation: 'upstream.location',
  upstreamBaseUrl: 'upstream.baseUrl',
  oauthClientId: 'oauth.clientId',
  oauthClientSecret: 'oauth.clientSecret',
  oauthAuthUrl: 'oauth.authUrl',
  oauthTokenUrl: 'oauth.tokenUrl',
  oauthUserinfoUrl: 'oauth.userinfoUrl',
  oauthRevokeUrl: 'oauth.revokeUrl',
  routingStrategy: 'routing.strategy',
  routingMaxAttempts: 'routing.maxAttempts',
  routingModelAliases: 'routing.modelAliases',
  routingLimits: 'routing.limits',
} as const;

export type SettingKey = (typeof Settings)[keyof typeof Settings];

/** VS Code's own settings the extension reads (section 7: the editor's proxy). */
export const EditorSettings = {
  httpProxy: 'http.proxy',
  httpNoProxy: 'http.noProxy',
} as const;

export const fullSettingKey = (key: SettingKey): string => `${SETTINGS_SECTION}.${key}`;
