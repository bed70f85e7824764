import type { Sql } from '#app/db/db.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { computeStatistics, createDataset, serverLoadTx, STATISTICS_JOB } from '#app/features/datasets/datasets.server.ts'
import { recordCompletedJob } from '#app/jobs/jobs.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { pick } from './random.ts'
import type { DemoTenant } from './seed.server.ts'

/**
 * Demo datasets: per tenant a "Telecom Customer Usage" template and a dataset validated against it (with a few
 * broken rows, so the error report has something to show), plus a network-congestion dataset loaded without a
 * template (types inferred). Statistics are computed up front. Deterministic through the seeded rng.
 */

const TELECOM: ColumnSpec[] = [
  { column_name: 'CustomerID', data_type: 'String', default_value: 'CUST-0000' },
  { column_name: 'PlanType', data_type: 'String', default_value: null },
  { column_name: 'DataUsageGB', data_type: 'Float', default_value: '0.0' },
  { column_name: 'CallMinutes', data_type: 'Integer', default_value: null },
  { column_name: 'Roaming', data_type: 'Boolean', default_value: 'false' },
  { column_name: 'SignupDate', data_type: 'Date', default_value: null },
  { column_name: 'Churn', data_type: 'Boolean', default_value: null },
]

function telecomCsv(rng: () => number, n: number, now: Date): string {
  const lines = [TELECOM.map((c) => c.column_name).join(',')]
  for (let i = 1; i <= n; i++) {
    const plan = pick(rng, ['Basic', 'Standard', 'Premium'] as const)
    const usage = (plan === 'Premium' ? 20 : plan === 'Standard' ? 8 : 2) * (0.3 + rng() * 1.7)
    const minutes = Math.round(50 + rng() * 900)
    const signup = new Date(now.getTime() - Math.floor(rng() * 1200) * 86400000).toISOString().slice(0, 10)
    const churn = rng() < (plan === 'Basic' ? 0.3 : 0.12)
    const row = [`CUST-${String(i).padStart(5, '0')}`, plan, usage.toFixed(2), String(minutes), rng() < 0.1 ? 'yes' : 'no', signup, String(churn)]
    // ~2% of rows carry a typical export defect
    const r = rng()
    if (r < 0.005) row[2] = 'n/a'
    else if (r < 0.01) row[3] = `${minutes}.5`
    else if (r < 0.015) row[5] = signup.split('-').reverse().join('/')
    else if (r < 0.02) row[6] = 'unknown'
    else if (r < 0.05) row[2] = ''
    lines.push(row.join(','))
  }
  return lines.join('\r\n') + '\r\n'
}

function congestionCsv(rng: () => number, n: number, now: Date): string {
  const lines = ['timestamp,tower_id,traffic_load_gbps,connected_users,Congestion_Level_Percent']
  const start = now.getTime() - n * 60_000
  for (let i = 0; i < n; i++) {
    const tower = `TOWER_${String(1 + (i % 5)).padStart(3, '0')}`
    const hour = new Date(start + i * 60_000).getUTCHours()
    const peak = hour >= 17 && hour <= 21 ? 1.8 : 1
    const load = (0.6 + rng() * 1.2) * peak
    const users = Math.round(load * 120 + rng() * 30)
    lines.push([new Date(start + i * 60_000).toISOString().slice(0, 19) + 'Z', tower, load.toFixed(2), users, Math.min(100, load * 12 + rng() * 5).toFixed(1)].join(','))
  }
  return lines.join('\n') + '\n'
}

export async function seedDatasets(db: Sql, tenants: DemoTenant[], rng: () => number, now: Date) {
  const store = getFileStore()
  for (const t of tenants) {
    // The data scientist "uploads": audit names come from these claims.
    await db.query(`select set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ sub: t.users.data_scientist, role: 'authenticated', app_metadata: { tenant_id: t.id } }),
    ])
    const { rows: tpl } = await db.query<{ id: number }>(
      `insert into public.templates (tenant_id, template_name, template_schema) values ($1, 'Telecom Customer Usage', $2::jsonb) returning id`,
      [t.id, JSON.stringify(TELECOM)],
    )
    const datasets: [string, string, ColumnSpec[], number | undefined, string][] = [
      ['telecom-usage-q3', 't', TELECOM, tpl[0].id, telecomCsv(rng, t.slug === 'acme' ? 2000 : 800, now)],
      [
        'network-congestion',
        'f',
        [
          { column_name: 'timestamp', data_type: 'DateTime', default_value: null },
          { column_name: 'tower_id', data_type: 'String', default_value: null },
          { column_name: 'traffic_load_gbps', data_type: 'Float', default_value: null },
          { column_name: 'connected_users', data_type: 'Integer', default_value: null },
          { column_name: 'Congestion_Level_Percent', data_type: 'Float', default_value: null },
        ],
        undefined,
        congestionCsv(rng, 1440, now),
      ],
    ]
    for (const [name, usage, columns, templateId, csv] of datasets) {
      const key = `tenants/${t.id}/uploads/demo/${name}.csv`
      const { size } = await store.put(key, Buffer.from(csv, 'utf8'))
      const res = await createDataset(serverLoadTx(db), t.id, { dataset_name: name, usage, template_id: templateId }, columns, templateId === undefined, [
        { fileName: `${name}.csv`, key, size },
      ])
      const stats = await computeStatistics(db, t.id, res.dataset_id)
      const jobId = await recordCompletedJob(db, STATISTICS_JOB, { tenantId: t.id, message: 'Computed by the demo seed' })
      await db.query(`insert into public.dataset_statistics (dataset_id, tenant_id, job_id, result) values ($1, $2, $3, $4::jsonb)`, [
        res.dataset_id,
        t.id,
        jobId,
        JSON.stringify(stats),
      ])
    }
  }
  await db.query(`select set_config('request.jwt.claims', '', true)`)
}
