// Test-only extension (never shipped). When TOKENPOOL_PROBE_DIR is set it runs, inside the extension
// host, the functions test/e2e/harness.ts writes to <dir>/requests/<n>.json as source text
// (`{ "fn": "async (vscode, arg) => ...", "arg": ... }`), and writes `{ "ok": true, "value": ... }`
// or `{ "ok": false, "error": "..." }` to <dir>/responses/<n>.json. <dir>/ready.json says it is up.
'use strict';
const vscode = require('vscode');
const fs = require('node:fs');
const path = require('node:path');

function writeJsonAtomic(file, value) {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(value));
  fs.renameSync(temp, file);
}

async function run(source, arg) {
  try {
    // The test's functions come from tsx, which may wrap named inner functions in __name(fn, name).
    const fn = new Function('__name', `return (${source});`)((f) => f);
    return { ok: true, value: await fn(vscode, arg) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.stack || error.message : String(error) };
  }
}

function activate(context) {
  const dir = process.env.TOKENPOOL_PROBE_DIR;
  if (!dir) return;
  const requests = path.join(dir, 'requests');
  const responses = path.join(dir, 'responses');
  fs.mkdirSync(requests, { recursive: true });
  fs.mkdirSync(responses, { recursive: true });
  const running = new Set();
  const poll = () => {
    for (const name of fs.readdirSync(requests)) {
      if (!name.endsWith('.json') || running.has(name)) continue;
      running.add(name);
      const file = path.join(requests, name);
      const request = JSON.parse(fs.readFileSync(file, 'utf8'));
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

module.exports = { activate, deactivate() {} };
