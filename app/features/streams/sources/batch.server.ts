import type { Db, Sql } from '#app/db/db.server.ts'
import { applyBatch, parseEvents, type AppliedBatch, type StreamRow } from '../apply.server.ts'
import { publishLive } from '../live.server.ts'
import { liveUpdateOf } from '../streams.server.ts'

/** Where a consumer may be made to fail, for the restart tests: inside the transaction, or after commit before the ack. */
export type FaultPoint = 'before-commit' | 'after-commit'

export interface ConsumerOptions {
  /** this consumer's name in the broker's group (one per process) */
  consumer: string
  /** messages per read */
  batchSize?: number
  /** test hook: throw at this point of the nth batch (1-based); the consumer then stops as a killed one would */
  fault?: { point: FaultPoint; batch: number }
  /** called after each applied batch (after the ack) */
  onBatch?: (b: AppliedBatch) => void
  log?: (msg: string) => void
}

export interface RunningConsumer {
  readonly streamId: string
  /** resolves when the consumer has stopped (after stop(), a fault or a fatal error) */
  readonly done: Promise<void>
  stop(): Promise<void>
}

export class InjectedFault extends Error {
  constructor(point: FaultPoint) {
    super(`injected fault ${point}`)
    this.name = 'InjectedFault'
  }
}

/** A broker message's body → an event object: JSON (a `data` field in Redis, the payload in NATS/Kafka), or flat fields. */
export function messageEvent(fields: Record<string, string>): unknown {
  const json = fields.data ?? fields.event
  if (json !== undefined) {
    try {
      return JSON.parse(json)
    } catch {
      return null
    }
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) ? Number(v) : v
  return out
}

export function parseJson(bytes: Uint8Array | Buffer | string | null | undefined): unknown {
  if (bytes === null || bytes === undefined) return null
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'))
  } catch {
    return null
  }
}

/**
 * Applies one broker batch in one server transaction (message ids recorded so a redelivery is skipped, or offsets
 * written by `commit`), publishes it to live subscribers, and returns it; the caller acks after this returns.
 */
export async function applyBrokerBatch(
  db: Db,
  stream: StreamRow,
  raw: unknown[],
  meta: { ids?: [number, number][]; ingestMs: number[]; commit?: (tx: Sql) => Promise<void> },
  fault?: FaultPoint,
): Promise<AppliedBatch | null> {
  const { events } = parseEvents(raw, stream.analytics, false)
  const applied = await db.transaction(async (tx) => {
    const a = await applyBatch(tx, stream.id, { events, ingestMs: meta.ingestMs, messageIds: meta.ids, commit: meta.commit })
    if (fault === 'before-commit') throw new InjectedFault(fault)
    return a
  })
  if (fault === 'after-commit') throw new InjectedFault(fault)
  if (applied) publishLive(liveUpdateOf(applied))
  return applied
}
