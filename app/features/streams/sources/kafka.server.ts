import { Kafka, logLevel, type Consumer } from 'kafkajs'
import type { Db, Sql } from '#app/db/db.server.ts'
import type { StreamRow } from '../apply.server.ts'
import { applyBrokerBatch, parseJson, type ConsumerOptions, type RunningConsumer } from './batch.server.ts'

/*
  A Kafka source (kafkajs): consumer group `hotdash-<stream id>` on the stream's topic, so the worker processes share
  its partitions. Offsets live in Postgres (public.stream_offsets), written in the transaction that applies the batch,
  and are where a consumer seeks when it is given a partition: a batch is in the windows exactly when its offsets
  are, whatever dies when. Kafka's own committed offsets are not used (autoCommit off).
*/

export function startKafkaConsumer(db: Db, stream: StreamRow, brokers: string[], opts: ConsumerOptions): RunningConsumer {
  const source = stream.source as { type: 'kafka'; topic: string; brokers?: string[] }
  const kafka = new Kafka({ clientId: `hotdash-${opts.consumer}`, brokers: source.brokers ?? brokers, logLevel: logLevel.WARN })
  const consumer: Consumer = kafka.consumer({ groupId: `hotdash-${stream.id}` })
  let batches = 0

  const seekStored = async () => {
    const { rows } = await db.query<{ partition: string; next_offset: string }>(`select partition, next_offset from public.stream_offsets where stream_id = $1`, [stream.id])
    for (const r of rows) consumer.seek({ topic: source.topic, partition: Number(r.partition), offset: r.next_offset })
  }

  const done = (async () => {
    await consumer.connect()
    await consumer.subscribe({ topics: [source.topic], fromBeginning: true })
    consumer.on(consumer.events.GROUP_JOIN, () => {
      void seekStored().catch((e) => opts.log?.(`[streams] kafka seek for ${stream.id}: ${(e as Error).message}`))
    })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || !batch.messages.length) return
        batches++
        const fault = opts.fault && opts.fault.batch === batches ? opts.fault.point : undefined
        const last = batch.messages[batch.messages.length - 1]
        const next = (BigInt(last.offset) + 1n).toString()
        const commit = async (tx: Sql) => {
          // Only forward: a stale member's late batch cannot move the offset back.
          await tx.query(
            `insert into public.stream_offsets as o (stream_id, partition, next_offset) values ($1, $2, $3)
             on conflict (stream_id, partition) do update set next_offset = excluded.next_offset
              where excluded.next_offset::numeric > o.next_offset::numeric`,
            [stream.id, String(batch.partition), next],
          )
          // Ids below this batch are behind the stored offset, where a consumer seeks: they cannot come back.
          await tx.query(`delete from public.stream_applied where stream_id = $1 and msg_hi = $2 and msg_lo < $3`, [stream.id, batch.partition, Number(batch.messages[0].offset)])
        }
        // (partition, offset) is the message id: a batch replayed after a rebalance is skipped inside the transaction.
        const applied = await applyBrokerBatch(
          db,
          stream,
          batch.messages.map((m) => parseJson(m.value)),
          { ids: batch.messages.map((m) => [batch.partition, Number(m.offset)]), ingestMs: batch.messages.map((m) => Number(m.timestamp)), commit },
          fault,
        )
        resolveOffset(last.offset)
        await heartbeat()
        if (applied) opts.onBatch?.(applied)
      },
    })
  })()

  return {
    streamId: stream.id,
    done: done.catch(() => {}),
    async stop() {
      await consumer.disconnect().catch(() => {})
    },
  }
}
