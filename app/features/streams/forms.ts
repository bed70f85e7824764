/** The Streams page's create form → the API's create body (the same zod schema validates both). */
export function createStreamForm(f: FormData) {
  const text = (k: string) => {
    const v = f.get(k)
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined
  }
  const list = (k: string) => (text(k) ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const type = text('type') ?? 'tumbling'
  const threshold = text('threshold')
  return {
    stream_name: text('stream_name') ?? '',
    source: { type: text('source_type') ?? 'http' },
    analytics: {
      window: text('window') ?? '',
      type,
      ...(type === 'sliding' && text('slide') ? { slide: text('slide') } : {}),
      aggregations: f.getAll('aggregations').map(String),
      ...(text('value_field') ? { value_field: text('value_field') } : {}),
      ...(text('time_field') ? { time_field: text('time_field') } : {}),
      group_by: list('group_by'),
      ...(text('allowed_lateness') ? { allowed_lateness: text('allowed_lateness') } : {}),
      ...(threshold ? { anomaly: { threshold: Number(threshold) } } : {}),
    },
  }
}

/** A batch of sample events for an http stream (the page's "Send test events"): now, with a value around 100. */
export function sampleEvents(n: number, opts: { timeField: string; valueField: string; groupBy: string[]; spike?: boolean }) {
  const now = Date.now()
  return Array.from({ length: n }, (_, i) => {
    const e: Record<string, unknown> = { [opts.timeField]: now - Math.floor(Math.random() * 2000), [opts.valueField]: Math.round((opts.spike ? 1000 : 100) + (Math.random() - 0.5) * 40) }
    for (const g of opts.groupBy) e[g] = ['north', 'south', 'east'][i % 3]
    return e
  })
}
