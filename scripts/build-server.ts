/**
 * The second half of `npm run build` (after `react-router build`): the Node entries to plain JavaScript in build/node/,
 * so production runs `node` and needs no TypeScript loader (decision 005).
 *
 *   build/node/index.js           the web server (server/index.ts): express only; the app comes from build/server/index.js
 *   build/node/worker.js          `npm run worker` (server/worker.ts)
 *   build/node/db.js              `npm run db:*` (scripts/db.ts)
 *   build/node/thread-worker.mjs  a pool thread's entry (app/jobs/thread-worker.mjs, copied)
 *   build/node/threads/…          every app/**\/*.thread.ts, found by name, one bundle each
 *
 * Packages stay imports of node_modules; the app's own modules are bundled, except into the web server, which must get
 * every app module from the React Router build (one copy of each): the build fails if it would bundle one.
 */
import fs from 'node:fs'
import path from 'node:path'
import * as esbuild from 'esbuild'

const ROOT = path.resolve(import.meta.dirname, '..')
export const OUT_DIR = path.join(ROOT, 'build/node')

/** Every `*.thread.ts` under app/, relative to app/ (a new one is built without touching this file). */
export function threadFiles(): string[] {
  const app = path.join(ROOT, 'app')
  const found: string[] = []
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.thread.ts')) found.push(path.relative(app, p))
    }
  }
  walk(app)
  return found.sort()
}

export function entryPoints(): Record<string, string> {
  const entries: Record<string, string> = { index: 'server/index.ts', worker: 'server/worker.ts', db: 'scripts/db.ts' }
  for (const f of threadFiles()) entries[`threads/${f.replace(/\.ts$/, '')}`] = `app/${f}`
  return entries
}

/** The app modules (under app/) a bundle holds, from esbuild's metafile. */
export function appInputs(metafile: esbuild.Metafile, output: string): string[] {
  const out = Object.entries(metafile.outputs).find(([file]) => path.resolve(ROOT, file) === path.join(OUT_DIR, output))
  if (!out) throw new Error(`no output ${output}`)
  return Object.keys(out[1].inputs).filter((f) => f.startsWith('app/'))
}

export async function buildServer(opts: { write?: boolean } = {}) {
  const write = opts.write ?? true
  if (write) fs.rmSync(OUT_DIR, { recursive: true, force: true })
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: entryPoints(),
    outdir: OUT_DIR,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    metafile: true,
    write,
    logLevel: 'warning',
  })
  const problems: string[] = []
  const leaked = appInputs(result.metafile, 'index.js')
  if (leaked.length) {
    problems.push(`build/node/index.js would hold app modules (${leaked.join(', ')}): the web server takes the app from the React Router build (app/process.server.ts via app/entry.server.tsx)`)
  }
  for (const f of result.outputFiles ?? []) checkVitePlain(f.path, f.text, problems)
  if (write) for (const f of Object.keys(result.metafile.outputs)) checkVitePlain(f, fs.readFileSync(path.resolve(ROOT, f), 'utf8'), problems)
  if (problems.length) throw new Error(problems.join('\n'))
  if (write) fs.copyFileSync(path.join(ROOT, 'app/jobs/thread-worker.mjs'), path.join(OUT_DIR, 'thread-worker.mjs'))
  return result
}

// import.meta.glob / import.meta.env are Vite's: a module that needs them belongs to the React Router build, not here.
function checkVitePlain(file: string, text: string, problems: string[]) {
  if (/import\.meta\.(glob|env)\b/.test(text)) problems.push(`${path.relative(ROOT, file)} uses import.meta.glob/env, which only Vite provides`)
}

if (import.meta.filename === process.argv[1]) {
  const t0 = Date.now()
  const { metafile } = await buildServer()
  const outputs = Object.entries(metafile.outputs)
  const kb = outputs.reduce((s, [, o]) => s + o.bytes, 0) / 1024
  console.log(`build/node: ${outputs.length} file(s), ${kb.toFixed(0)} kB, ${threadFiles().length} thread module(s), in ${Date.now() - t0} ms`)
}
