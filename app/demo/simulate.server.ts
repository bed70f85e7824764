import type { Db } from '#app/db/db.server.ts'

const g = globalThis as { __hotdashSim?: NodeJS.Timeout }

/** In dev, new orders and drafts arrive every few seconds so the dashboard visibly moves. */
export function startSimulator(db: Db, everyMs = 5000) {
  if (g.__hotdashSim) return
  g.__hotdashSim = setInterval(async () => {
    const ops = (await import(/* @vite-ignore */ OPS_SIMULATOR).catch(() => null)) as { simulateOpsActivity?: (db: Db) => Promise<void> } | null
    await ops?.simulateOpsActivity?.(db).catch((e: Error) => console.error('[simulator]', e.message))
  }, everyMs)
  g.__hotdashSim.unref()
}

const OPS_SIMULATOR = '#app/demo/ops.server.ts'
