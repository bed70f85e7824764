import type { Db } from '#app/db/db.server.ts'

// One simulator timer per process: on globalThis it survives Vite re-running this module after an edit in dev (decision 005).
const g = globalThis as { __hotdashSim?: NodeJS.Timeout }

/** In dev, new orders and drafts arrive every few seconds so the dashboard visibly moves. */
export function startSimulator(db: Db, everyMs = 5000) {
  if (g.__hotdashSim) return
  g.__hotdashSim = setInterval(async () => {
    const { simulateOpsActivity } = await import('./ops.server.ts')
    await simulateOpsActivity(db).catch((e: Error) => console.error('[simulator]', e.message))
  }, everyMs)
  g.__hotdashSim.unref()
}
