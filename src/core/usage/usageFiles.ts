/**
 * The usage files under `<data dir>/usage/` (DESIGN section 11), written only by the serving
 * process: `hourly-YYYY-MM-DD.json` (that UTC day's hourly buckets, kept 14 days),
 * `daily-YYYY-MM.json` (that month's daily buckets, kept 400 days) and `requests-YYYY-MM-DD.jsonl`
 * (each request's record, one JSON line, kept `logging.history_days`, each day's file capped at
 * `logging.history_max_mb`). Aggregate files are replaced atomically; the history is appended.
 * Writes are batched: at most every few seconds, and at close.
 *
 * A file that does not parse is moved aside (`<name>.corrupt-<time>`) with a log line and its
 * counting starts afresh; a directory that cannot be written (read-only, full disk) leaves the
 * figures in memory, said once, and writing resumes when it can. A reader (the CLI with no serve
 * running) only reads: it skips a bad file with a warning and moves nothing.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describeJsonError } from '../errors';
import { isTempFile, writeFileAtomic } from '../fsutil';
import type { Logger } from '../log';
import { DAY_S, HOUR_S, HOURLY_RETENTION_S, DAILY_RETENTION_S, emptyBucket, type BucketRow } from './aggregates';
import type { UsageLedger } from './ledger';
import { PendingLines, wholeLinesWithin } from './pendingLines';
import { CLIENT_PROTOCOLS, OUTCOMES, type RequestRecord } from './record';

export interface HistoryOptions {
  /** Days of request history kept on disk (0: none written). */
  historyDays: number;
  /** The most one day's history file may grow to, in bytes. */
  maxDayBytes: number;
}

export const DEFAULT_HISTORY: HistoryOptions = { historyDays: 7, maxDayBytes: 50 * 1024 * 1024 };

/** `logging.history_days` and `logging.history_max_mb` as the files use them. */
export const historyOptions = (logging: { history_days: number; history_max_mb: number }): HistoryOptions => ({
  historyDays: logging.history_days,
  maxDayBytes: logging.history_max_mb * 1024 * 1024,
});

export const FLUSH_INTERVAL_MS = 5000;
/** History not yet written while the directory cannot be written: at most this much a day is kept for the next try. */
const MAX_UNWRITTEN_BYTES = 1024 * 1024;
const FILE_VERSION = 1;

export const usageDir = (dataDir: string): string => join(dataDir, 'usage');

const utcDay = (unixS: number): string => new Date(unixS * 1000).toISOString().slice(0, 10);
const utcMonth = (unixS: number): string => new Date(unixS * 1000).toISOString().slice(0, 7);

/** The start (unix s) of the month a `YYYY-MM` names, and of the next. */
function monthBounds(month: string): [number, number] {
  const [y, m] = month.split('-').map(Number);
  return [Date.UTC(y, m - 1, 1) / 1000, Date.UTC(y, m, 1) / 1000];
}

class UsageFileError extends Error {}

export class UsageFiles {
  private readonly dir: string;
  private readonly dirtyDays = new Set<string>();
  private readonly dirtyMonths = new Set<string>();
  private readonly pending = new PendingLines();
  /** The UTC day of the last record, and its labels (a day label is made once a day, not per request). */
  private lastDayS = -1;
  /** The UTC day files past their retention were last removed on. */
  private expiryCheckedDay = '';
  private dayLabel = '';
  private monthLabel = '';
  private readonly daySizes = new Map<string, number>();
  private readonly cappedDays = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private subscription: { dispose(): void } | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(
    dataDir: string,
    private readonly ledger: UsageLedger,
    private readonly log: Logger,
    private readonly history: HistoryOptions = DEFAULT_HISTORY,
  ) {
    this.dir = usageDir(dataDir);
  }

  /**
   * Reads every file still within its retention into the ledger. `repair` (the serving process):
   * a file that does not parse is moved aside; without it, skipped with a warning. Never throws:
   * what cannot be read is said and skipped.
   */
  async load(options: { repair: boolean }): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn(`[usage] cannot read ${this.dir} (${(err as NodeJS.ErrnoException).code}): counting starts afresh`);
      return;
    }
    const nowS = Math.floor(this.ledger.now() / 1000);
    const hourly: BucketRow[] = [];
    const daily: BucketRow[] = [];
    const requests: { record: RequestRecord; atMs: number }[] = [];
    for (const name of names.sort()) {
      if (isTempFile(name) || name.includes('.corrupt-')) continue;
      const file = join(this.dir, name);
      const kind = /^(hourly)-(\d{4}-\d{2}-\d{2})\.json$/.exec(name) ?? /^(daily)-(\d{4}-\d{2})\.json$/.exec(name) ?? /^(requests)-(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(name);
      if (!kind) continue;
      try {
        const text = await fs.readFile(file, 'utf8');
        if (kind[1] === 'requests') {
          if (Date.parse(kind[2]) / 1000 + DAY_S <= nowS - this.history.historyDays * DAY_S) continue;
          this.daySizes.set(kind[2], Buffer.byteLength(text));
          for (const record of parseHistory(text)) requests.push({ record, atMs: Date.parse(record.time) });
        } else {
          const which = kind[1] as 'hourly' | 'daily';
          (which === 'hourly' ? hourly : daily).push(...parseBuckets(text, which));
        }
      } catch (err) {
        if (err instanceof UsageFileError) await this.setAside(file, err.message, options.repair);
        else this.log.warn(`[usage] cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): skipped`);
      }
    }
    this.ledger.load(hourly, daily, requests.slice(-this.ledger.history.capacity));
    this.ledger.prune();
  }

  /** Follows the ledger from now on and writes what changed every `intervalMs`. */
  start(intervalMs = FLUSH_INTERVAL_MS): void {
    if (this.subscription) return;
    this.subscription = this.ledger.onRecord((record, atMs) => {
      const atS = Math.floor(atMs / 1000);
      const dayS = atS - (atS % DAY_S);
      if (dayS !== this.lastDayS) {
        this.lastDayS = dayS;
        this.dayLabel = utcDay(dayS);
        this.monthLabel = utcMonth(dayS);
      }
      this.dirtyDays.add(this.dayLabel);
      this.dirtyMonths.add(this.monthLabel);
      if (this.history.historyDays > 0) this.pending.add(this.dayLabel, JSON.stringify(record) + '\n');
    });
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Writes what changed since the last flush (serialized: one flush at a time). */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /** Stops following and writes the rest. */
  async close(): Promise<void> {
    this.ledger.settle(); // what ended before the close is written
    this.subscription?.dispose();
    this.subscription = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    this.ledger.settle();
    if (this.dirtyDays.size === 0 && this.dirtyMonths.size === 0 && this.pending.empty) return;
    const days = [...this.dirtyDays];
    const months = [...this.dirtyMonths];
    const pending = this.pending.take();
    this.dirtyDays.clear();
    this.dirtyMonths.clear();
    try {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
      this.ledger.prune();
      for (const day of days) await this.writeBuckets(`hourly-${day}.json`, 'hourly', this.ledger.hourly.rows(Date.parse(day) / 1000, Date.parse(day) / 1000 + DAY_S));
      for (const month of months) await this.writeBuckets(`daily-${month}.json`, 'daily', this.ledger.daily.rows(...monthBounds(month)));
      await this.appendHistory(pending);
      // files expire by whole days: one look at the directory a day, not one a flush
      const today = utcDay(Math.floor(this.ledger.now() / 1000));
      if (today !== this.expiryCheckedDay) {
        await this.removeExpired();
        this.expiryCheckedDay = today;
      }
      if (this.failing) this.log.info(`[usage] writing ${this.dir} again`);
      this.failing = false;
    } catch (err) {
      // keep what was not written for the next try; memory keeps counting either way
      for (const day of days) this.dirtyDays.add(day);
      for (const month of months) this.dirtyMonths.add(month);
      this.pending.restore(pending, MAX_UNWRITTEN_BYTES);
      if (!this.failing) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        this.log.warn(`[usage] cannot write ${this.dir} (${code}): usage figures are kept in memory only until it can be written again`);
      }
      this.failing = true;
    }
  }

  private async writeBuckets(name: string, kind: 'hourly' | 'daily', rows: Iterable<BucketRow>): Promise<void> {
    const buckets = [...rows].filter((r) => r.requests > 0);
    const file = join(this.dir, name);
    if (buckets.length === 0) {
      await fs.rm(file, { force: true });
      return;
    }
    await writeFileAtomic(file, JSON.stringify({ version: FILE_VERSION, kind, buckets }) + '\n', 0o600);
  }

  private async appendHistory(pending: Map<string, Buffer>): Promise<void> {
    for (const [day, lines] of pending) {
      const size = this.daySizes.get(day) ?? (await fileSize(join(this.dir, `requests-${day}.jsonl`)));
      const bytes = wholeLinesWithin(lines, this.history.maxDayBytes - size);
      if (bytes.length < lines.length) {
        if (!this.cappedDays.has(day)) {
          this.cappedDays.add(day);
          this.log.warn(`[usage] the request history of ${day} reached its cap (${Math.round(this.history.maxDayBytes / 1048576)} MB, logging.history_max_mb): later requests that day are kept in memory only`);
        }
      }
      if (bytes.length === 0) continue;
      await fs.appendFile(join(this.dir, `requests-${day}.jsonl`), bytes, { mode: 0o600 });
      this.daySizes.set(day, size + bytes.length);
    }
  }

  /** Files past their retention go. */
  private async removeExpired(): Promise<void> {
    const nowS = Math.floor(this.ledger.now() / 1000);
    const keep: Record<string, number> = {
      hourly: nowS - HOURLY_RETENTION_S - DAY_S,
      requests: nowS - this.history.historyDays * DAY_S - DAY_S,
    };
    for (const name of await fs.readdir(this.dir)) {
      const m = /^(hourly|requests)-(\d{4}-\d{2}-\d{2})\.jsonl?$/.exec(name);
      if (m && Date.parse(m[2]) / 1000 < keep[m[1]]) await fs.rm(join(this.dir, name), { force: true });
      const month = /^daily-(\d{4}-\d{2})\.json$/.exec(name);
      if (month && monthBounds(month[1])[1] < nowS - DAILY_RETENTION_S) await fs.rm(join(this.dir, name), { force: true });
    }
  }

  private async setAside(file: string, reason: string, repair: boolean): Promise<void> {
    if (!repair) {
      this.log.warn(`[usage] skipping ${file}: ${reason}`);
      return;
    }
    const aside = `${file}.corrupt-${new Date(this.ledger.now()).toISOString().replace(/[:.]/g, '-')}`;
    try {
      await fs.rename(file, aside);
      this.log.warn(`[usage] ${file} does not parse (${reason}): moved aside to ${aside}; its counting starts afresh`);
    } catch (err) {
      this.log.warn(`[usage] ${file} does not parse (${reason}) and could not be moved aside (${(err as NodeJS.ErrnoException).code}): ignored`);
    }
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageFileError(`not JSON: ${describeJsonError(err)}`);
  }
}

/** The buckets of an hourly or daily file, checked: a wrong shape throws UsageFileError naming it. */
export function parseBuckets(text: string, kind: 'hourly' | 'daily'): BucketRow[] {
  const file = parseJson(text);
  if (!isRecord(file) || file.version !== FILE_VERSION || file.kind !== kind || !Array.isArray(file.buckets)) {
    throw new UsageFileError(`expected {"version": ${FILE_VERSION}, "kind": "${kind}", "buckets": [...]}`);
  }
  return file.buckets.map((row, i) => {
    const empty = emptyBucket();
    const ok =
      isRecord(row) &&
      isCount(row.t) &&
      (row.t as number) % (kind === 'hourly' ? HOUR_S : DAY_S) === 0 &&
      typeof row.model === 'string' &&
      (row.account === null || typeof row.account === 'string') &&
      isCount(row.requests) &&
      ['input_tokens', 'output_tokens', 'cached_tokens', 'thinking_tokens'].every((k) => isCount(row[k])) &&
      isRecord(row.outcomes) &&
      OUTCOMES.every((o) => isCount((row.outcomes as Record<string, unknown>)[o])) &&
      Array.isArray(row.latency) &&
      row.latency.length === empty.latency.length &&
      row.latency.every(isCount);
    if (!ok) throw new UsageFileError(`bucket ${i} is not a valid ${kind} bucket`);
    return row as unknown as BucketRow;
  });
}

/**
 * The records of a history file. A last line cut short (the process died mid-append) is left out;
 * any other line that does not parse throws UsageFileError.
 */
export function parseHistory(text: string): RequestRecord[] {
  const lines = text.split('\n');
  const out: RequestRecord[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      if (i === lines.length - 1) break; // torn last line: no newline after it
      throw new UsageFileError(`line ${i + 1} is not JSON: ${describeJsonError(err)}`);
    }
    if (!isHistoryRecord(record)) throw new UsageFileError(`line ${i + 1} is not a request record`);
    out.push(record);
  }
  return out;
}

function isHistoryRecord(r: unknown): r is RequestRecord {
  return (
    isRecord(r) &&
    typeof r.id === 'string' &&
    typeof r.time === 'string' &&
    !Number.isNaN(Date.parse(r.time)) &&
    CLIENT_PROTOCOLS.includes(r.protocol as never) &&
    typeof r.model === 'string' &&
    typeof r.upstream_model === 'string' &&
    (r.account === null || typeof r.account === 'string') &&
    OUTCOMES.includes(r.outcome as never) &&
    Array.isArray(r.attempts) &&
    ['input_tokens', 'output_tokens', 'cached_tokens', 'thinking_tokens', 'duration_ms', 'status'].every((k) => isCount(r[k]))
  );
}
