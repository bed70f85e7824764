import { seededRandom } from '#app/features/analytics/stats.ts'
import type { TestApp, TestUser } from './app.ts'

/**
 * Deterministic datasets for the analytics tests: a daily marketing table (revenue with diminishing returns on
 * spend, a price effect, a weekly pattern, a trend and noise) and a customer table with three segments.
 */

export interface MarketingRow {
  day: string
  region: string
  marketing_spend: number | null
  price: number
  inventory: number
  staff: number
  revenue: number
  promo: boolean
}

export function marketingRows(days = 240, seed = 1): MarketingRow[] {
  const rand = seededRandom(seed)
  const regions = ['north', 'south', 'east', 'west']
  const out: MarketingRow[] = []
  for (let i = 0; i < days; i++) {
    const date = new Date(Date.UTC(2024, 0, 1) + i * 86_400_000)
    const dow = date.getUTCDay()
    const spend = Math.round((2000 + rand() * 8000) * 100) / 100
    const price = Math.round((80 + rand() * 40) * 100) / 100
    const inventory = Math.round(500 + rand() * 500)
    const staff = Math.round(8 + spend / 1000 + rand() * 4)
    const weekly = dow === 0 || dow === 6 ? 1500 : 0
    const revenue = 5000 + 900 * Math.sqrt(spend) - 0.6 * (price - 100) ** 2 * 10 + 40 * price + weekly + 12 * i + (rand() - 0.5) * 3000
    out.push({
      day: date.toISOString().slice(0, 10),
      region: regions[Math.floor(rand() * rand() * 4)],
      marketing_spend: i % 37 === 5 ? null : spend,
      price,
      inventory,
      staff,
      revenue: Math.round(revenue * 100) / 100,
      promo: rand() < 0.2,
    })
  }
  return out
}

export const MARKETING_SCHEMA = [
  { column_name: 'day', data_type: 'Date' },
  { column_name: 'region', data_type: 'String' },
  { column_name: 'marketing_spend', data_type: 'Float' },
  { column_name: 'price', data_type: 'Float' },
  { column_name: 'inventory', data_type: 'Integer' },
  { column_name: 'staff', data_type: 'Integer' },
  { column_name: 'revenue', data_type: 'Float' },
  { column_name: 'promo', data_type: 'Boolean' },
]

export function marketingCsv(rows: MarketingRow[]) {
  const head = MARKETING_SCHEMA.map((c) => c.column_name).join(',')
  return `${head}\n${rows.map((r) => [r.day, r.region, r.marketing_spend ?? '', r.price, r.inventory, r.staff, r.revenue, r.promo].join(',')).join('\n')}\n`
}

export interface CustomerRow {
  customer: string
  purchase_frequency: number
  average_spend: number
  recency: number
}

export function customerRows(n = 900, seed = 2): CustomerRow[] {
  const rand = seededRandom(seed)
  const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand())
  const centres = [[12, 450, 7], [2, 120, 60], [6, 250, 25]]
  return Array.from({ length: n }, (_, i) => {
    const c = centres[i % 3]
    return {
      customer: `C${String(i).padStart(5, '0')}`,
      purchase_frequency: Math.round(Math.max(0, c[0] + gauss() * 1.5) * 100) / 100,
      average_spend: Math.round(Math.max(1, c[1] + gauss() * 40) * 100) / 100,
      recency: Math.round(Math.max(0, c[2] + gauss() * 6)),
    }
  })
}

export const CUSTOMER_SCHEMA = [
  { column_name: 'customer', data_type: 'String' },
  { column_name: 'purchase_frequency', data_type: 'Float' },
  { column_name: 'average_spend', data_type: 'Float' },
  { column_name: 'recency', data_type: 'Integer' },
]

export function customerCsv(rows: CustomerRow[]) {
  return `customer,purchase_frequency,average_spend,recency\n${rows.map((r) => [r.customer, r.purchase_frequency, r.average_spend, r.recency].join(',')).join('\n')}\n`
}

export { uploadDataset } from './app.ts'

/** An API key of a new client with these scopes, as the AS spec's clients send it (Bearer + X-WIA-Client-ID). */
export async function apiKeyHeaders(app: TestApp, admin: TestUser, scopes: string[]) {
  const c = await app.fetch('/api/v1/auth/clients', { method: 'POST', headers: admin.auth, json: { name: `analytics-${scopes.join('-')}`, scopes } })
  const client = await c.json()
  if (c.status !== 201) throw new Error(`client: ${c.status} ${JSON.stringify(client)}`)
  const k = await app.fetch('/api/v1/auth/apikey', { method: 'POST', json: { client_id: client.client_id, client_secret: client.client_secret, scope: scopes } })
  const key = await k.json()
  if (k.status !== 201) throw new Error(`apikey: ${k.status} ${JSON.stringify(key)}`)
  return { authorization: `Bearer ${key.api_key}`, 'x-wia-client-id': client.client_id as string }
}
