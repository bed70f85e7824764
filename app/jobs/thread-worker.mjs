// The entry of every pool thread (plain JS so it loads before any TypeScript loader is in place).
// Runs `exportName` of `modulePath` on each task and posts back the result, progress or error.
import { parentPort } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import path from 'node:path'

// TypeScript modules load through tsx, registered here: tsx's `--import` loader in a worker's execArgv does not
// take effect in worker threads on Node 20 (measured with tsx 4.23), its programmatic register() does.
try {
  const { register } = await import('tsx/esm/api')
  register()
} catch {
  // Without tsx (a fully compiled deployment) only .js modules can run in threads.
}

const modules = new Map()

function load(modulePath) {
  // '#app/…' resolves through package.json "imports", relative to this file; absolute paths become file URLs.
  const specifier = path.isAbsolute(modulePath) ? pathToFileURL(modulePath).href : modulePath
  if (!modules.has(specifier)) modules.set(specifier, import(specifier))
  return modules.get(specifier)
}

parentPort.on('message', async ({ id, modulePath, exportName, input }) => {
  try {
    const mod = await load(modulePath)
    const fn = mod[exportName]
    if (typeof fn !== 'function') throw new Error(`${modulePath} exports no function '${exportName}'`)
    const progress = (value, transfer) => parentPort.postMessage({ id, type: 'progress', value }, transfer ?? [])
    const value = await fn(input, { progress })
    parentPort.postMessage({ id, type: 'result', ok: true, value })
  } catch (e) {
    parentPort.postMessage({
      id,
      type: 'result',
      ok: false,
      error: { name: e?.name ?? 'Error', message: e?.message ?? String(e), stack: e?.stack },
    })
  }
})
