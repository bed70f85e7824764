/** Where the broker sources connect: only the server's own configuration, never an address a stream names. */
export function brokerConfig(env: Record<string, string | undefined> = process.env) {
  return {
    redisUrl: env.REDIS_URL || null,
    natsUrl: env.NATS_URL || null,
    kafkaBrokers: (env.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  }
}

/** The Redis Stream a redis-source stream reads (producers XADD here; the create answer names it). */
export const redisStreamKey = (id: string) => `hotdash:stream:${id}`
/** The JetStream subject a nats-source stream reads, in the HOTDASH_STREAMS JetStream stream. */
export const natsSubject = (id: string) => `hotdash.stream.${id}`
export const NATS_JETSTREAM = 'HOTDASH_STREAMS'
export const CONSUMER_GROUP = 'hotdash'
