import dns from 'node:dns/promises'
import net from 'node:net'
import { badRequest } from '#app/http/errors.server.ts'

/*
  Where the marketplace may connect (data sources) or call (webhooks): never link-local, cloud metadata, unspecified,
  multicast or reserved addresses; loopback and private ranges only when the operator lists them in
  HD_ALLOW_PRIVATE_TARGETS (comma-separated CIDRs, e.g. `127.0.0.1/32,10.0.0.0/8`). A host name must resolve to
  allowed addresses only, and the caller connects to the address checked here (no second lookup to rebind).
*/

const ALWAYS_REFUSED = new net.BlockList()
// link-local (AWS/GCP/Azure metadata 169.254.169.254 among them), unspecified, "this network", multicast, reserved, broadcast
ALWAYS_REFUSED.addSubnet('169.254.0.0', 16, 'ipv4')
ALWAYS_REFUSED.addSubnet('0.0.0.0', 8, 'ipv4')
ALWAYS_REFUSED.addSubnet('224.0.0.0', 4, 'ipv4')
ALWAYS_REFUSED.addSubnet('240.0.0.0', 4, 'ipv4')
ALWAYS_REFUSED.addAddress('100.100.100.200', 'ipv4') // Alibaba Cloud metadata
ALWAYS_REFUSED.addSubnet('fe80::', 10, 'ipv6')
ALWAYS_REFUSED.addSubnet('ff00::', 8, 'ipv6')
ALWAYS_REFUSED.addAddress('::', 'ipv6')
ALWAYS_REFUSED.addAddress('fd00:ec2::254', 'ipv6') // AWS metadata over IPv6

const PRIVATE = new net.BlockList()
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4')
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4')
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4')
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4')
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4') // carrier-grade NAT
PRIVATE.addSubnet('198.18.0.0', 15, 'ipv4')
PRIVATE.addAddress('::1', 'ipv6')
PRIVATE.addSubnet('fc00::', 7, 'ipv6')

export type AddressClass = 'refused' | 'private' | 'public'

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries. */
function normalise(ip: string): { ip: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped) return { ip: mapped[1], family: 'ipv4' }
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip)
  if (hex) {
    const hi = parseInt(hex[1], 16)
    const lo = parseInt(hex[2], 16)
    return { ip: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 'ipv4' }
  }
  return { ip, family: net.isIPv4(ip) ? 'ipv4' : 'ipv6' }
}

export function classifyAddress(address: string): AddressClass {
  const { ip, family } = normalise(address)
  if (ALWAYS_REFUSED.check(ip, family)) return 'refused'
  if (PRIVATE.check(ip, family)) return 'private'
  return 'public'
}

function operatorAllowList(): net.BlockList {
  const list = new net.BlockList()
  for (const entry of (process.env.HD_ALLOW_PRIVATE_TARGETS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [ip, bits] = entry.split('/')
    const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : null
    if (!family) continue
    list.addSubnet(ip, bits ? Number(bits) : family === 'ipv4' ? 32 : 128, family)
  }
  return list
}

/** Whether one address may be reached, and why not. */
export function addressVerdict(address: string): { ok: true } | { ok: false; reason: string } {
  const c = classifyAddress(address)
  if (c === 'refused') return { ok: false, reason: `${address} is a link-local, metadata or reserved address` }
  if (c === 'private') {
    const { ip, family } = normalise(address)
    if (!operatorAllowList().check(ip, family)) {
      return { ok: false, reason: `${address} is a private or loopback address; the operator has not allowed it (HD_ALLOW_PRIVATE_TARGETS)` }
    }
  }
  return { ok: true }
}

/**
 * Resolves `host` and checks every address it has; returns the one to connect to. `field` names the request field in
 * the 400 a refused target gets.
 */
export async function resolveTarget(host: string, field: string): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.replace(/^\[(.*)\]$/, '$1')
  let addresses: { address: string; family: number }[]
  if (net.isIP(bare)) addresses = [{ address: bare, family: net.isIP(bare) }]
  else {
    if (!/^[a-z0-9.-]{1,253}$/i.test(bare)) throw badRequest(field, `'${host}' is not a host name`)
    try {
      addresses = await dns.lookup(bare, { all: true, verbatim: true })
    } catch {
      throw badRequest(field, `'${host}' does not resolve`)
    }
  }
  for (const a of addresses) {
    const v = addressVerdict(a.address)
    if (!v.ok) throw badRequest(field, `refused target: ${v.reason}`, { code_detail: 'TARGET_REFUSED' })
  }
  return { address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 }
}

/** A webhook URL: http(s) only, no credentials in it, its host resolving to allowed addresses. */
export async function checkCallbackUrl(url: string, field: string) {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw badRequest(field, 'must be a URL')
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw badRequest(field, 'must be an http(s) URL')
  if (u.username || u.password) throw badRequest(field, 'must not carry credentials')
  const target = await resolveTarget(u.hostname, field)
  return { url: u, ...target }
}
