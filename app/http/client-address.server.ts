import type { IncomingMessage, ServerResponse } from 'node:http'
import { getEnv } from '#app/env.server.ts'

/*
  Who is on the other end of a request, for the brute-force guard and anonymous rate limits. Headers a client can
  write are believed only where a proxy we run sets them: `Fly-Client-IP` on Fly (FLY_APP_NAME is set there; Fly's
  edge overwrites whatever the client sent), `X-Forwarded-For` counted from the right past TRUST_PROXY_HOPS proxies
  we operate. Otherwise the socket's own address, which the server entry stamps on every request.
*/

/** Set by the server entry from the socket; a client's own value is always replaced. */
export const CLIENT_ADDRESS_HEADER = 'x-hd-client-address'

/** Express/Node middleware: stamps the socket's address on the request before React Router sees it. */
export function stampClientAddress(req: IncomingMessage, _res: ServerResponse, next: () => void) {
  req.headers[CLIENT_ADDRESS_HEADER] = req.socket.remoteAddress ?? 'unknown'
  next()
}

export function clientIp(request: Request): string {
  const env = getEnv()
  if (env.FLY_APP_NAME) {
    const fly = request.headers.get('fly-client-ip')?.trim()
    if (fly) return fly
  }
  if (env.TRUST_PROXY_HOPS > 0) {
    // Each trusted proxy appends the address it saw; the entry TRUST_PROXY_HOPS from the right is the client as our
    // outermost proxy saw it (anything further left was written by the client).
    const chain = (request.headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    if (chain.length >= env.TRUST_PROXY_HOPS) return chain[chain.length - env.TRUST_PROXY_HOPS]
  }
  // No server in front (tests call the route handlers directly): one shared address, never a client's header.
  return request.headers.get(CLIENT_ADDRESS_HEADER) ?? 'local'
}
