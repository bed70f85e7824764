import type { Db } from '#app/db/db.server.ts'
import type { ExecTarget } from './execute.server.ts'

/*
  The recorded sample a blue-green health check runs a new version on (decision 063): the input_data of successful
  executions in a ring of SAMPLE_SLOTS rows per asset: the first fill the free slots, later ones overwrite a random one, so the sample stays
  recent and bounded. Server-only rows (no API role has a grant); never returned.
*/

export const SAMPLE_SLOTS = 20
const MAX_SAMPLE_BYTES = 64 * 1024

export async function recordSample(db: Db, t: ExecTarget, input: Record<string, unknown>) {
  const text = JSON.stringify(input)
  if (text.length > MAX_SAMPLE_BYTES) return
  await db.query(
    `insert into public.asset_sample_inputs (asset_id, slot, tenant_id, version_id, input)
     values ($1, coalesce((select min(s) from generate_series(0, ${SAMPLE_SLOTS - 1}) s where not exists (select 1 from public.asset_sample_inputs x where x.asset_id = $1 and x.slot = s)),
                          floor(random() * ${SAMPLE_SLOTS})::int), $2, $3, $4::text::jsonb)
     on conflict (asset_id, slot) do update set input = excluded.input, version_id = excluded.version_id, recorded_at = now()`,
    [t.asset.id, t.asset.tenant_id, t.version.id, text],
  )
}

/** The newest `n` recorded inputs of an asset. */
export async function sampleInputs(db: Db, assetId: string, n: number): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query<{ input: Record<string, unknown> }>(`select input from public.asset_sample_inputs where asset_id = $1 order by recorded_at desc, slot limit $2`, [assetId, n])
  return rows.map((r) => r.input)
}
