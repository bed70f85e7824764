import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import * as entry from '#app/entry.server.tsx'
import * as hooks from '#app/process.server.ts'
import { appInputs, buildServer } from '../../scripts/build-server.ts'

/*
  The production server's shape (decision 005), from esbuild's own account of what it bundles (nothing is written):
  the web server holds no app module (each one loads once, from the React Router build, whose SSR entry carries the
  process hooks), and every *.thread.ts is a built entry. tests/e2e/built-server.spec.ts runs the result.
*/

const ROOT = path.resolve(import.meta.dirname, '../..')

describe('npm run build: the server entries', () => {
  it('bundles no app module into the web server, and every thread module into an entry of its own', async () => {
    const { metafile } = await buildServer({ write: false })
    expect(appInputs(metafile, 'index.js')).toEqual([])
    const web = Object.entries(metafile.outputs).find(([f]) => f.endsWith('build/node/index.js'))![1]
    expect(web.imports.map((i) => i.path)).toEqual(expect.arrayContaining(['express', '@react-router/express']))
    expect(web.imports.every((i) => i.external)).toBe(true)

    // Found here independently of the build script's own walk: a new *.thread.ts is built without a hand list.
    const threads = (fs.readdirSync(path.join(ROOT, 'app'), { recursive: true }) as string[]).filter((f) => f.endsWith('.thread.ts'))
    expect(threads.length).toBeGreaterThanOrEqual(3)
    for (const t of threads) {
      const out = `build/node/threads/${t.replace(/\.ts$/, '.js')}`
      const built = Object.entries(metafile.outputs).find(([f]) => path.resolve(ROOT, f) === path.join(ROOT, out))
      expect(built, out).toBeDefined()
      expect(built![1].entryPoint).toBe(`app/${t}`)
    }
    for (const out of ['worker.js', 'db.js']) expect(appInputs(metafile, out).length, out).toBeGreaterThan(0)
  })

  it('the SSR entry carries the process hooks the web server takes from the build', () => {
    for (const [name, value] of Object.entries(hooks)) expect((entry as Record<string, unknown>)[name], name).toBe(value)
  })
})
