import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestApp } from './app.ts'

/*
  The test app on a real TCP port, for clients that are other processes (the Python trainer, the Ray double): every
  request goes into the same route modules as app.fetch, the response streams back unchanged.
*/
export async function serveApp(app: TestApp): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      const body = chunks.length ? Buffer.concat(chunks) : undefined
      const headers = new Headers()
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
      const r = await app.fetch(req.url ?? '/', { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body })
      res.writeHead(r.status, Object.fromEntries(r.headers))
      res.end(Buffer.from(await r.arrayBuffer()))
    } catch (e) {
      res.writeHead(500)
      res.end(String(e))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
