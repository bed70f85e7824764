import { z } from 'zod'

/** Every environment variable the server reads. Checked once at boot; a bad value stops the process naming it. */
const variables = z.object({
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
  ALLOW_LOCAL_STATE_IN_PRODUCTION: z.enum(['true', 'false']).optional(),
  // Set by Fly on its machines: Fly-Client-IP is then the client's address (app/http/client-address.server.ts).
  FLY_APP_NAME: z.string().optional(),
  // Proxies of ours in front of the app that append to X-Forwarded-For; 0 = believe only the socket.
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
})

const LOCAL_STATE_HINT =
  'ALLOW_LOCAL_STATE_IN_PRODUCTION=true runs production on this machine\'s own state all the same (the e2e suite; a single machine with a persistent volume)'

/**
 * Production keeps nothing on the machine's own disk: a deploy replaces the disk, and a second machine has
 * another one (another embedded database, another generated JWT secret: random 401s, files that 404).
 */
const schema = variables.superRefine((env, ctx) => {
  if (env.NODE_ENV !== 'production' || env.ALLOW_LOCAL_STATE_IN_PRODUCTION === 'true') return
  const missing = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message, params: { localState: true } })
  if (!env.DATABASE_URL) {
    missing('DATABASE_URL', 'required in production: without it the database is the embedded one on this machine\'s disk')
  }
  if (!env.JWT_SECRET && !env.SUPABASE_JWT_SECRET) {
    missing('JWT_SECRET', 'required in production (or SUPABASE_JWT_SECRET with Supabase Auth): a generated secret differs on every machine and every deploy')
  }
  if (!env.SUPABASE_URL || !env.SUPABASE_SERVICE_ROLE_KEY) {
    missing(
      env.SUPABASE_URL ? 'SUPABASE_SERVICE_ROLE_KEY' : 'SUPABASE_URL',
      'shared file storage is required in production (Supabase Storage: SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY): local files under DATA_DIR are one machine\'s',
    )
  }
})

export type Env = z.infer<typeof schema>

let cached: Env | undefined
// Once per process (a test that resets the cache does not hear it again).
let localStateWarned = false

/** The variables checked, or one line per problem naming the variable. */
export function parseEnv(source: Record<string, string | undefined>): { env: Env; problems?: undefined } | { env?: undefined; problems: string[] } {
  const parsed = schema.safeParse(source)
  if (parsed.success) return { env: parsed.data }
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  if (parsed.error.issues.some((i) => i.code === 'custom' && i.params?.localState)) problems.push(LOCAL_STATE_HINT)
  return { problems }
}

export function getEnv(): Env {
  if (cached) return cached
  const { env, problems } = parseEnv(process.env)
  if (problems) {
    const text = `Invalid environment variables:\n${problems.map((p) => `  ${p}`).join('\n')}`
    // A process that cannot start says why and stops, without a stack trace; tests get the error.
    if (process.env.NODE_ENV === 'test') throw new Error(text)
    console.error(text)
    process.exit(1)
  }
  const local = [
    !env.DATABASE_URL && 'the embedded database',
    !env.JWT_SECRET && !env.SUPABASE_JWT_SECRET && 'a generated JWT secret',
    !(env.SUPABASE_URL && env.SUPABASE_SERVICE_ROLE_KEY) && 'local files',
  ].filter(Boolean)
  if (env.NODE_ENV === 'production' && local.length && !localStateWarned) {
    localStateWarned = true
    console.warn(`[env] ALLOW_LOCAL_STATE_IN_PRODUCTION: production on ${local.join(', ')} in ${env.DATA_DIR}, on this machine only`)
  }
  cached = env
  return cached
}

/** Tests change process.env between suites; this forgets the parsed copy. */
export function resetEnvCache() {
  cached = undefined
}

export const isProduction = () => getEnv().NODE_ENV === 'production'
