/**
 * The dashboard's reader of a running tokenpool's admin API (DESIGN sections 8 and 11): accounts,
 * usage, requests and the live follow of requests. The same whether this window serves, another
 * window does or the CLI does. A direct connection to the loopback address (never through an HTTP
 * proxy), the API key as a bearer token. No `vscode` import.
 */
import { StringDecoder } from 'node:string_decoder';
import { createParser } from 'eventsource-parser';
import { Agent, request } from 'undici';
import { TokenpoolError } from '../../core/errors';
import type { AccountCard, RequestRecord, UsageAnswer } from '../../webview/dashboard/protocol';

/** An admin API answer that is not a 200 with the documented JSON. */
export class AdminApiError extends TokenpoolError {
  override readonly code = 'ADMIN_API';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface Follow {
  /** Ends the follow; the promise of `follow()` then resolves. */
  close(): void;
  /** Resolves when the stream ends (closed here, or by the server); rejects when it could not start or broke. */
  done: Promise<void>;
}

const TIMEOUT_MS = 10_000;

export class AdminClient {
  private readonly agent = new Agent({ connect: { timeout: TIMEOUT_MS }, keepAliveTimeout: 10_000 });

  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  /** True when this client reads `baseUrl` with `apiKey` (a changed key needs a new client). */
  reads(baseUrl: string, apiKey: string): boolean {
    return this.baseUrl === baseUrl && this.apiKey === apiKey;
  }

  async accounts(): Promise<AccountCard[]> {
    const body = await this.getJson<{ accounts?: unknown }>('/admin/accounts');
    if (!Array.isArray(body.accounts)) throw new AdminApiError('GET /admin/accounts: the answer has no "accounts" list');
    return body.accounts as AccountCard[];
  }

  async usage(query: { since: string; by: string }): Promise<UsageAnswer> {
    const body = await this.getJson<Partial<UsageAnswer>>(`/admin/usage?${new URLSearchParams(query).toString()}`);
    if (!Array.isArray(body.rows)) throw new AdminApiError('GET /admin/usage: the answer has no "rows" list');
    return body as UsageAnswer;
  }

  async requests(query: string): Promise<RequestRecord[]> {
    const body = await this.getJson<{ requests?: unknown }>(`/admin/requests?${query}`);
    if (!Array.isArray(body.requests)) throw new AdminApiError('GET /admin/requests: the answer has no "requests" list');
    return body.requests as RequestRecord[];
  }

  /**
   * `GET /admin/requests` with `Accept: text/event-stream`: calls `onOpen` once the server has
   * answered 200, then `onRequest` for each new request, until closed.
   */
  follow(onRequest: (record: RequestRecord) => void, onOpen?: () => void): Follow {
    const controller = new AbortController();
    const done = (async () => {
      // limit=1: the follow first repeats the last requests; the page has them from requests() already.
      const response = await request(`${this.baseUrl}/admin/requests?limit=1`, {
        dispatcher: this.agent,
        headers: { ...this.auth(), accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (response.statusCode !== 200) {
        const text = await response.body.text();
        throw new AdminApiError(`GET /admin/requests (follow) answered ${response.statusCode}: ${errorText(text)}`, response.statusCode);
      }
      onOpen?.();
      const parser = createParser({
        onEvent: (event) => {
          const record = parseRecord(event.data);
          if (record) onRequest(record);
        },
      });
      const decoder = new StringDecoder('utf8');
      for await (const chunk of response.body) parser.feed(decoder.write(chunk as Buffer));
    })().catch((err: unknown) => {
      if (controller.signal.aborted) return;
      throw err;
    });
    return { close: () => controller.abort(), done };
  }

  dispose(): void {
    void this.agent.destroy().catch(() => undefined);
  }

  private auth(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async getJson<T>(path: string): Promise<T> {
    const route = `GET ${path.split('?')[0]}`;
    let status: number;
    let text: string;
    try {
      const response = await request(`${this.baseUrl}${path}`, {
        dispatcher: this.agent,
        headers: { ...this.auth(), accept: 'application/json' },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (err) {
      throw new AdminApiError(`${route}: ${(err as Error).message}`);
    }
    if (status !== 200) throw new AdminApiError(`${route} answered ${status}: ${errorText(text)}`, status);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AdminApiError(`${route}: the answer is not JSON`);
    }
  }
}

/** One event of the follow: the record itself, or `{"request": record}`; anything else is skipped. */
function parseRecord(data: string): RequestRecord | undefined {
  try {
    const value = JSON.parse(data) as { request?: RequestRecord } & Partial<RequestRecord>;
    const record = value.request ?? value;
    return typeof record.id === 'string' && record.time !== undefined ? (record as RequestRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The `error.message` of a JSON error answer, else the start of the text. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string };
    if (typeof body.error === 'string') return body.error;
    if (body.error?.message) return body.error.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
