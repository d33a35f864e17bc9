/**
 * Drives a real VS Code for the end-to-end tests: code-server (installed by scripts/e2e-setup.sh)
 * with Debian's chromium through playwright-core, as measured in /work/shared/E2E.md.
 *
 * One VSCodeSession is one code-server in its own process group (Node's `detached` spawn is
 * setsid(2)) with temporary user-data, extensions, XDG and workspace folders, the given .vsix files
 * plus the probe extension (test/e2e-probe-extension) installed, and one chromium page on its
 * workbench. Always `stop()` it (in `after`): that closes the browser, kills the whole process group
 * (`kill -- -PGID`; killing the main process alone leaves a file-watcher child), copies the logs to
 * test-results/e2e/ and removes the folders. A test process that exits or is interrupted kills the
 * groups of any session it did not stop. Everything a run leaves goes to test-results/e2e/ (git-ignored;
 * a session's files of an earlier run are removed when it launches), never into a tracked file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, promises as fs, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const repoRoot = path.resolve(__dirname, '../..');
export const resultsDir = path.join(repoRoot, 'test-results', 'e2e');
/** The host name the browser resolves to 127.0.0.1 (code-server rewrites localhost URLs in openExternal). */
export const FAKE_GOOGLE_HOST = 'fake-google.test';

const setupFile = path.join(repoRoot, '.cache', 'e2e.json');
const vsce = path.join(repoRoot, 'node_modules', '.bin', 'vsce');
const probeSource = path.join(repoRoot, 'test', 'e2e-probe-extension');

const browserArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  `--host-resolver-rules=MAP ${FAKE_GOOGLE_HOST} 127.0.0.1`,
];

/** User settings every session starts with: no welcome page, tips, update checks or telemetry. */
const baseSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
  'remote.autoForwardPorts': false,
};

export interface LaunchOptions {
  /** Names this session's screenshots (`<name>-<shot>.png`) and logs in test-results/e2e/. */
  name: string;
  /** .vsix files to install (`--install-extension X --force`); the probe extension is always added. */
  extensions: string[];
  /** Extra environment for code-server and so for the extension host (e.g. TOKENPOOL_DATA_DIR). */
  env?: Record<string, string>;
  /** User settings.json, written before code-server starts, on top of `baseSettings`. */
  settings?: Record<string, unknown>;
  /** Milliseconds to wait for the workbench and the extension host; default 60 000. */
  startTimeoutMs?: number;
}

export interface Timings {
  installMs: number;
  /** spawn until GET /healthz answers 200 */
  serverStartMs: number;
  /** page.goto until `.monaco-workbench` is there */
  workbenchMs: number;
  /** page.goto until the extension host runs the probe extension */
  extensionHostMs: number;
}

export interface TreeRow {
  label: string;
  description: string;
  /** The accessible label VS Code builds from the item (its `accessibilityInformation` or label). */
  ariaLabel: string;
  /** Classes of the row's icon element (e.g. `codicon codicon-error`), '' when it has none. */
  iconClass: string;
  /** The icon's inline colour, when the item's ThemeIcon has one. */
  iconColor: string;
}

export interface Notification {
  message: string;
  source: string;
  buttons: string[];
}

/** The few DOM members the page functions below use (the project compiles without the DOM lib). */
interface PageElement {
  innerText: string;
  className: string;
  style: { color: string };
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

/** What scripts/e2e-setup.sh wrote: code-server, chromium, and the Node (22) that code-server runs on. */
export interface SetupInfo { codeServer: string; chromium: string; codeServerVersion: string; nodeBin: string }

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function readSetup(): SetupInfo {
  if (!existsSync(setupFile)) {
    throw new Error(`${setupFile} is missing: run scripts/e2e-setup.sh first (installs code-server and chromium)`);
  }
  const info = JSON.parse(readFileSync(setupFile, 'utf8')) as SetupInfo;
  if (!info.nodeBin) throw new Error(`${setupFile} names no Node for code-server (an older setup): run scripts/e2e-setup.sh again`);
  for (const bin of [info.codeServer, info.chromium, path.join(info.nodeBin, 'node')]) {
    if (!existsSync(bin)) throw new Error(`${bin} (from ${setupFile}) is missing: run scripts/e2e-setup.sh again`);
  }
  return info;
}

/**
 * The product's .vsix: $TOKENPOOL_E2E_VSIX, else dist/tokenpool.vsix built by `npm run package`.
 * Missing, or older than a file in src/ or package.json, is an error, never a skip.
 */
export function productVsix(): string {
  const fromEnv = process.env.TOKENPOOL_E2E_VSIX;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TOKENPOOL_E2E_VSIX=${fromEnv} does not exist`);
    return path.resolve(fromEnv);
  }
  const vsix = path.join(repoRoot, 'dist', 'tokenpool.vsix');
  if (!existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\` (or set TOKENPOOL_E2E_VSIX)`);
  const built = statSync(vsix).mtimeMs;
  const sources = [path.join(repoRoot, 'package.json'), ...listFiles(path.join(repoRoot, 'src'))];
  const newer = sources.find((file) => statSync(file).mtimeMs > built);
  if (newer) throw new Error(`${vsix} is older than ${path.relative(repoRoot, newer)}: run \`npm run package\` again`);
  return vsix;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)]);
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}

/** Packages an extension folder with the repo's vsce (no dependencies, no prompts) into `outFile`. */
export async function packageExtension(folder: string, outFile: string): Promise<string> {
  await run(vsce, ['package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '-o', outFile], { cwd: folder });
  return outFile;
}

/** Bundles test/e2e-probe-extension (TypeScript) into `dir` and packages it there. */
async function packageProbe(dir: string): Promise<string> {
  const folder = path.join(dir, 'probe-extension');
  await fs.mkdir(folder, { recursive: true });
  await fs.copyFile(path.join(probeSource, 'package.json'), path.join(folder, 'package.json'));
  await build({
    entryPoints: [path.join(probeSource, 'extension.ts')], outfile: path.join(folder, 'extension.js'),
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], logLevel: 'warning',
  });
  return packageExtension(folder, path.join(dir, 'probe.vsix'));
}

/**
 * Environment for code-server: ours, minus what would make it talk to another VS Code or node:test,
 * with the setup's Node first on PATH (code-server's `#!/usr/bin/env node` and its extension host run
 * on it; the tests themselves keep the machine's Node).
 */
export function codeServerEnv(setup: SetupInfo, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('VSCODE_') || key === 'NODE_OPTIONS' || key === 'NODE_TEST_CONTEXT' || key === 'ELECTRON_RUN_AS_NODE') continue;
    env[key] = value;
  }
  return { ...env, ...extra, PATH: [setup.nodeBin, extra.PATH ?? process.env.PATH ?? ''].join(path.delimiter) };
}

const live = new Set<VSCodeSession>();
let exitHooksInstalled = false;
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = (): void => {
    for (const session of live) {
      session.killGroup('SIGKILL');
      rmSync(session.dirs.root, { recursive: true, force: true });
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { killAll(); process.exit(signal === 'SIGINT' ? 130 : 143); });
  }
}

export async function launchVSCode(options: LaunchOptions): Promise<VSCodeSession> {
  const setup = readSetup();
  installExitHooks();
  await removeArtifacts(options.name);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `tokenpool-e2e-${options.name}-`));
  const session = new VSCodeSession(options.name, root, setup);
  try {
    await session.start(options);
    return session;
  } catch (error) {
    await session.screenshot('launch-failed').catch(() => undefined);
    await session.stop();
    throw error;
  }
}

/** Removes a session's screenshots and logs of an earlier run from test-results/e2e/. */
async function removeArtifacts(name: string): Promise<void> {
  const old = await fs.readdir(resultsDir).catch(() => [] as string[]);
  for (const file of old.filter((f) => f.startsWith(`${name}-`))) await fs.rm(path.join(resultsDir, file), { recursive: true, force: true });
}

export class VSCodeSession {
  readonly dirs: { root: string; userData: string; extensions: string; probe: string; workspace: string };
  readonly timings: Timings = { installMs: 0, serverStartMs: 0, workbenchMs: 0, extensionHostMs: 0 };
  url = '';
  private child: ChildProcess | undefined;
  private browser: Browser | undefined;
  private contextValue: BrowserContext | undefined;
  private pageValue: Page | undefined;
  private readonly serverLog: string;
  private requestCount = 0;
  private stopped = false;

  constructor(readonly name: string, root: string, private readonly setup: SetupInfo) {
    this.dirs = {
      root,
      userData: path.join(root, 'user-data'),
      extensions: path.join(root, 'extensions'),
      probe: path.join(root, 'probe'),
      workspace: path.join(root, 'workspace'),
    };
    this.serverLog = path.join(root, 'code-server.log');
  }

  get page(): Page {
    if (!this.pageValue) throw new Error('the workbench page is not open');
    return this.pageValue;
  }

  get context(): BrowserContext {
    if (!this.contextValue) throw new Error('the browser is not running');
    return this.contextValue;
  }

  /** @internal used by launchVSCode */
  async start(options: LaunchOptions): Promise<void> {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    for (const dir of Object.values(this.dirs)) await fs.mkdir(dir, { recursive: true });
    await fs.mkdir(path.join(this.dirs.userData, 'User'), { recursive: true });
    await fs.writeFile(path.join(this.dirs.userData, 'User', 'settings.json'),
      JSON.stringify({ ...baseSettings, ...options.settings }, null, 2));
    const env = codeServerEnv(this.setup, {
      XDG_CONFIG_HOME: path.join(this.dirs.root, 'xdg-config'),
      XDG_DATA_HOME: path.join(this.dirs.root, 'xdg-data'),
      TOKENPOOL_PROBE_DIR: this.dirs.probe,
      ...options.env,
    });
    const common = ['--user-data-dir', this.dirs.userData, '--extensions-dir', this.dirs.extensions];

    let t = Date.now();
    const probeVsix = await packageProbe(this.dirs.root);
    const installs = [...options.extensions, probeVsix].flatMap((vsix) => ['--install-extension', vsix]);
    await run(this.setup.codeServer, [...common, ...installs, '--force'], { env });
    this.timings.installMs = Date.now() - t;

    t = Date.now();
    const log = openSync(this.serverLog, 'a');
    try {
      this.child = spawn(this.setup.codeServer, [
        '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check',
        '--disable-workspace-trust', '--disable-getting-started-override', ...common, this.dirs.workspace,
      ], { env, detached: true, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    live.add(this);
    const child = this.child;
    child.unref();
    const port = await this.waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`code-server exited (${child.signalCode ?? child.exitCode}) before listening:\n${await this.logTail()}`);
      }
      const match = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(await fs.readFile(this.serverLog, 'utf8'));
      return match ? Number(match[1]) : undefined;
    }, { timeoutMs, message: 'code-server did not print its address', screenshot: false });
    this.url = `http://127.0.0.1:${port}`;
    await this.waitFor(async () => (await fetch(`${this.url}/healthz`).catch(() => undefined))?.ok,
      { timeoutMs, message: 'code-server /healthz did not answer', screenshot: false });
    this.timings.serverStartMs = Date.now() - t;

    t = Date.now();
    this.browser = await chromium.launch({ executablePath: this.setup.chromium, args: browserArgs });
    this.contextValue = await this.browser.newContext({ viewport: { width: 1280, height: 800 } });
    this.pageValue = await this.contextValue.newPage();
    await this.page.goto(this.url, { timeout: timeoutMs });
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    this.timings.workbenchMs = Date.now() - t;
    await this.waitFor(() => existsSync(path.join(this.dirs.probe, 'ready.json')),
      { timeoutMs, message: 'the extension host did not start the probe extension' });
    this.timings.extensionHostMs = Date.now() - t;
  }

  /**
   * Reloads the workbench page: a new window with a new extension host (the old one is shut down
   * with its extensions). Waits until the probe extension runs again.
   */
  async reloadWindow(timeoutMs = 60_000): Promise<void> {
    const ready = path.join(this.dirs.probe, 'ready.json');
    await fs.rm(ready, { force: true });
    await this.page.reload({ timeout: timeoutMs });
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    await this.waitFor(() => existsSync(ready), { timeoutMs, message: 'the extension host did not start the probe extension after the reload' });
  }

  /** Kills the process group now (synchronous; also used at process exit). */
  killGroup(signal: NodeJS.Signals | 0): boolean {
    const pid = this.child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.browser?.close().catch(() => undefined);
    if (this.killGroup('SIGTERM')) {
      const deadline = Date.now() + 5000;
      while (this.killGroup(0) && Date.now() < deadline) await sleep(100);
      this.killGroup('SIGKILL');
    }
    live.delete(this);
    await this.saveLogs().catch(() => undefined);
    await fs.rm(this.dirs.root, { recursive: true, force: true, maxRetries: 3 });
  }

  /** code-server's output and the window / extension-host logs, to test-results/e2e/<name>-logs/. */
  private async saveLogs(): Promise<void> {
    const target = path.join(resultsDir, `${this.name}-logs`);
    await fs.rm(target, { recursive: true, force: true });
    await fs.mkdir(target, { recursive: true });
    await fs.copyFile(this.serverLog, path.join(target, 'code-server.log')).catch(() => undefined);
    await fs.cp(path.join(this.dirs.userData, 'logs'), path.join(target, 'logs'), { recursive: true }).catch(() => undefined);
  }

  private async logTail(): Promise<string> {
    const text = await fs.readFile(this.serverLog, 'utf8').catch(() => '');
    return text.split('\n').slice(-30).join('\n');
  }

  /**
   * Polls `predicate` until it returns a truthy value and returns that value. On timeout, takes a
   * screenshot (unless told not to) and throws with `message` and the last value or error.
   */
  async waitFor<T>(predicate: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; message?: string; screenshot?: boolean } = {}): Promise<NonNullable<T>> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    let last: unknown;
    for (;;) {
      try {
        const value = await predicate();
        if (value) return value as NonNullable<T>;
        last = value;
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('code-server exited')) throw error;
        last = error;
      }
      if (Date.now() > deadline) break;
      await sleep(options.intervalMs ?? 100);
    }
    if (options.screenshot !== false && this.pageValue) await this.screenshot(`timeout-${Date.now()}`).catch(() => undefined);
    const detail = last instanceof Error ? last.message : JSON.stringify(last);
    throw new Error(`${options.message ?? 'condition not met'} (last: ${detail})`);
  }

  /** Saves a PNG of the page to test-results/e2e/<session name>-<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(resultsDir, `${this.name}-${name}.png`);
    await fs.mkdir(resultsDir, { recursive: true });
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Runs `fn(vscode, arg)` inside the extension host (through the probe extension) and returns what
   * it returns (JSON). `fn` is sent as source text: it cannot use variables of the test.
   */
  async probe<A, R>(fn: (vscode: typeof import('vscode'), arg: A) => R | PromiseLike<R>, arg?: A, timeoutMs = 15_000): Promise<R> {
    const name = `${++this.requestCount}.json`;
    const request = path.join(this.dirs.probe, 'requests', name);
    await fs.writeFile(`${request}.tmp`, JSON.stringify({ fn: fn.toString(), arg }));
    await fs.rename(`${request}.tmp`, request);
    const responseFile = path.join(this.dirs.probe, 'responses', name);
    const text = await this.waitFor(() => fs.readFile(responseFile, 'utf8').catch(() => undefined),
      { timeoutMs, message: `the probe did not answer ${fn.toString().slice(0, 80)}`, screenshot: false });
    const response = JSON.parse(text) as { ok: true; value: R } | { ok: false; error: string };
    if (!response.ok) throw new Error(`probe: ${response.error}`);
    return response.value;
  }

  /** Runs a command from the palette by its full label as shown there (e.g. `Token Pool: Add Account`). */
  async runCommand(title: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    if (await widget.isVisible()) await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = widget.locator('input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = widget.locator('.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: exactly(title) }) }).first();
    await row.waitFor({ state: 'visible', timeout: 10_000 }).catch(async () => {
      throw new Error(`no command "${title}" in the palette; it shows: ${JSON.stringify(await widget.locator('.monaco-list-row .label-name').allInnerTexts())}`);
    });
    await row.click();
  }

  /** Opens the activity-bar view container with this title (does nothing when it is already open). */
  async clickActivityBar(title: string): Promise<void> {
    const item = this.page.locator('.activitybar .action-item').filter({ has: this.page.locator(`a[aria-label^="${title}"]`) }).first();
    await item.waitFor({ state: 'visible' });
    if ((await item.getAttribute('class'))?.split(/\s+/).includes('checked')) return;
    await item.click();
  }

  /** Drags the side bar's edge so it is `width` pixels wide (room for long tree descriptions). */
  async resizeSideBar(width: number): Promise<void> {
    const box = await this.page.locator('.part.sidebar').boundingBox();
    if (!box) throw new Error('the side bar is not visible');
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width + 1, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 5 });
    await this.page.mouse.up();
  }

  /** Clears every notification (toasts and the notification center). */
  async clearNotifications(): Promise<void> {
    await this.probe((vscode) => vscode.commands.executeCommand('notifications.clearAll'));
    await this.page.locator('.notifications-toasts .notification-list-item').first().waitFor({ state: 'hidden' });
  }

  /** A tree row of the side bar by its label. */
  treeRow(label: string): Locator {
    return this.page.locator('.sidebar .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: exactly(label) }) }).first();
  }

  /** The rows of every tree in the side bar, top to bottom. */
  async treeRows(): Promise<TreeRow[]> {
    // Functions run in the page must not declare named helpers: tsx would wrap them in __name().
    return this.page.locator('.sidebar .monaco-list-row').evaluateAll((rows) => (rows as unknown as PageElement[]).map((row) => ({
      label: row.querySelector('.label-name')?.innerText.trim() ?? '',
      description: row.querySelector('.label-description')?.innerText.trim() ?? '',
      ariaLabel: row.getAttribute('aria-label') ?? '',
      iconClass: row.querySelector('.custom-view-tree-node-item-icon')?.className ?? '',
      iconColor: row.querySelector('.custom-view-tree-node-item-icon')?.style.color ?? '',
    })));
  }

  /** The tree row labelled `label`, if it is shown. */
  async findTreeRow(label: string): Promise<TreeRow | undefined> {
    return (await this.treeRows()).find((r) => r.label === label);
  }

  /** Waits until the row labelled `label` exists and its description passes `check`. */
  async waitForRow(label: string, check: (description: string) => boolean, message: string): Promise<TreeRow> {
    return this.waitFor(async () => {
      const found = await this.findTreeRow(label);
      return found && check(found.description) ? found : undefined;
    }, { message });
  }

  /** Right-clicks a tree row and chooses `action` from its context menu. */
  async treeContextMenu(label: string, action: string): Promise<void> {
    await this.treeRow(label).click({ button: 'right' });
    const item = this.page.locator('.monaco-menu .action-menu-item').filter({ hasText: exactly(action) }).first();
    await item.waitFor({ state: 'visible' }).catch(async () => {
      throw new Error(`no "${action}" in the context menu of "${label}"; it shows: ${JSON.stringify(await this.page.locator('.monaco-menu .action-menu-item').allInnerTexts())}`);
    });
    // The menu ignores a click that follows its opening too closely (the right button's mouseup).
    await item.hover();
    await this.page.waitForTimeout(250);
    await item.click();
    await this.page.locator('.monaco-menu').waitFor({ state: 'hidden' });
  }

  /** The text of the status bar item contributed with this id (e.g. `tokenpool.status`), or undefined. */
  async statusBarText(id: string): Promise<string | undefined> {
    const item = this.statusBarItem(id);
    return (await item.count()) ? (await item.innerText()).trim() : undefined;
  }

  /** Waits until the status bar item `id` shows text matching `expected`; a timeout names the last text seen. */
  async waitForStatusBar(id: string, expected: RegExp, message: string, timeoutMs?: number): Promise<string> {
    return this.waitFor(async () => {
      const text = await this.statusBarText(id);
      if (text === undefined) throw new Error(`there is no status bar item ${id}`);
      if (!expected.test(text)) throw new Error(`the status bar shows ${JSON.stringify(text)}`);
      return text;
    }, { message: `${message}: the status bar should match ${expected}`, timeoutMs });
  }

  /** The status bar item element (VS Code gives it the DOM id `<extension id>.<item id>`). */
  statusBarItem(id: string): Locator {
    return this.page.locator(`.statusbar-item[id$="${cssEscape('.' + id)}"], .statusbar-item[id="${cssEscape(id)}"]`).first();
  }

  /** The notification toasts on screen. */
  async notifications(): Promise<Notification[]> {
    return this.page.locator('.notifications-toasts .notification-list-item').evaluateAll((items) => (items as unknown as PageElement[]).map((item) => ({
      message: item.querySelector('.notification-list-item-message')?.innerText.trim() ?? '',
      source: item.querySelector('.notification-list-item-source')?.innerText.trim() ?? '',
      buttons: Array.from(item.querySelectorAll('.notification-list-item-buttons-container .monaco-button')).map((b) => b.innerText.trim()),
    })));
  }

  /** Clicks a button of the notification toast whose message contains `messagePart`. */
  async clickNotificationButton(messagePart: string, button: string): Promise<void> {
    const toast = this.page.locator('.notifications-toasts .notification-list-item').filter({ hasText: messagePart }).first();
    await toast.locator('.notification-list-item-buttons-container .monaco-button').filter({ hasText: exactly(button) }).first().click();
  }

  /** Clicks a button of the modal dialog on screen (e.g. `Allow`, `Open`). */
  async clickDialogButton(button: string | RegExp, timeoutMs = 15_000): Promise<void> {
    const buttons = this.page.locator('.monaco-dialog-box .dialog-buttons .monaco-button');
    const target = buttons.filter({ hasText: typeof button === 'string' ? exactly(button) : button }).first();
    await target.waitFor({ state: 'visible', timeout: timeoutMs }).catch(async () => {
      const shown = await this.page.locator('.monaco-dialog-box').allInnerTexts();
      throw new Error(`no dialog button ${String(button)}; dialogs on screen: ${JSON.stringify(shown)}`);
    });
    await target.click();
  }

  /** The rows of the quick pick on screen, top to bottom (labels without their codicons). */
  async quickPickItems(): Promise<{ label: string; description: string }[]> {
    const rows = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    await rows.first().waitFor({ state: 'visible' });
    return rows.evaluateAll((items) => (items as unknown as PageElement[]).map((item) => ({
      label: item.querySelector('.label-name')?.innerText.trim() ?? '',
      description: item.querySelector('.label-description')?.innerText.trim() ?? '',
    })));
  }

  /** Chooses the row of the quick pick on screen whose label (without its codicon) is `label`. */
  async pickQuickItem(label: string): Promise<void> {
    const row = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(label) }) }).first();
    await row.waitFor({ state: 'visible' }).catch(async () => {
      throw new Error(`no "${label}" in the quick pick; it shows: ${JSON.stringify(await this.quickPickItems().catch(() => []))}`);
    });
    await row.click();
  }

  /** The modal dialog on screen: its message, detail and buttons. */
  async dialog(timeoutMs = 15_000): Promise<{ message: string; detail: string; buttons: string[] }> {
    const box = this.page.locator('.monaco-dialog-box').first();
    await box.waitFor({ state: 'visible', timeout: timeoutMs });
    return box.evaluate((element) => {
      const dialog = element as unknown as PageElement;
      return {
        message: dialog.querySelector('.dialog-message-text')?.innerText.trim() ?? '',
        detail: dialog.querySelector('.dialog-message-detail')?.innerText.trim() ?? '',
        buttons: Array.from(dialog.querySelectorAll('.dialog-buttons .monaco-button')).map((b) => b.innerText.trim()),
      };
    });
  }

  /** Chooses `action` from the "More Actions..." menu of the side bar's title (a view's secondary title actions). */
  async viewTitleMenu(action: string): Promise<void> {
    const title = this.page.locator('.part.sidebar .composite.title, .part.sidebar .pane-header').first();
    await title.hover();
    const more = this.page.locator('.part.sidebar a[aria-label*="More Actions"]:visible').first();
    await more.click();
    const item = this.page.locator('.monaco-menu .action-menu-item').filter({ hasText: exactly(action) }).first();
    await item.waitFor({ state: 'visible' }).catch(async () => {
      throw new Error(`no "${action}" in the view's title menu; it shows: ${JSON.stringify(await this.page.locator('.monaco-menu .action-menu-item').allInnerTexts())}`);
    });
    await item.hover();
    await this.page.waitForTimeout(250);
    await item.click();
    await this.page.locator('.monaco-menu').waitFor({ state: 'hidden' });
  }

  /**
   * Hovers a tree row and returns the text of the tooltip it shows (non-breaking spaces as spaces).
   * A row that re-renders while the pointer rests on it (the pool changed) drops its pending hover,
   * and a pointer already on the row starts none: so each try moves the pointer off the tree first.
   */
  async treeTooltip(label: string, timeoutMs = 30_000): Promise<string> {
    const hover = this.page.locator('.workbench-hover, .monaco-hover').filter({ hasText: label }).first();
    return this.waitFor(async () => {
      await this.page.mouse.move(800, 300);
      await this.treeRow(label).hover();
      await hover.waitFor({ state: 'visible', timeout: 5_000 });
      // a tree refresh (new usage figures) closes an open hover: then hover again, not wait out the budget here
      return (await hover.innerText({ timeout: 2_000 })).replace(/\u00a0/g, ' ').trim();
    }, { timeoutMs, message: `the tooltip of the row "${label}" should show` });
  }

  /** Answers the quick input on screen: types `text` (if given) and presses Enter. */
  async answerQuickInput(text?: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    if (text !== undefined) await input.fill(text);
    await input.press('Enter');
  }
}

const exactly = (text: string): RegExp => new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
const cssEscape = (text: string): string => text.replace(/["\\]/g, '\\$&');
