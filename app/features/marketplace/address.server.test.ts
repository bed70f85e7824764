import { afterEach, describe, expect, it } from 'vitest'
import { addressVerdict, checkCallbackUrl, classifyAddress, resolveTarget } from './address.server.ts'

const saved = process.env.HD_ALLOW_PRIVATE_TARGETS
afterEach(() => {
  if (saved === undefined) delete process.env.HD_ALLOW_PRIVATE_TARGETS
  else process.env.HD_ALLOW_PRIVATE_TARGETS = saved
})

describe('connection targets (SSRF)', () => {
  it('classifies metadata, link-local and reserved addresses as refused, whatever the spelling', () => {
    for (const ip of ['169.254.169.254', '169.254.1.1', '0.0.0.0', '224.0.0.1', 'fe80::1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', 'fd00:ec2::254', '100.100.100.200', '::']) {
      expect(classifyAddress(ip), ip).toBe('refused')
    }
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '::1', 'fd12::1', '::ffff:10.0.0.1', '100.64.0.1']) expect(classifyAddress(ip), ip).toBe('private')
    expect(classifyAddress('8.8.8.8')).toBe('public')
  })

  it('private addresses only when the operator allows them; metadata never', async () => {
    delete process.env.HD_ALLOW_PRIVATE_TARGETS
    expect(addressVerdict('127.0.0.1').ok).toBe(false)
    process.env.HD_ALLOW_PRIVATE_TARGETS = '127.0.0.1/32'
    expect(addressVerdict('127.0.0.1').ok).toBe(true)
    expect(addressVerdict('127.0.0.2').ok).toBe(false)
    process.env.HD_ALLOW_PRIVATE_TARGETS = '0.0.0.0/0'
    expect(addressVerdict('169.254.169.254').ok).toBe(false)
    await expect(resolveTarget('169.254.169.254', 'connection_config.host')).rejects.toMatchObject({ status: 400, details: { field: 'connection_config.host' } })
  })

  it('resolves names and checks what they resolve to', async () => {
    delete process.env.HD_ALLOW_PRIVATE_TARGETS
    await expect(resolveTarget('localhost', 'h')).rejects.toMatchObject({ status: 400 })
    process.env.HD_ALLOW_PRIVATE_TARGETS = '127.0.0.1/32,::1/128'
    expect((await resolveTarget('localhost', 'h')).address).toMatch(/^(127\.0\.0\.1|::1)$/)
    await expect(checkCallbackUrl('ftp://127.0.0.1/x', 'callback_url')).rejects.toMatchObject({ status: 400 })
    await expect(checkCallbackUrl('http://user:pw@127.0.0.1/x', 'callback_url')).rejects.toMatchObject({ status: 400 })
    await expect(checkCallbackUrl('http://[::ffff:169.254.169.254]/latest/meta-data', 'callback_url')).rejects.toMatchObject({ status: 400 })
    expect((await checkCallbackUrl('http://127.0.0.1:9/x', 'callback_url')).address).toBe('127.0.0.1')
  })
})
