/**
 * How `tokenpool.*` settings map onto the one Config shape (DESIGN section 7). Pure: no `vscode`
 * import, so it is tested with plain `node --test`.
 *
 * Precedence: a setting the user has set (to a non-empty value) wins over config.json, which wins
 * over the defaults. An empty string counts as "not set", so clearing a setting in the Settings
 * editor falls back to config.json. The editor's own `http.proxy` / `http.noProxy` fill
 * `network.*` only when neither config.json nor the environment names a proxy.
 */
import { defaultConfig, parseConfig, type Config } from '../core/config';
import { fullSettingKey, type SettingKey } from './ids';

/** Only the settings the user has set; a missing key means "not set". */
export type SettingsValues = Partial<Record<SettingKey, unknown>>;

export interface EditorProxySettings {
  /** VS Code's `http.proxy`. */
  httpProxy?: unknown;
  /** VS Code's `http.noProxy` (an array of hosts). */
  noProxy?: unknown;
}

type Target = { [S in keyof Config]: { section: S; key: keyof Config[S] } }[keyof Config];

/** Setting key → config key. `dataDir` and `proxy.autoStart` are the extension's own, not Config's. */
export const settingTargets: Partial<Record<SettingKey, Target>> = {
  'proxy.host': { section: 'proxy', key: 'host' },
  'proxy.port': { section: 'proxy', key: 'port' },
  'proxy.authMode': { section: 'proxy', key: 'auth_mode' },
  'upstream.kind': { section: 'upstream', key: 'kind' },
  'upstream.projectId': { section: 'upstream', key: 'project_id' },
  'upstream.location': { section: 'upstream', key: 'location' },
  'upstream.baseUrl': { section: 'upstream', key: 'base_url' },
  'oauth.clientId': { section: 'oauth', key: 'client_id' },
  'oauth.clientSecret': { section: 'oauth', key: 'client_secret' },
  'oauth.authUrl': { section: 'oauth', key: 'auth_url' },
  'oauth.tokenUrl': { section: 'oauth', key: 'token_url' },
  'oauth.userinfoUrl': { section: 'oauth', key: 'userinfo_url' },
  'oauth.revokeUrl': { section: 'oauth', key: 'revoke_url' },
  'routing.strategy': { section: 'routing', key: 'strategy' },
  'routing.maxAttempts': { section: 'routing', key: 'max_attempts' },
  'routing.modelAliases': { section: 'routing', key: 'model_aliases' },
  'routing.limits': { section: 'routing', key: 'limits' },
};

/** An empty string or an empty object (a cleared setting) counts as "not set". */
const isSet = (value: unknown): boolean =>
  value !== undefined &&
  value !== null &&
  value !== '' &&
  !(typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);

const envNamesProxy = (env: NodeJS.ProcessEnv): boolean =>
  ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((name) => isSet(env[name]));

/**
 * Overlays the set settings on `base` (config.json over the defaults). Throws ConfigError naming
 * the setting (`tokenpool.proxy.port`) and the expected type when one is wrong.
 */
export function settingsToConfig(
  values: SettingsValues,
  base: Config,
  editor: EditorProxySettings = {},
  env: NodeJS.ProcessEnv = {},
): Config {
  const overlay: Record<string, Record<string, unknown>> = {};
  for (const [setting, target] of Object.entries(settingTargets) as [SettingKey, Target][]) {
    const value = values[setting];
    if (!isSet(value)) continue;
    // Type check one setting at a time (over the defaults, so only its own type is judged) to name it.
    parseConfig({ [target.section]: { [target.key]: value } }, `setting ${fullSettingKey(setting)}`, defaultConfig());
    // Aliases and limits from the setting are added to config.json's (the setting wins on the same name).
    const merged =
      target.key === 'model_aliases' ? { ...base.routing.model_aliases, ...(value as Record<string, string>) }
      : target.key === 'limits' ? { ...base.routing.limits, ...(value as Config['routing']['limits']) }
      : value;
    overlay[target.section] = { ...overlay[target.section], [target.key]: merged };
  }

  if (base.network.https_proxy === null && !envNamesProxy(env) && typeof editor.httpProxy === 'string' && editor.httpProxy) {
    overlay.network = { https_proxy: editor.httpProxy };
    const noProxy = Array.isArray(editor.noProxy) ? editor.noProxy.filter((h): h is string => typeof h === 'string' && h !== '') : [];
    if (base.network.no_proxy === null && noProxy.length > 0) overlay.network.no_proxy = noProxy.join(',');
  }

  return parseConfig(overlay, 'tokenpool.* settings over config.json', base);
}
