/*
  What a server process takes from the app, in one place. The web server (server/index.ts) gets these through the
  React Router build (app/entry.server.tsx re-exports them, so `build.entry.module` carries them): the app's modules
  then load once, in the build's module graph, and that graph opens the database, starts the jobs and owns every
  per-process resource. In dev the same happens in Vite's SSR graph. See docs/decisions/005-one-module-graph.md.
*/
import { bootApp } from '#app/boot.server.ts'
import { closeDb } from '#app/db/index.server.ts'
import { getEnv } from '#app/env.server.ts'
import { apiFastPath } from '#app/http/api-fast-path.server.ts'
import { stampClientAddress } from '#app/http/client-address.server.ts'
import { applyHttpTimeouts } from '#app/http/server-timeouts.server.ts'
import { attachStreamSockets } from '#app/features/streams/streams.server.ts'

/** Lets running jobs wind down, then closes the database (SIGTERM / SIGINT). */
export async function shutdownApp(opts: { timeoutMs: number }) {
  const { stopJobs } = await import('#app/jobs/registry.server.ts')
  await stopJobs(opts)
  await closeDb()
}

export { apiFastPath, applyHttpTimeouts, attachStreamSockets, bootApp, getEnv, stampClientAddress }
