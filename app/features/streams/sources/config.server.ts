/** Where the broker sources connect: only the server's own configuration, never an address a stream names. */
export function brokerConfig(env: Record<string, string | undefined> = process.env) {
  return {
    redisUrl: env.REDIS_URL || null,
    natsUrl: env.NATS_URL || null,
    kafkaBrokers: (env.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    /** how long a dead consumer's pending Redis entries stay idle before another consumer claims them (default 30 s) */
    claimIdleMs: Number(env.HD_STREAM_CLAIM_IDLE_MS) > 0 ? Number(env.HD_STREAM_CLAIM_IDLE_MS) : undefined,
  }
}

/** The Redis Stream a redis-source stream reads (producers XADD here; the create answer names it). */
export const redisStreamKey = (id: string) => `hotdash:stream:${id}`
/** The JetStream subject a nats-source stream reads, in the HOTDASH_STREAMS JetStream stream. */
export const natsSubject = (id: string) => `hotdash.stream.${id}`
export const NATS_JETSTREAM = 'HOTDASH_STREAMS'
export const CONSUMER_GROUP = 'hotdash'
