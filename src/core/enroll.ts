/**
 * Bringing an account in: by refresh token, from gcloud's Application Default Credentials, or from
 * a finished OAuth flow. Each ends in the pool's upsert keyed by the email Google's userinfo returns
 * for the new token (DESIGN section 4). Shared by the CLI and the extension.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Account, AccountToken } from './account';
import { describeJsonError, TokenpoolError } from './errors';
import type { GoogleOAuth, OAuthClientCreds, TokenSet, UserInfo } from './oauth';
import type { TokenPool } from './pool';

export interface EnrollResult {
  account: Account;
  created: boolean;
  reenabled: boolean;
}

export interface Placement {
  project_id?: string | null;
  location?: string | null;
}

/** Stores tokens Google just issued for `user` (the token's own userinfo, never a guess). */
export async function enrollTokens(
  pool: TokenPool,
  tokens: TokenSet & { refresh_token: string },
  user: UserInfo,
  placement: Placement = {},
  client?: OAuthClientCreds,
): Promise<EnrollResult> {
  const token: AccountToken = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_in: tokens.expires_in,
    expiry_timestamp: tokens.expiry_timestamp,
    token_type: tokens.token_type,
    ...(client ? { client_id: client.client_id, client_secret: client.client_secret } : {}),
  };
  return pool.upsert({
    email: user.email,
    name: user.name ?? null,
    token,
    ...(placement.project_id ? { project_id: placement.project_id } : {}),
    ...(placement.location ? { location: placement.location } : {}),
  });
}

/** Refresh once (proves the token works and gives an access token), ask who it is, upsert. */
export async function enrollRefreshToken(
  pool: TokenPool,
  oauth: GoogleOAuth,
  refreshToken: string,
  placement: Placement = {},
  client?: OAuthClientCreds,
): Promise<EnrollResult> {
  const tokens = await oauth.refresh(refreshToken, client);
  const user = await oauth.userinfo(tokens.access_token);
  // A refresh grant normally answers without a refresh token: the one we hold stays valid.
  return enrollTokens(pool, { ...tokens, refresh_token: tokens.refresh_token ?? refreshToken }, user, placement, client);
}

export class AdcFileError extends TokenpoolError {
  override readonly code = 'ADC_FILE_INVALID';
}

export interface AdcCredentials {
  client: OAuthClientCreds;
  refreshToken: string;
  quotaProjectId?: string;
}

/** gcloud's default ADC path: $CLOUDSDK_CONFIG or ~/.config/gcloud, application_default_credentials.json. */
export function defaultAdcPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.CLOUDSDK_CONFIG || join(homedir(), '.config', 'gcloud');
  return join(dir, 'application_default_credentials.json');
}

/** Reads an `authorized_user` ADC file (the kind `gcloud auth application-default login` writes). */
export async function readAdcFile(path: string): Promise<AdcCredentials> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AdcFileError(
      code === 'ENOENT'
        ? `no gcloud credentials file: run "gcloud auth application-default login" first, or give the file's path (${path})`
        : `cannot read the gcloud credentials file (${code}): ${path}`,
    );
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new AdcFileError(`the gcloud credentials file is not valid JSON (${describeJsonError(err)}): ${path}`);
  }
  if (raw.type !== 'authorized_user') {
    throw new AdcFileError(
      `the gcloud credentials have type ${JSON.stringify(raw.type)}; only "authorized_user" credentials ` +
        `(from "gcloud auth application-default login") can be imported: ${path}`,
    );
  }
  for (const key of ['client_id', 'client_secret', 'refresh_token']) {
    if (typeof raw[key] !== 'string' || raw[key] === '') throw new AdcFileError(`the gcloud credentials have no "${key}": ${path}`);
  }
  return {
    client: { client_id: raw.client_id as string, client_secret: raw.client_secret as string },
    refreshToken: raw.refresh_token as string,
    ...(typeof raw.quota_project_id === 'string' ? { quotaProjectId: raw.quota_project_id } : {}),
  };
}

/** Imports ADC: its own client, its quota project as the default project. */
export async function enrollAdc(pool: TokenPool, oauth: GoogleOAuth, path: string, placement: Placement = {}): Promise<EnrollResult> {
  const adc = await readAdcFile(path);
  return enrollRefreshToken(
    pool,
    oauth,
    adc.refreshToken,
    { project_id: placement.project_id ?? adc.quotaProjectId ?? null, location: placement.location ?? null },
    adc.client,
  );
}
