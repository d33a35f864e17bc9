/**
 * The one configuration shape (DESIGN section 7) for the CLI's config.json and the extension's
 * `tokenpool.*` settings. A bad file is a ConfigError naming the key and the expected type, and is
 * never overwritten.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, DataDirError, describeJsonError } from './errors';
import { writeFileAtomic } from './fsutil';
import { checkLimits, type Limits } from './usage/limits';

export type AuthMode = 'all_except_health' | 'strict' | 'off';
export type UpstreamKind = 'vertex' | 'gemini';
export type RoutingStrategy = 'round-robin' | 'fill-first';

export interface Config {
  proxy: {
    host: string;
    port: number;
    api_key: string;
    auth_mode: AuthMode;
    allowed_hosts: string[];
    allowed_origins: string[];
    max_body_bytes: number;
    request_timeout_s: number;
  };
  oauth: {
    client_id: string;
    client_secret: string;
    auth_url: string;
    token_url: string;
    userinfo_url: string;
    revoke_url: string;
    scopes: string[];
  };
  upstream: {
    kind: UpstreamKind;
    base_url: string | null;
    project_id: string;
    location: string;
    models: string[];
  };
  routing: {
    strategy: RoutingStrategy;
    /** 0 = every eligible account. */
    max_attempts: number;
    max_wait_s: number;
    refresh_skew_s: number;
    /** Client model name or `*` glob → upstream model (DESIGN section 10); see core/models.ts. */
    model_aliases: Record<string, string>;
    /** Per-account request and token limits by model glob (DESIGN section 11); see core/usage/limits.ts. */
    limits: Limits;
  };
  network: {
    https_proxy: string | null;
    no_proxy: string | null;
  };
  /** The request history on disk (DESIGN section 11). */
  logging: {
    /** Days of request history files kept (0: none written). */
    history_days: number;
    /** The most one day's history file grows to, in MB. */
    history_max_mb: number;
    /** Keep each request's and answer's body with its record (64 KB each, images and signatures elided). */
    capture_bodies: boolean;
  };
}

export function defaultConfig(): Config {
  return {
    proxy: {
      host: '127.0.0.1',
      port: 8046,
      api_key: '',
      auth_mode: 'all_except_health',
      allowed_hosts: [],
      allowed_origins: [],
      max_body_bytes: 32 * 1024 * 1024,
      request_timeout_s: 300,
    },
    oauth: {
      client_id: '',
      client_secret: '',
      auth_url: 'https://accounts.google.com/o/oauth2/v2/auth',
      token_url: 'https://oauth2.googleapis.com/token',
      userinfo_url: 'https://openidconnect.googleapis.com/v1/userinfo',
      revoke_url: 'https://oauth2.googleapis.com/revoke',
      scopes: ['openid', 'email', 'https://www.googleapis.com/auth/cloud-platform'],
    },
    upstream: {
      kind: 'vertex',
      base_url: null,
      project_id: '',
      location: 'us-central1',
      models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
    },
    routing: { strategy: 'round-robin', max_attempts: 3, max_wait_s: 5, refresh_skew_s: 300, model_aliases: {}, limits: {} },
    network: { https_proxy: null, no_proxy: null },
    logging: { history_days: 7, history_max_mb: 50, capture_bodies: false },
  };
}

export const generateApiKey = (): string => 'tp-' + randomBytes(16).toString('hex');

/** What each key may hold; checked against a parsed file or settings object. */
type Rule =
  | 'string'
  | 'boolean'
  | 'nullable-string'
  | 'string[]'
  | 'port'
  | 'non-negative-integer'
  | 'positive-integer'
  | 'string-map'
  | 'limits'
  | readonly string[];

const rules: { [S in keyof Config]: { [K in keyof Config[S]]: Rule } } = {
  proxy: {
    host: 'string',
    port: 'port',
    api_key: 'string',
    auth_mode: ['all_except_health', 'strict', 'off'],
    allowed_hosts: 'string[]',
    allowed_origins: 'string[]',
    max_body_bytes: 'positive-integer',
    request_timeout_s: 'positive-integer',
  },
  oauth: {
    client_id: 'string',
    client_secret: 'string',
    auth_url: 'string',
    token_url: 'string',
    userinfo_url: 'string',
    revoke_url: 'string',
    scopes: 'string[]',
  },
  upstream: {
    kind: ['vertex', 'gemini'],
    base_url: 'nullable-string',
    project_id: 'string',
    location: 'string',
    models: 'string[]',
  },
  routing: {
    strategy: ['round-robin', 'fill-first'],
    max_attempts: 'non-negative-integer',
    max_wait_s: 'non-negative-integer',
    refresh_skew_s: 'non-negative-integer',
    model_aliases: 'string-map',
    limits: 'limits',
  },
  network: { https_proxy: 'nullable-string', no_proxy: 'nullable-string' },
  logging: { history_days: 'non-negative-integer', history_max_mb: 'positive-integer', capture_bodies: 'boolean' },
};

function describe(rule: Rule): string {
  if (Array.isArray(rule)) return `one of ${rule.map((r) => JSON.stringify(r)).join(', ')}`;
  switch (rule) {
    case 'string': return 'a string';
    case 'boolean': return 'true or false';
    case 'nullable-string': return 'a string or null';
    case 'string[]': return 'an array of strings';
    case 'port': return 'an integer from 0 to 65535';
    case 'non-negative-integer': return 'an integer ≥ 0';
    case 'positive-integer': return 'an integer ≥ 1';
    case 'string-map': return 'an object of non-empty strings (model name or glob → upstream model)';
    case 'limits': return 'an object of model name or glob → {"rpm", "tpm", "rpd": integers ≥ 1}';
  }
  return String(rule);
}

function matches(rule: Rule, value: unknown): boolean {
  if (Array.isArray(rule)) return typeof value === 'string' && rule.includes(value);
  switch (rule) {
    case 'string': return typeof value === 'string';
    case 'boolean': return typeof value === 'boolean';
    case 'nullable-string': return value === null || typeof value === 'string';
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'port': return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
    case 'non-negative-integer': return Number.isInteger(value) && (value as number) >= 0;
    case 'positive-integer': return Number.isInteger(value) && (value as number) >= 1;
    case 'string-map': return isObject(value) && Object.values(value).every((v) => typeof v === 'string' && v !== '');
    case 'limits': return checkLimits(value).length === 0;
  }
  return false;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Overlays a partial config (a parsed file, or settings) on the defaults, checking every key.
 * `source` names where it came from for the error message. Unknown keys are errors too: a typo
 * that silently does nothing is worse than a clear message.
 */
export function parseConfig(input: unknown, source: string, base: Config = defaultConfig()): Config {
  if (!isObject(input)) throw new ConfigError(`${source}: expected a JSON object at the top level`);
  const out = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
  for (const [section, value] of Object.entries(input)) {
    const sectionRules = (rules as Record<string, Record<string, Rule>>)[section];
    if (!sectionRules) {
      throw new ConfigError(`${source}: unknown section "${section}" (expected one of ${Object.keys(rules).join(', ')})`);
    }
    if (!isObject(value)) throw new ConfigError(`${source}: "${section}" must be an object`);
    for (const [key, v] of Object.entries(value)) {
      const rule = sectionRules[key];
      if (!rule) throw new ConfigError(`${source}: unknown key "${section}.${key}"`);
      if (rule === 'limits' && !matches(rule, v)) {
        throw new ConfigError(`${source}: "${section}.${key}": ${checkLimits(v).join('; ')}`);
      }
      if (!matches(rule, v)) {
        throw new ConfigError(`${source}: "${section}.${key}" must be ${describe(rule)}, got ${JSON.stringify(v)}`);
      }
      out[section][key] = v;
    }
  }
  const config = out as unknown as Config;
  validateConfig(config, source);
  return config;
}

/** Checks that cross keys: a non-loopback bind needs authentication. */
export function validateConfig(config: Config, source: string): void {
  if (!isLoopbackHost(config.proxy.host) && config.proxy.auth_mode === 'off') {
    throw new ConfigError(
      `${source}: "proxy.auth_mode" is "off" but "proxy.host" ${config.proxy.host} is not a loopback address; ` +
        'set auth_mode to "all_except_health" or "strict", or bind to 127.0.0.1',
    );
  }
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `--data-dir`, else `TOKENPOOL_DATA_DIR`, else the setting, else `~/.tokenpool`. */
export function resolveDataDir(flag?: string | null, env: NodeJS.ProcessEnv = process.env, setting?: string | null): string {
  const chosen = flag || env.TOKENPOOL_DATA_DIR || setting || join(homedir(), '.tokenpool');
  return resolve(chosen.replace(/^~(?=$|\/)/, homedir()));
}

/** Creates the data directory (0700) and its accounts/ folder. */
export async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await fs.mkdir(join(dataDir, 'accounts'), { recursive: true, mode: 0o700 });
    await fs.chmod(dataDir, 0o700);
    await fs.access(dataDir, fs.constants.R_OK | fs.constants.W_OK);
  } catch (err) {
    throw new DataDirError(`cannot use data directory ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

export const configPath = (dataDir: string): string => join(dataDir, 'config.json');

/**
 * Loads `<dataDir>/config.json` over the defaults. On first run (no file) writes one with a fresh
 * API key (0600). A file without `proxy.api_key` gets one added, everything else kept as written.
 * A file that does not parse or validate throws ConfigError and is left exactly as it is.
 */
export async function loadConfig(dataDir: string): Promise<Config> {
  await ensureDataDir(dataDir);
  const file = configPath(dataDir);
  let text: string | undefined;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
    }
  }
  if (text === undefined) {
    const config = defaultConfig();
    config.proxy.api_key = generateApiKey();
    await writeFileAtomic(file, JSON.stringify({ proxy: { api_key: config.proxy.api_key } }, null, 2) + '\n', 0o600);
    return config;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${describeJsonError(err)}); fix or remove the file`);
  }
  const config = parseConfig(raw, file);
  if (!config.proxy.api_key) {
    config.proxy.api_key = generateApiKey();
    const updated = raw as Record<string, Record<string, unknown>>;
    updated.proxy = { ...(updated.proxy ?? {}), api_key: config.proxy.api_key };
    await writeFileAtomic(file, JSON.stringify(updated, null, 2) + '\n', 0o600);
  }
  return config;
}
