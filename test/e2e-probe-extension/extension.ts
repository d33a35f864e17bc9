/**
 * Test-only extension (never shipped), installed beside Token Pool by test/e2e/harness.ts. When
 * TOKENPOOL_PROBE_DIR is set it runs, inside the extension host, the functions the harness writes
 * to <dir>/requests/<n>.json as source text (`{ "fn": "async (vscode, arg) => ...", "arg": ... }`),
 * and writes `{ "ok": true, "value": ... }` or `{ "ok": false, "error": "..." }` to
 * <dir>/responses/<n>.json. <dir>/ready.json says it is up. The harness bundles it with esbuild.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

type Probe = (api: typeof vscode, arg: unknown) => unknown;

function writeJsonAtomic(file: string, value: unknown): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(value));
  fs.renameSync(temp, file);
}

async function run(source: string, arg: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  try {
    // The functions come from tsx, which may wrap named inner functions in __name(fn, name).
    const fn = new Function('__name', `return (${source});`)((f: unknown) => f) as Probe;
    return { ok: true, value: await fn(vscode, arg) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const dir = process.env.TOKENPOOL_PROBE_DIR;
  if (!dir) return;
  const requests = path.join(dir, 'requests');
  const responses = path.join(dir, 'responses');
  fs.mkdirSync(requests, { recursive: true });
  fs.mkdirSync(responses, { recursive: true });
  const running = new Set<string>();
  const poll = (): void => {
    for (const name of fs.readdirSync(requests)) {
      if (!name.endsWith('.json') || running.has(name)) continue;
      running.add(name);
      const file = path.join(requests, name);
      const request = JSON.parse(fs.readFileSync(file, 'utf8')) as { fn: string; arg: unknown };
      void run(request.fn, request.arg).then((result) => {
        writeJsonAtomic(path.join(responses, name), result);
        fs.rmSync(file, { force: true });
        running.delete(name);
      });
    }
  };
  const timer = setInterval(poll, 50);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
  writeJsonAtomic(path.join(dir, 'ready.json'), { vscodeVersion: vscode.version, pid: process.pid });
}

export function deactivate(): void {}
