import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { getEnv } from '#app/env.server.ts'

/*
  Credentials at rest: AES-256-GCM with a random 96-bit IV per value and the row's id as associated data (a sealed
  value copied to another row does not open). The key is MARKETPLACE_SECRET_KEY; in development one is generated into
  DATA_DIR (like the JWT secret), in tests one per process. Sealed form: `v1:<iv>:<tag>:<ciphertext>`, base64url.
*/

const g = globalThis as { __hotdashMarketplaceKey?: Buffer }

function key(): Buffer {
  if (g.__hotdashMarketplaceKey) return g.__hotdashMarketplaceKey
  const env = getEnv()
  let k: Buffer
  if (env.MARKETPLACE_SECRET_KEY) {
    const v = env.MARKETPLACE_SECRET_KEY
    k = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, v.includes('+') || v.includes('/') ? 'base64' : 'base64url')
  } else if (env.NODE_ENV === 'test') k = crypto.randomBytes(32)
  else {
    const file = path.resolve(env.DATA_DIR, 'marketplace-secret-key')
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600 })
    }
    k = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex')
  }
  if (k.length !== 32) throw new Error('MARKETPLACE_SECRET_KEY must be 32 bytes')
  g.__hotdashMarketplaceKey = k
  return k
}

export function seal(value: unknown, boundTo: string): string {
  const iv = crypto.randomBytes(12)
  const cipher = crypto.createCipheriv('aes-256-gcm', key(), iv)
  cipher.setAAD(Buffer.from(boundTo))
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()])
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join(':')
}

export function unseal<T = unknown>(sealed: string, boundTo: string): T {
  const [v, iv, tag, ct] = sealed.split(':')
  if (v !== 'v1' || !iv || !tag || !ct) throw new Error('sealed value: unknown format')
  const decipher = crypto.createDecipheriv('aes-256-gcm', key(), Buffer.from(iv, 'base64url'))
  decipher.setAAD(Buffer.from(boundTo))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return JSON.parse(Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8')) as T
}

/** A random id with a prefix: `asset_…`, 16 characters of [0-9a-z]. */
export function newId(prefix: string) {
  const bytes = crypto.randomBytes(16)
  let s = ''
  for (const b of bytes) s += '0123456789abcdefghijklmnopqrstuvwxyz'[b % 36]
  return `${prefix}_${s}`
}
