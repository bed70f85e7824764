import os from 'node:os'
import type { Db } from '#app/db/db.server.ts'
import { STREAM_COLUMNS, type StreamRow } from './apply.server.ts'
import type { RunningConsumer } from './sources/batch.server.ts'
import { brokerConfig } from './sources/config.server.ts'

/*
  The stream consumers of a worker process (the web process in the embedded default, `npm run worker` processes in
  production). Every few seconds it reads the running broker streams and starts a consumer for each one it does
  not run yet — one per process, named after host and pid, in the broker's group, so worker processes share each
  stream — and stops the consumers of streams that were deleted. A consumer that died is started again on the
  next pass. The http source needs none: its requests apply their own batches.
*/

const SCAN_MS = 3000

interface Supervisor {
  db: Db
  consumers: Map<string, RunningConsumer>
  timer: ReturnType<typeof setInterval>
  scanning: Promise<void> | null
  name: string
}

const g = globalThis as { __hotdashStreamSupervisor?: Supervisor }

async function start(db: Db, s: StreamRow, name: string): Promise<RunningConsumer | null> {
  const cfg = brokerConfig()
  const log = (m: string) => console.warn(m)
  if (s.source.type === 'redis' && cfg.redisUrl) {
    const { startRedisConsumer } = await import('./sources/redis.server.ts')
    return startRedisConsumer(db, s, cfg.redisUrl, { consumer: name, log, claimIdleMs: cfg.claimIdleMs })
  }
  if (s.source.type === 'nats' && cfg.natsUrl) {
    const { startNatsConsumer } = await import('./sources/nats.server.ts')
    return startNatsConsumer(db, s, cfg.natsUrl, { consumer: name, log })
  }
  if (s.source.type === 'kafka' && cfg.kafkaBrokers.length) {
    const { startKafkaConsumer } = await import('./sources/kafka.server.ts')
    return startKafkaConsumer(db, s, cfg.kafkaBrokers, { consumer: name, log })
  }
  return null
}

async function scan(sup: Supervisor) {
  const { rows } = await sup.db.query<StreamRow>(
    `select ${STREAM_COLUMNS} from public.streams s where s.status = 'running' and s.source ->> 'type' in ('redis', 'nats', 'kafka')`,
  )
  const live = new Set(rows.map((r) => r.id))
  for (const [id, c] of sup.consumers) {
    if (!live.has(id)) {
      sup.consumers.delete(id)
      await c.stop()
    }
  }
  for (const s of rows) {
    if (sup.consumers.has(s.id)) continue
    const c = await start(sup.db, s, sup.name).catch((e) => {
      console.warn(`[streams] could not start the consumer of ${s.id}: ${(e as Error).message}`)
      return null
    })
    if (!c) continue
    sup.consumers.set(s.id, c)
    // A consumer that stops by itself (the broker went away) is started again on a later pass.
    void c.done.then(() => {
      if (sup.consumers.get(s.id) === c) sup.consumers.delete(s.id)
    })
  }
}

/** Starts this process's stream consumers (idempotent). */
export async function startStreamConsumers(db: Db, opts: { name?: string; scanMs?: number } = {}) {
  if (g.__hotdashStreamSupervisor) return
  const sup: Supervisor = {
    db,
    consumers: new Map(),
    scanning: null,
    name: opts.name ?? `${os.hostname()}-${process.pid}`,
    timer: setInterval(() => {
      if (!sup.scanning) sup.scanning = scan(sup).catch((e) => console.warn(`[streams] scan: ${(e as Error).message}`)).finally(() => (sup.scanning = null))
    }, opts.scanMs ?? SCAN_MS),
  }
  sup.timer.unref?.()
  g.__hotdashStreamSupervisor = sup
  sup.scanning = scan(sup).catch((e) => console.warn(`[streams] scan: ${(e as Error).message}`)).finally(() => (sup.scanning = null))
  await sup.scanning
}

/** Stops every consumer of this process: what they applied is committed; what they had not acked is redelivered. */
export async function stopStreamConsumers() {
  const sup = g.__hotdashStreamSupervisor
  if (!sup) return
  g.__hotdashStreamSupervisor = undefined
  clearInterval(sup.timer)
  await sup.scanning
  await Promise.all([...sup.consumers.values()].map((c) => c.stop()))
  sup.consumers.clear()
}

export const runningStreamConsumers = () => [...(g.__hotdashStreamSupervisor?.consumers.keys() ?? [])]
