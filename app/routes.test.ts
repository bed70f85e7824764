import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

/** The eight paths of the HD spec (spec 003), written out here rather than read from the list under test. */
const HD = ['dashboard/summary', 'dashboard/trends', 'dashboard/anomalies', 'agent/queue', 'agent/accuracy', 'agent/quality', 'agent/summary', 'export/training-data']

type Entry = { id?: string; path?: string; file: string; children?: Entry[] }
const flat = (es: Entry[]): Entry[] => es.flatMap((e) => [e, ...flat(e.children ?? [])])

/** `app/routes.ts` evaluated as React Router's build evaluates it. */
async function routeConfig() {
  ;(globalThis as { __reactRouterAppDirectory?: string }).__reactRouterAppDirectory = import.meta.dirname
  return flat((await import('./routes.ts')).default as Entry[])
}

describe('app/routes.ts: /api/analytics/* aliases', () => {
  it('aliases exactly the HD spec’s eight paths, each to its /api/v1/analytics/ module', async () => {
    const routes = await routeConfig()
    const aliases = routes.filter((r) => r.path?.startsWith('api/analytics/'))
    expect(aliases.map((r) => r.path).sort()).toEqual(HD.map((p) => `api/analytics/${p}`).sort())
    for (const a of aliases) {
      const canonical = routes.find((r) => r.path === a.path!.replace('api/analytics/', 'api/v1/analytics/'))
      expect(canonical, a.path).toBeDefined()
      expect(a.file).toBe(canonical!.file)
      expect(fs.existsSync(path.join(import.meta.dirname, a.file)), a.file).toBe(true)
    }
  })

  it('gives no alias to the other api.v1.analytics.* modules (the analytics service’s, the marketplace’s)', async () => {
    const routes = await routeConfig()
    const others = routes.filter((r) => r.path?.startsWith('api/v1/analytics/') && !HD.includes(r.path.slice('api/v1/analytics/'.length)))
    for (const o of others) expect(routes.filter((r) => r.file === o.file).map((r) => r.path), o.file).toEqual([o.path])
  })
})

/** What React Router's route modules may export; the client build strips loader/action/middleware/headers only. */
const ROUTE_EXPORTS = new Set(['loader', 'action', 'middleware', 'headers', 'clientLoader', 'clientAction', 'clientMiddleware', 'default', 'ErrorBoundary', 'HydrateFallback', 'Layout', 'links', 'meta', 'handle', 'shouldRevalidate'])

describe('route modules', () => {
  it('export only what React Router knows (a shared definition belongs in a .server module, or the client build pulls in the server)', () => {
    const dir = path.join(import.meta.dirname, 'routes')
    const bad: string[] = []
    for (const f of fs.readdirSync(dir).filter((n) => /\.tsx?$/.test(n) && !/\.test\.tsx?$/.test(n))) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8')
      for (const m of src.matchAll(/^export\s+(?:async\s+)?(?:const|let|function)\s+(\w+)/gm)) if (!ROUTE_EXPORTS.has(m[1]!)) bad.push(`${f}: ${m[1]}`)
      for (const m of src.matchAll(/^export\s*\{([^}]*)\}/gm))
        for (const name of m[1]!.split(',').map((s) => s.trim().split(/\s+as\s+/).pop()!).filter(Boolean)) if (!ROUTE_EXPORTS.has(name)) bad.push(`${f}: ${name}`)
    }
    expect(bad).toEqual([])
  })
})

describe('react-router.config.ts: the dev server', () => {
  // A fresh checkout's first dashboard visit in `npm run dev` crashed ("Invalid hook call"): Vite found recharts only when
  // the page asked for it, re-bundled React beside the page's copy and reloaded. Scanning the route modules at startup
  // pre-bundles recharts and papaparse with React. (Checked by hand: rm -rf node_modules/.vite, npm run dev, /dashboard.)
  it('pre-bundles what the route modules import', async () => {
    const config = (await import('../react-router.config.ts')).default as { future?: Record<string, unknown> }
    expect(config.future?.unstable_optimizeDeps).toBe(true)
  })
})
