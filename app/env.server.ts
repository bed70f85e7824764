import { z } from 'zod'

/** Every environment variable the server reads. Checked once at boot; a bad value stops the process naming it. */
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().positive().default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
  DATA_DIR: z.string().default('.data'),
  JWT_SECRET: z.string().min(32).optional(),
  JWT_ISSUER: z.string().default('hot-dash'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(60 * 60 * 24 * 30),
  SUPABASE_URL: z.string().url().optional(),
  SUPABASE_ANON_KEY: z.string().optional(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().optional(),
  SUPABASE_JWT_SECRET: z.string().optional(),
  SUPABASE_STORAGE_BUCKET: z.string().default('hot-dash'),
  REDIS_URL: z.string().url().optional(),
  RUN_WORKER: z.enum(['true', 'false']).optional(),
  SEED_DEMO_DATA: z.enum(['true', 'false']).optional(),
  LOG_REQUESTS: z.enum(['true', 'false']).optional(),
  SIMULATE_ACTIVITY: z.enum(['true', 'false']).optional(),
  // Training (app/features/ml): a Ray cluster's dashboard address for external trainings, the Python with native
  // XGBoost for local external trainings, the address external trainers call back, and the lost-worker heartbeat.
  RAY_ADDRESS: z.string().url().optional(),
  HD_TRAINER_PYTHON: z.string().default('/usr/bin/python3'),
  HD_CALLBACK_URL: z.string().url().optional(),
  HD_TRAIN_HEARTBEAT_SECONDS: z.coerce.number().positive().default(10),
  HD_TRAIN_STALE_SECONDS: z.coerce.number().positive().default(120),
  // Set by Fly on its machines: Fly-Client-IP is then the client's address (app/http/client-address.server.ts).
  FLY_APP_NAME: z.string().optional(),
  // Proxies of ours in front of the app that append to X-Forwarded-For; 0 = believe only the socket.
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
})

export type Env = z.infer<typeof schema>

let cached: Env | undefined

export function getEnv(): Env {
  if (cached) return cached
  const parsed = schema.safeParse(process.env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new Error(`Invalid environment variables:\n${lines.join('\n')}`)
  }
  cached = parsed.data
  return cached
}

/** Tests change process.env between suites; this forgets the parsed copy. */
export function resetEnvCache() {
  cached = undefined
}

export const isProduction = () => getEnv().NODE_ENV === 'production'
