/**
 * The `tokenpool` command (DESIGN section 8): the same core as the extension, headless.
 * Exit codes: 0 ok, 1 failure with a one-line reason on stderr, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { CancelledError, TokenpoolError } from './core/errors';
import { version } from './core/version';
import { runAccounts } from './cli/accounts';
import { openContext } from './cli/context';
import { runDemo } from './cli/demo';
import { runLogin } from './cli/login';
import { runServe } from './cli/serve';
import { USAGE, UsageError } from './cli/usage';
import { runRequests, runUsage } from './cli/usageCommands';

const options = {
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  json: { type: 'boolean' },
  'refresh-token': { type: 'string' },
  project: { type: 'string' },
  location: { type: 'string' },
  revoke: { type: 'boolean' },
  'keep-running': { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  by: { type: 'string' },
  limit: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

async function main(argv: string[]): Promise<number> {
  const { values: flags, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  if (flags.version) {
    console.log(version);
    return 0;
  }
  const [command, verb, ...rest] = positionals;
  if (flags.help || !command) {
    console.log(USAGE);
    return command || flags.help ? 0 : 2;
  }
  if (command === 'demo') return runDemo({ keepRunning: flags['keep-running'] ?? false, verbose: flags.verbose ?? false });
  if (!['serve', 'accounts', 'login', 'usage', 'requests'].includes(command)) throw new UsageError(`unknown command "${command}"`);

  const ctx = await openContext({ dataDir: flags['data-dir'], verbose: flags.verbose, logLevel: command === 'serve' ? 'info' : 'warn' });
  try {
    if (command === 'serve') return await runServe(ctx, flags);
    if (command === 'login') return await runLogin(ctx, flags);
    if (command === 'usage') return await runUsage(ctx, flags);
    if (command === 'requests') return await runRequests(ctx, flags);
    return await runAccounts(ctx, verb, rest, flags);
  } finally {
    await ctx.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`tokenpool: ${(err as Error).message}\nRun "tokenpool --help" for usage.`);
      process.exitCode = 2;
    } else if (err instanceof CancelledError) {
      console.error('tokenpool: cancelled');
      process.exitCode = 1;
    } else if (err instanceof TokenpoolError) {
      console.error(`tokenpool: ${err.message}`);
      process.exitCode = 1;
    } else {
      console.error(`tokenpool: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  },
);
