/** `tokenpool login`: Google sign-in in the system browser (loopback redirect, PKCE), then upsert. */
import { spawn } from 'node:child_process';
import { ConfigError } from '../core/errors';
import { enrollTokens } from '../core/enroll';
import { runLoopbackFlow } from '../core/loopback';
import { configPath } from '../core/config';
import type { CliContext } from './context';
import { report } from './accounts';

export async function runLogin(ctx: CliContext, flags: { project?: string; location?: string }): Promise<number> {
  if (!ctx.config.oauth.client_id) {
    throw new ConfigError(
      `no OAuth client configured: create a "Desktop app" OAuth client in your Google Cloud project and set ` +
        `"oauth.client_id" and "oauth.client_secret" in ${configPath(ctx.dataDir)}`,
    );
  }
  const { tokens, user } = await runLoopbackFlow({
    oauth: ctx.oauth,
    openUrl: (url) => {
      console.error(`Open this URL in your browser to sign in (waiting up to 5 minutes):\n\n  ${url}\n`);
      openBrowser(url);
    },
  });
  return report(
    await enrollTokens(ctx.pool, tokens, user, { project_id: flags.project ?? null, location: flags.location ?? null }),
  );
}

/** Best effort: the URL is printed anyway, so a missing opener is not an error. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener on this machine; the printed URL is the way in.
  }
}
