/**
 * Extension size: the development bundle as `npm run build` leaves it, then `npm run package`
 * (production bundle + `vsce package`) for the production bundle and the .vsix. The development
 * build is restored afterwards so dist/ looks as it did.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export interface ExtensionFigures {
  devBundleBytes: number | null;
  prodBundleBytes: number | null;
  vsixBytes: number | null;
  /** Why a figure is n/a. */
  note: string | null;
}

const size = async (file: string): Promise<number | null> => (await fs.stat(file).catch(() => null))?.size ?? null;

function npm(root: string, args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('npm', args, { cwd: root, timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}\n${stderr}` });
    });
    child.stdin?.end(); // vsce's "continue? [y/N]" prompts read EOF as no instead of waiting
  });
}

export async function measureExtension(root: string, runPackage: boolean): Promise<ExtensionFigures> {
  const dist = join(root, 'dist');
  const devBundleBytes = await size(join(dist, 'extension.js'));
  if (!runPackage) return { devBundleBytes, prodBundleBytes: null, vsixBytes: null, note: 'packaging skipped (--no-package)' };
  const vsix = join(dist, 'tokenpool.vsix');
  await fs.rm(vsix, { force: true });
  const packaged = await npm(root, ['run', 'package'], 180_000);
  const prodBundleBytes = await size(join(dist, 'extension.js'));
  const vsixBytes = packaged.code === 0 ? await size(vsix) : null;
  const restored = await npm(root, ['run', 'build'], 120_000);
  let note: string | null = null;
  if (vsixBytes === null) {
    const lines = packaged.output.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('>'));
    const reason = lines.filter((l) => /error|ERROR|not found|missing|must|\?/i.test(l)).pop() ?? lines.pop() ?? `exit ${packaged.code}`;
    note = `npm run package failed: ${reason}`;
  }
  if (restored.code !== 0) note = `${note ? note + '; ' : ''}npm run build afterwards failed`;
  return { devBundleBytes, prodBundleBytes, vsixBytes, note };
}
