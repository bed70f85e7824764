import { describe, expect, it } from 'vitest'
import { parseEnv } from './env.server.ts'

const SERVER_STATE = {
  DATABASE_URL: 'postgres://app@db.internal:5432/hotdash',
  JWT_SECRET: 'x'.repeat(40),
  SUPABASE_URL: 'https://project.supabase.co',
  SUPABASE_SERVICE_ROLE_KEY: 'service-role-key',
}

describe('the environment in production', () => {
  it('refuses to start on local state, naming each missing variable', () => {
    const { problems } = parseEnv({ NODE_ENV: 'production' })
    expect(problems?.slice(0, 3).map((p) => p.split(':')[0])).toEqual(['DATABASE_URL', 'JWT_SECRET', 'SUPABASE_URL'])
    expect(problems![0]).toMatch(/required in production/)
    // and the way out, said once
    expect(problems!.slice(3)).toEqual([expect.stringMatching(/^ALLOW_LOCAL_STATE_IN_PRODUCTION=true runs production/)])
  })

  it('names exactly what is missing', () => {
    const { DATABASE_URL: _d, ...noDatabase } = SERVER_STATE
    expect(parseEnv({ NODE_ENV: 'production', ...noDatabase }).problems?.[0]).toMatch(/^DATABASE_URL: /)
    const { JWT_SECRET: _j, ...noSecret } = SERVER_STATE
    expect(parseEnv({ NODE_ENV: 'production', ...noSecret }).problems?.[0]).toMatch(/^JWT_SECRET: /)
    const { SUPABASE_SERVICE_ROLE_KEY: _k, ...noStorageKey } = SERVER_STATE
    expect(parseEnv({ NODE_ENV: 'production', ...noStorageKey }).problems?.[0]).toMatch(/^SUPABASE_SERVICE_ROLE_KEY: shared file storage/)
  })

  it('starts with a server database, an explicit secret and shared storage', () => {
    expect(parseEnv({ NODE_ENV: 'production', ...SERVER_STATE }).problems).toBeUndefined()
    // Supabase Auth's project secret is an explicit secret too.
    const { JWT_SECRET: _j, ...supabaseAuth } = SERVER_STATE
    expect(parseEnv({ NODE_ENV: 'production', ...supabaseAuth, SUPABASE_JWT_SECRET: 'project-secret' }).problems).toBeUndefined()
  })

  it('runs on local state only when told to explicitly (the e2e suite)', () => {
    expect(parseEnv({ NODE_ENV: 'production', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true' }).problems).toBeUndefined()
    expect(parseEnv({ NODE_ENV: 'production', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'false' }).problems).toHaveLength(4)
  })

  it('keeps the embedded defaults for development and tests', () => {
    expect(parseEnv({ NODE_ENV: 'development' }).env?.DATABASE_URL).toBeUndefined()
    expect(parseEnv({}).env?.NODE_ENV).toBe('development')
    expect(parseEnv({ NODE_ENV: 'test' }).problems).toBeUndefined()
  })
})
