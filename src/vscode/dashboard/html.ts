/**
 * The dashboard page's HTML (pure): a strict content security policy whose only script is the
 * bundle carrying this render's nonce, styles from the extension's own folder, nothing from the
 * network. The page builds everything else itself.
 */
import { randomBytes } from 'node:crypto';

export interface PageResources {
  /** The webview's `cspSource` (what `asWebviewUri` URIs are served from). */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce: string;
}

/** A fresh nonce for each render: 128 random bits, base64. */
export const newNonce = (): string => randomBytes(16).toString('base64');

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function dashboardHtml(r: PageResources): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(r.cspSource, r.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${attr(r.nonce)}" href="${attr(r.styleUri)}">
<title>Token Pool: Dashboard</title>
</head>
<body>
<main id="app" aria-live="off"><p class="muted">Loading…</p></main>
<script nonce="${attr(r.nonce)}" src="${attr(r.scriptUri)}"></script>
</body>
</html>
`;
}
