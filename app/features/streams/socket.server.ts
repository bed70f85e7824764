import type http from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { asCaller } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { authenticateRequest, type Caller } from '#app/features/auth/auth.server.ts'
import { openFeed } from './feed.server.ts'
import { loadStream } from './streams.server.ts'

/*
  The create answer's websocket_url: ws(s)://<host>/api/v1/stream/<id>/ws, the same feed as the SSE endpoint
  (snapshot, update, metrics as JSON text frames {type, data}). Credentials as for the API: Authorization (a token
  or an API key with X-WIA-Client-ID) or the session cookie — with a cookie the Origin must be this host, so
  another site cannot open a socket in a user's name. Refusals are plain HTTP answers before the upgrade.
*/

const PATH = /^\/api\/v1\/stream\/(stream_[0-9a-f]{16})\/ws(?:\?.*)?$/

function refuse(socket: Duplex, status: number, text: string) {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
}

/** Serves stream WebSockets on this HTTP server; other upgrade requests are left to whoever else listens. */
export function attachStreamSockets(server: http.Server) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const m = PATH.exec(req.url ?? '')
    if (!m) return
    const id = m[1]
    void (async () => {
      const headers = new Headers()
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v)
      const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, { headers })
      const db = await getDb()
      let caller: Caller | null
      try {
        caller = await authenticateRequest(request, db)
      } catch {
        return refuse(socket, 401, 'Unauthorized')
      }
      if (!caller) return refuse(socket, 401, 'Unauthorized')
      if (caller.via === 'cookie') {
        const origin = req.headers.origin
        if (!origin || new URL(origin).host !== req.headers.host) return refuse(socket, 403, 'Forbidden')
      }
      if (!caller.permissions.has('analytics.read')) return refuse(socket, 403, 'Forbidden')
      try {
        await asCaller(db, caller.claims, (tx) => loadStream(tx, id))
      } catch {
        return refuse(socket, 404, 'Not Found')
      }
      const who = caller
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stop = new AbortController()
        ws.on('close', () => stop.abort())
        ws.on('error', () => stop.abort())
        openFeed(who, id, (msg) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(msg)), stop.signal).catch(() => ws.close(1011, 'stream unavailable'))
      })
    })().catch(() => refuse(socket, 500, 'Internal Server Error'))
  })
  return wss
}
