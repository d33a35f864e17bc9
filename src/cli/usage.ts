/** The `tokenpool --help` text (DESIGN section 8). */
export const USAGE = `tokenpool: a local OpenAI / Anthropic / Gemini API proxy over a pool of your Google accounts

Usage:
  tokenpool serve [--host H] [--port N]            run the proxy (N=0: any free port)
  tokenpool accounts list [--json]                 every account's state, reason and cooldowns
  tokenpool accounts add --refresh-token T [--project P] [--location L]
  tokenpool accounts import-adc [FILE]             gcloud application_default_credentials.json
  tokenpool accounts check [EMAIL] [--json]        refresh now and report; exit 1 if any failed
  tokenpool accounts proxy-disable EMAIL           keep the account but stop routing to it
  tokenpool accounts proxy-enable EMAIL
  tokenpool accounts remove EMAIL [--revoke]
  tokenpool login [--project P] [--location L]     sign in with Google in the browser (loopback + PKCE)
  tokenpool usage [--since 24h] [--until T] [--by account,model|account|model|hour|day] [--json]
                                                   requests, tokens and latency per account and model
  tokenpool requests [--limit N] [--follow] [--json]
                                                   the last requests (newest first); --follow: live
  tokenpool demo [--keep-running]                  the whole story against a built-in simulated Google

Every command takes --data-dir DIR (default: $TOKENPOOL_DATA_DIR, else ~/.tokenpool) and -v/--verbose.
Exit codes: 0 ok, 1 failure (one-line reason on stderr), 2 usage error.
`;

/** A mistake in the command line itself: exit code 2 with the usage hint. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}
