/** Figures with their goals, printed as each scenario ends and written as one JSON file. */
import { promises as fs } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Goal {
  max?: number;
  min?: number;
}

export interface Figure {
  name: string;
  value: number;
  unit?: string;
  /** Absent: a figure reported for context, with no goal. */
  goal?: Goal;
  ok: boolean;
}

export interface ScenarioResult {
  name: string;
  size: string;
  seconds: number;
  figures: Figure[];
  notes: string[];
  skipped?: string;
}

export class Figures {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];

  /** A figure that must stay within `goal`. */
  goal(name: string, value: number, goal: Goal, unit?: string): void {
    const ok = (goal.max === undefined || value <= goal.max) && (goal.min === undefined || value >= goal.min);
    this.figures.push({ name, value, goal, ok, ...(unit ? { unit } : {}) });
  }

  /** A figure for context. */
  info(name: string, value: number, unit?: string): void {
    this.figures.push({ name, value, ok: true, ...(unit ? { unit } : {}) });
  }

  note(text: string): void {
    this.notes.push(text);
  }
}

const goalText = (g: Goal | undefined): string => {
  if (!g) return '';
  if (g.min !== undefined && g.max !== undefined) return g.min === g.max ? `= ${g.min}` : `${g.min}..${g.max}`;
  return g.max !== undefined ? `<= ${g.max}` : `>= ${g.min}`;
};

const round = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1));

export function printScenario(r: ScenarioResult): void {
  const out = process.stdout;
  out.write(`\n== ${r.name} (${r.size}, ${r.seconds.toFixed(1)} s)${r.skipped ? ` SKIPPED: ${r.skipped}` : ''}\n`);
  for (const f of r.figures) {
    const mark = f.goal ? (f.ok ? 'ok  ' : 'MISS') : '    ';
    out.write(`  ${mark} ${f.name}: ${round(f.value)}${f.unit ? ` ${f.unit}` : ''}${f.goal ? `  (goal ${goalText(f.goal)})` : ''}\n`);
  }
  for (const n of r.notes) out.write(`       note: ${n}\n`);
}

export function machine(): Record<string, unknown> {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export async function writeReport(results: ScenarioResult[], opts: { quick: boolean; commit: string }): Promise<string> {
  const dir = join(process.cwd(), 'test-results', 'soak');
  await fs.mkdir(dir, { recursive: true });
  const at = new Date().toISOString();
  const file = join(dir, `soak-${at.replace(/[:.]/g, '-')}.json`);
  const body = { at, quick: opts.quick, commit: opts.commit, machine: machine(), ok: results.every((r) => r.figures.every((f) => f.ok)), scenarios: results };
  await fs.writeFile(file, JSON.stringify(body, null, 2) + '\n');
  return file;
}
