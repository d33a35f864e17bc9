/**
 * Who holds a port we could not bind: another tokenpool (a sibling window, or the CLI) answers
 * `GET /healthz` with `"service":"tokenpool"`; anything else is another program. No `vscode` import.
 */
import { Agent, request } from 'undici';
import { baseUrl } from '../core/localUrl';

export type PortHolder = 'tokenpool' | 'other';

export { baseUrl, connectHost } from '../core/localUrl';

/**
 * Asks `GET /healthz` with the shared API key (a sibling reads the same config.json, and
 * `auth_mode: strict` guards healthz too). A direct connection: never through an HTTP proxy.
 */
export async function probePortHolder(bindHost: string, port: number, apiKey: string, timeoutMs = 1500): Promise<PortHolder> {
  const agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const response = await request(`${baseUrl(bindHost, port)}/healthz`, {
      dispatcher: agent,
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.body.text();
    // a tokenpool none of whose accounts can serve answers 503 with the same body
    if (response.statusCode !== 200 && response.statusCode !== 503) return 'other';
    const body = JSON.parse(text) as { service?: unknown };
    return body.service === 'tokenpool' ? 'tokenpool' : 'other';
  } catch {
    return 'other';
  } finally {
    await agent.destroy();
  }
}
