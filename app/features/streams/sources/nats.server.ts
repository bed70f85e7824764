import { AckPolicy, connect, DeliverPolicy, nanos, RetentionPolicy, type JsMsg } from 'nats'
import type { Db } from '#app/db/db.server.ts'
import type { StreamRow } from '../apply.server.ts'
import { applyBrokerBatch, parseJson, type ConsumerOptions, type RunningConsumer } from './batch.server.ts'
import { NATS_JETSTREAM, natsSubject } from './config.server.ts'

/*
  A NATS JetStream source: subject hotdash.stream.<id> in the JetStream stream HOTDASH_STREAMS, read through one durable
  pull consumer per stream (`stream_<id>`) that every worker process pulls from, so they share the messages. A batch is
  applied in one transaction recording the messages' stream sequences (public.stream_applied), then acked. A crash
  before the commit leaves the messages unacked and JetStream redelivers them after ack_wait; a crash between commit
  and ack redelivers sequences already recorded: skipped. Sequences at or below the consumer's ack floor are pruned.
*/

const PRUNE_EVERY_MS = 5_000
const FLUSH_MS = 20

export const natsDurable = (id: string) => id

/** Creates the JetStream stream and the stream's durable consumer when they do not exist. */
export async function ensureNats(url: string, id: string, opts: { ackWaitMs?: number } = {}) {
  const nc = await connect({ servers: url, name: 'hotdash-setup' })
  try {
    const jsm = await nc.jetstreamManager()
    try {
      await jsm.streams.info(NATS_JETSTREAM)
    } catch {
      await jsm.streams.add({ name: NATS_JETSTREAM, subjects: ['hotdash.stream.>'], retention: RetentionPolicy.Limits, max_age: nanos(7 * 86_400_000) })
    }
    try {
      await jsm.consumers.info(NATS_JETSTREAM, natsDurable(id))
    } catch {
      await jsm.consumers.add(NATS_JETSTREAM, {
        durable_name: natsDurable(id),
        filter_subject: natsSubject(id),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(opts.ackWaitMs ?? 30_000),
        max_ack_pending: 50_000,
      })
    }
  } finally {
    await nc.close()
  }
}

/** Removes the stream's durable consumer (the stream was deleted). */
export async function dropNatsConsumer(url: string, id: string) {
  const nc = await connect({ servers: url, name: 'hotdash-setup' })
  try {
    const jsm = await nc.jetstreamManager()
    await jsm.consumers.delete(NATS_JETSTREAM, natsDurable(id)).catch(() => {})
  } finally {
    await nc.close()
  }
}

export function startNatsConsumer(db: Db, stream: StreamRow, url: string, opts: ConsumerOptions & { ackWaitMs?: number }): RunningConsumer {
  const batchSize = opts.batchSize ?? 1000
  let stopped = false
  let batches = 0
  const waker: { wake: (() => void) | null } = { wake: null }
  let closeConn: (() => Promise<void>) | null = null

  const done = (async () => {
    await ensureNats(url, stream.id, { ackWaitMs: opts.ackWaitMs })
    const nc = await connect({ servers: url, name: `hotdash-${opts.consumer}` })
    closeConn = () => nc.close()
    const jsm = await nc.jetstreamManager()
    const consumer = await nc.jetstream().consumers.get(NATS_JETSTREAM, natsDurable(stream.id))
    const messages = await consumer.consume({ max_messages: batchSize * 2 })
    let buf: JsMsg[] = []
    let ended = false
    const reading = (async () => {
      for await (const m of messages) {
        buf.push(m)
        if (buf.length >= batchSize) waker.wake?.()
      }
      ended = true
      waker.wake?.()
    })()
    let lastPrune = Date.now()
    try {
      while (!stopped && !ended) {
        if (!buf.length) await new Promise<void>((r) => ((waker.wake = r), setTimeout(r, FLUSH_MS)))
        waker.wake = null
        if (!buf.length || stopped) continue
        const take = buf.slice(0, batchSize)
        buf = buf.slice(take.length)
        batches++
        const fault = opts.fault && opts.fault.batch === batches ? opts.fault.point : undefined
        const applied = await applyBrokerBatch(
          db,
          stream,
          take.map((m) => parseJson(m.data)),
          { ids: take.map((m) => [m.info.streamSequence, 0]), ingestMs: take.map((m) => m.info.timestampNanos / 1e6) },
          fault,
        )
        for (const m of take) m.ack()
        if (applied) opts.onBatch?.(applied)
        if (Date.now() - lastPrune >= PRUNE_EVERY_MS) {
          lastPrune = Date.now()
          await nc.flush()
          const info = await jsm.consumers.info(NATS_JETSTREAM, natsDurable(stream.id))
          await db.query(`delete from public.stream_applied where stream_id = $1 and msg_hi <= $2`, [stream.id, info.ack_floor.stream_seq])
        }
      }
      await nc.flush().catch(() => {})
    } catch (e) {
      if ((e as Error).name !== 'InjectedFault' && !stopped) {
        opts.log?.(`[streams] nats consumer ${opts.consumer} of ${stream.id} stopped: ${(e as Error).message}`)
        throw e
      }
    } finally {
      await messages.close().catch(() => {})
      await reading.catch(() => {})
      await nc.close().catch(() => {})
    }
  })()

  return {
    streamId: stream.id,
    done: done.catch(() => {}),
    async stop() {
      stopped = true
      waker.wake?.()
      await done.catch(() => {})
      await closeConn?.().catch(() => {})
    },
  }
}
