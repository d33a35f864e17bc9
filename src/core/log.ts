/**
 * The one logging interface. The extension passes its `LogOutputChannel` (which has exactly these
 * methods); the CLI passes `createStreamLogger(process.stderr)`. Lines are tagged `[pool]`,
 * `[refresh]`, `[proxy]`, … by the caller. A token is never logged.
 */
export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';
const rank: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };

/** A logger that writes `LEVEL message` lines to a stream, from `minLevel` up. */
export function createStreamLogger(stream: NodeJS.WritableStream, minLevel: LogLevel = 'info'): Logger {
  const write = (level: Exclude<LogLevel, 'off'>) => (message: string | Error, ...args: unknown[]) => {
    if (rank[level] < rank[minLevel]) return;
    const text = message instanceof Error ? message.message : message;
    const rest = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)));
    stream.write(`${new Date().toISOString()} ${level.padEnd(5)} ${[text, ...rest].join(' ')}\n`);
  };
  return { trace: write('trace'), debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Records lines in memory; for tests and for callers that want to inspect what was logged. */
export class MemoryLogger implements Logger {
  readonly lines: { level: Exclude<LogLevel, 'off'>; message: string }[] = [];
  private push(level: Exclude<LogLevel, 'off'>, message: string | Error): void {
    this.lines.push({ level, message: message instanceof Error ? message.message : message });
  }
  trace(m: string): void { this.push('trace', m); }
  debug(m: string): void { this.push('debug', m); }
  info(m: string): void { this.push('info', m); }
  warn(m: string): void { this.push('warn', m); }
  error(m: string | Error): void { this.push('error', m); }
}

export const nullLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
