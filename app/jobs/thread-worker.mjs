// The entry of every pool thread (plain JS so it loads before any TypeScript loader is in place).
// Runs `exportName` of `modulePath` on each task and posts back the result, progress or error.
// The build copies this file to build/node/thread-worker.mjs (scripts/build-server.ts).
import { parentPort, workerData } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import path from 'node:path'

// From source (dev, tests) a task's module is TypeScript and loads through tsx, registered here: tsx's `--import`
// loader in a worker's execArgv does not take effect in worker threads on Node 20 (measured with tsx 4.23), its
// programmatic register() does. From the build (workerData.typescript false) tasks are built .js: no tsx, which
// production does not install.
if (workerData?.typescript !== false) {
  const { register } = await import('tsx/esm/api')
  register()
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
