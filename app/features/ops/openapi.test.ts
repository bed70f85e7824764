import { describe, expect, it } from 'vitest'
import { buildOpenApi } from '#app/http/openapi.server.ts'

describe('OpenAPI document', () => {
  it('describes every operations endpoint with its parameters', async () => {
    const doc: any = await (buildOpenApi as () => unknown)()
    for (const p of ['dashboard/summary', 'dashboard/trends', 'dashboard/anomalies', 'agent/queue', 'agent/accuracy', 'agent/quality', 'agent/summary']) {
      expect(doc.paths[`/api/v1/analytics/${p}`]?.get, p).toBeDefined()
    }
    expect(doc.paths['/api/v1/analytics/export/training-data']?.post).toBeDefined()
    expect(doc.paths['/api/v1/approvals']?.get).toBeDefined()
    expect(doc.paths['/api/v1/approvals/{id}']?.post).toBeDefined()
    expect(doc.paths['/api/v1/ingest/{kind}']?.post).toBeDefined()
    const names = (doc.paths['/api/v1/analytics/dashboard/trends'].get.parameters ?? []).map((x: any) => x.name)
    expect(names).toContain('hours')
  })
})
