/*
  The floor for bench:ops's throughput column: plain node:http on the same machine, no framework, answering every GET
  with a fixed JSON body of the dashboard summary's size — `/bare` at once, `/db` after one Postgres round trip
  (`select 1` through postgres.js, the driver the app uses), as a cached read still makes one (the caller check).
  Whatever the app reaches, it cannot beat these on the same cores in the same run.
  Usage: PORT=… DATABASE_URL=… BODY_BYTES=… node --single-threaded-gc bench/http-floor-server.mjs
*/
import http from 'node:http'
import postgres from 'postgres'

const sql = postgres(process.env.DATABASE_URL, { max: 10 })
const body = JSON.stringify({ data: 'x'.repeat(Math.max(0, Number(process.env.BODY_BYTES ?? 600) - 12)) })
const send = (res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}
http
  .createServer((req, res) => {
    if (req.url === '/healthz') return res.end('ok')
    if (req.url === '/db') sql`select 1`.then(() => send(res), () => ((res.statusCode = 500), res.end()))
    else send(res)
  })
  .listen(Number(process.env.PORT), '127.0.0.1')
