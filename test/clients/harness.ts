/**
 * Real clients against `tokenpool serve` on the fakes. A stack is FakeGoogle (OAuth) + FakeUpstream
 * (Vertex AI / Gemini API) + the built `tokenpool serve --port 0` (dist/cli.js) with a temporary data
 * dir, one account and the given model aliases. A client runs as a child process, installed by
 * scripts/clients-setup.sh at the version in clients.json, in a sandbox of its own: temporary HOME,
 * XDG dirs and working directory, no inherited provider keys, and an npm registry that does not
 * answer (so a client that tries to download something at run time fails loudly instead).
 *
 * A new client is one entry in clients.json plus one test file that calls runClient.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FakeGoogle } from '../fakes/google';
import { FakeUpstream, type UpstreamRequest } from '../fakes/upstream';
import { runCli, startServe, type ServeProcess } from '../helpers/cli';

const ROOT = resolve(__dirname, '../..');
export const API_KEY = 'tp-c11e27c11e27c11e27c11e27c11e27c1';

interface ClientEntry {
  package: string;
  version: string;
  bin: string;
}
/**
 * Where the clients are installed and which versions: the pins (test/clients/clients.json, installed
 * under .cache/clients), or with TOKENPOOL_CLIENTS_DIR (`npm run test:clients -- --latest`) the
 * newest releases that clients-setup.sh installed there and listed in its clients.json.
 */
const CLIENTS_DIR = process.env.TOKENPOOL_CLIENTS_DIR || join(ROOT, '.cache/clients');
const MANIFEST_PATH = process.env.TOKENPOOL_CLIENTS_DIR ? join(CLIENTS_DIR, 'clients.json') : join(__dirname, 'clients.json');
const MANIFEST = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as Record<string, ClientEntry>;

/** The installed binary of a client named in the manifest; throws with the fix when it is missing. */
export function clientBinary(name: string): string {
  const entry = MANIFEST[name];
  if (!entry) throw new Error(`${name} is not in ${MANIFEST_PATH}`);
  const path = join(CLIENTS_DIR, `${name}@${entry.version}`, 'node_modules/.bin', entry.bin);
  if (!existsSync(path)) throw new Error(`${name}@${entry.version} is not installed in ${CLIENTS_DIR}: run bash scripts/clients-setup.sh`);
  return path;
}

/** The version of a client the suite runs (for assertion messages). */
const clientVersion = (name: string): string => MANIFEST[name]?.version ?? 'unknown';

export interface StackOptions {
  upstreamKind?: 'vertex' | 'gemini';
  /** routing.model_aliases in config.json. */
  aliases?: Record<string, string>;
}

export interface Stack {
  /** http://127.0.0.1:PORT of tokenpool serve. */
  url: string;
  port: number;
  apiKey: string;
  upstream: FakeUpstream;
  /** tokenpool serve's log so far. */
  serveLog(): string;
  /** One line per upstream request (method, route, model, status): for assertion messages. */
  describeRequests(): string;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const google = await FakeGoogle.start();
    cleanups.push(() => google.close());
    const upstream = await FakeUpstream.start({ validateToken: (t) => google.isAccessTokenValid(t) });
    cleanups.push(() => upstream.close());
    const dataDir = await fs.mkdtemp(join(tmpdir(), 'tokenpool-clients-'));
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    const config = {
      proxy: { api_key: API_KEY },
      oauth: google.oauthConfig(),
      upstream: { kind: options.upstreamKind ?? 'vertex', base_url: upstream.url, project_id: 'clients-project' },
      routing: { model_aliases: options.aliases ?? {} },
    };
    await fs.writeFile(join(dataDir, 'config.json'), JSON.stringify(config));
    const { refreshToken } = google.addUser('clients@example.com');
    const added = await runCli(['accounts', 'add', '--refresh-token', refreshToken, '--data-dir', dataDir]);
    if (added.code !== 0) throw new Error(`accounts add failed: ${added.stderr}`);
    const serve: ServeProcess = await startServe(['--data-dir', dataDir]);
    cleanups.push(() => serve.stop());
    return {
      url: serve.url,
      port: Number(new URL(serve.url).port),
      apiKey: API_KEY,
      upstream,
      serveLog: () => serve.log(),
      describeRequests: () => upstream.requests.map(describeRequest).join('\n') || '(no upstream requests)',
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

const describeRequest = (r: UpstreamRequest): string =>
  `${r.method} ${r.route} ${r.model ?? '?'} ${r.path.split(':').pop() ?? ''} -> ${r.status ?? 'no status'}`;

export interface Sandbox {
  home: string;
  /** The client's working directory (empty at first). */
  work: string;
  /** HOME, XDG_* and a scrubbed environment for the client. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** Provider variables a developer's shell may carry; never passed to a client under test. */
const SCRUBBED = /^(ANTHROPIC_|CLAUDE_|GEMINI_|GOOGLE_|OPENAI_|OPENCODE|CODEX_|VERTEX|CLOUDSDK_|HTTPS?_PROXY|NO_PROXY|npm_)/i;

export async function makeSandbox(name: string): Promise<Sandbox> {
  const base = await fs.mkdtemp(join(tmpdir(), `client-${name}-`));
  const home = join(base, 'home');
  const work = join(base, 'work');
  const xdg = {
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_STATE_HOME: join(home, '.local/state'),
  };
  for (const dir of [home, work, ...Object.values(xdg)]) await fs.mkdir(dir, { recursive: true });
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SCRUBBED.test(key)));
  return {
    home,
    work,
    env: {
      ...inherited,
      HOME: home,
      USERPROFILE: home,
      // Bun-built clients (opencode) take their project directory from PWD, not from the cwd.
      PWD: work,
      ...xdg,
      TMPDIR: base,
      NO_COLOR: '1',
      CI: '1',
      // Nothing is downloaded while a client runs: clients-setup.sh installed everything it needs.
      npm_config_registry: 'http://127.0.0.1:9/',
    },
    close: () => fs.rm(base, { recursive: true, force: true }),
  };
}

export interface ClientRun {
  /** `name version`, as installed. */
  client: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  sandbox: Sandbox;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Written to the client's stdin, which is then closed (default: closed at once). */
  stdin?: string;
}

/** Runs a client to completion in its sandbox; one still running after the timeout is killed. */
export async function runClient(name: string, args: string[], options: RunOptions): Promise<ClientRun> {
  const started = Date.now();
  const child = spawn(clientBinary(name), args, {
    cwd: options.sandbox.work,
    env: { ...options.sandbox.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdin.end(options.stdin ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, options.timeoutMs ?? 120_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  // The client's own children (a shell it started, a language server) go with it.
  killGroup(child.pid);
  return { client: `${name} ${clientVersion(name)}`, code, signal, timedOut, stdout, stderr, ms: Date.now() - started };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A run's output, the proxy log and the upstream requests, for an assertion message. */
export function explain(run: ClientRun, stack: Stack): string {
  const tail = (text: string): string => (text.length > 4000 ? '…' + text.slice(-4000) : text);
  return [
    `${run.client}: exit ${run.code}${run.signal ? ` (${run.signal})` : ''}${run.timedOut ? ' after the timeout' : ''} in ${run.ms} ms`,
    `--- stdout\n${tail(run.stdout)}`,
    `--- stderr\n${tail(run.stderr)}`,
    `--- upstream requests\n${stack.describeRequests()}`,
    `--- tokenpool serve log\n${tail(stack.serveLog())}`,
  ].join('\n');
}

/** Tool declarations of a Gemini request body, by name. */
export function geminiFunctionNames(body: unknown): string[] {
  const tools = (body as { tools?: { functionDeclarations?: { name: string }[] }[] }).tools ?? [];
  return tools.flatMap((t) => t.functionDeclarations ?? []).map((f) => f.name);
}

/** Whether any Gemini content of a request body holds a functionResponse part. */
export function hasFunctionResponse(body: unknown): boolean {
  const contents = (body as { contents?: { parts?: object[] }[] }).contents ?? [];
  return contents.some((c) => (c.parts ?? []).some((p) => 'functionResponse' in p));
}

/** The thoughtSignature on the first model functionCall part a Gemini request body sends back. */
export function returnedCallSignature(body: unknown): string | undefined {
  const contents = (body as { contents?: { role: string; parts?: { functionCall?: object; thoughtSignature?: string }[] }[] }).contents ?? [];
  const called = contents.filter((c) => c.role === 'model').flatMap((c) => c.parts ?? []).find((p) => p.functionCall);
  return called?.thoughtSignature;
}
