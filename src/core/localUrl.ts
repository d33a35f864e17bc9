/** The URL a client on this machine uses to reach a server bound to a host and port. */

/** The address a client on this machine uses for a bind host: wildcards become loopback. */
export function connectHost(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '') return '127.0.0.1';
  if (bindHost === '::' || bindHost === '[::]') return '::1';
  return bindHost.replace(/^\[|\]$/g, '');
}

/** `http://127.0.0.1:8046`, with brackets for IPv6. */
export function baseUrl(bindHost: string, port: number): string {
  const host = connectHost(bindHost);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
