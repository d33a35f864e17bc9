/**
 * Codex's WebSocket transport, declined (DESIGN section 10). A provider entry with
 * `supports_websockets = true` makes Codex (0.169 to 0.171) open `GET /v1/responses` with an Upgrade first:
 * a 404 or 401 there costs six reconnects (about 6.4 s) before it falls back to HTTP, a 400 ends
 * the run, and a 426 Upgrade Required makes it post to `/v1/responses` at once. So the upgrade
 * gets the 426, behind the same key and Host/Origin guard as every other route.
 */
import { sendJson, type Route, type RouteContext } from '../route';

export const responsesTransportRoutes: readonly Route[] = [{ method: 'GET', path: '/v1/responses', access: 'api', handle: declineWebSocket }];

function declineWebSocket(ctx: RouteContext): void {
  ctx.log.info('[proxy] GET /v1/responses asked for a WebSocket: answered 426, the Responses API is served over HTTP (POST /v1/responses)');
  sendJson(
    ctx.res,
    426,
    { error: { message: 'tokenpool serves the Responses API over HTTP only: POST /v1/responses', type: 'invalid_request_error', code: 'websocket_not_served' } },
    { connection: 'close' },
  );
}
