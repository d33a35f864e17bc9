/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and names where the time went: self time per
 * function, and inclusive time per function of our own sources, mapped from the bundle back to
 * src/ through its source map. Also usable alone:
 *   node --import tsx bench/profile.ts FILE.cpuprofile [dist/cli.js]
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename, relative, resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileEntry { fn: string; where: string; ms: number; pct: number; via?: string }
export interface ProfileSummary { totalMs: number; self: ProfileEntry[]; ownInclusive: ProfileEntry[] }

/** How many callers (besides node's internals) name where a hot function is called from, before the nearest of our own. */
const VIA_FRAMES = 2;

export function summarizeProfile(file: string, bundle: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const bundleUrl = 'file://' + resolve(bundle);
  let map: SourceMap | undefined;
  try {
    map = new SourceMap(JSON.parse(readFileSync(bundle + '.map', 'utf8')));
  } catch {
    map = undefined;
  }
  const root = resolve(bundle, '..', '..');
  const label = (node: ProfileNode): { fn: string; where: string; own: boolean } => {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    if (url === bundleUrl && map) {
      const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string; originalLine?: number };
      if (entry.originalSource) {
        const source = relative(root, resolve(resolve(bundle, '..'), entry.originalSource.replace(/^file:\/\//, '')));
        const own = source.startsWith('src/');
        return { fn, where: `${source}:${(entry.originalLine ?? 0) + 1}`, own };
      }
    }
    if (!url) return { fn, where: '(native)', own: false };
    return { fn, where: `${url.startsWith('node:') ? url : basename(url)}:${lineNumber + 1}`, own: false };
  };

  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const labels = new Map(profile.nodes.map((n) => [n.id, label(n)]));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  /** self key -> caller chain -> time: the heaviest chain is shown as "via". */
  const callers = new Map<string, Map<string, number>>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    const l = labels.get(id)!;
    const key = `${l.fn}\t${l.where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const chain: string[] = [];
    let ownFrame: string | undefined;
    for (let cur = parent.get(id); cur !== undefined && !ownFrame; cur = parent.get(cur)) {
      const cl = labels.get(cur)!;
      if (cl.own) ownFrame = `${cl.fn} ${cl.where}`;
      else if (chain.length < VIA_FRAMES && cl.fn !== '(root)' && !cl.where.startsWith('node:internal/')) chain.push(`${cl.fn} ${cl.where}`);
    }
    if (ownFrame) chain.push(ownFrame);
    const byChain = callers.get(key) ?? new Map<string, number>();
    byChain.set(chain.join(' < '), (byChain.get(chain.join(' < ')) ?? 0) + dt);
    callers.set(key, byChain);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cl = labels.get(cur)!;
      if (!cl.own) continue;
      const ck = `${cl.fn}\t${cl.where}`;
      if (seen.has(ck)) continue;
      seen.add(ck);
      inclusive.set(ck, (inclusive.get(ck) ?? 0) + dt);
    }
  });
  const rank = (m: Map<string, number>, withCallers: boolean): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => {
        const [fn, where] = key.split('\t');
        const heaviest = withCallers ? [...(callers.get(key) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1])[0] : undefined;
        return { fn, where, ms: us / 1000, pct: (100 * us) / totalUs, via: heaviest?.[0] || undefined };
      });
  return { totalMs: totalUs / 1000, self: rank(self, true), ownInclusive: rank(inclusive, false) };
}

export function formatProfile(title: string, summary: ProfileSummary): string {
  const rows = (entries: ProfileEntry[]): string[] =>
    entries.flatMap((e) => [
      `  ${e.pct.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(6)} ms  ${e.fn}  ${e.where}`,
      ...(e.via ? [`                   via ${e.via}`] : []),
    ]);
  return [
    `${title} (${summary.totalMs.toFixed(0)} ms sampled)`,
    ' self time:',
    ...rows(summary.self),
    ' inclusive time, our sources:',
    ...rows(summary.ownInclusive),
  ].join('\n');
}

if (process.argv[1]?.endsWith('profile.ts')) {
  const [file, bundle = 'dist/cli.js'] = process.argv.slice(2);
  console.log(formatProfile(file, summarizeProfile(file, bundle)));
}
