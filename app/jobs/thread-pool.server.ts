import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, type TransferListItem } from 'node:worker_threads'

/*
  A fixed pool of worker_threads for CPU-heavy job handlers (training, batch prediction), so the event loop
  that serves requests and polls pg-boss never blocks. A task names a module and an exported function:

    const model = await runInThread('#app/features/ml/train.thread.ts', 'train', input, { signal: ctx.signal })

  The function receives (input, { progress(value, transfer?) }) and returns a structured-cloneable value. Aborting the
  signal terminates the thread running the task (CPU loops cannot be interrupted otherwise) and starts a
  fresh one; a task still queued is just dropped.
*/

export interface RunOptions {
  signal?: AbortSignal
  /** ArrayBuffers (etc.) moved to the thread instead of copied. */
  transfer?: TransferListItem[]
  /** Called with whatever the thread function passes to progress(). */
  onProgress?: (value: unknown) => void
}

interface Task {
  id: number
  modulePath: string
  exportName: string
  input: unknown
  opts: RunOptions
  resolve(value: unknown): void
  reject(err: unknown): void
  cleanup(): void
}

interface PoolThread {
  worker: Worker
  task?: Task
}

/*
  Where the threads' code comes from. From source (npm run dev, tests, tsx): app/jobs/thread-worker.mjs registers tsx
  and a task's module is its .ts file. From the build (npm start, npm run worker: this module is then part of a .js
  bundle): build/node/thread-worker.mjs, without tsx, and '#app/…/x.thread.ts' is its built entry
  build/node/threads/…/x.thread.js (scripts/build-server.ts builds every *.thread.ts under app/).
*/
const FROM_SOURCE = /\.tsx?$/.test(fileURLToPath(import.meta.url))
const { ENTRY, ROOT, THREADS } = locate()

function locate() {
  const start = path.dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (FROM_SOURCE && fs.existsSync(path.join(dir, 'app/jobs/thread-worker.mjs'))) {
      return { ENTRY: path.join(dir, 'app/jobs/thread-worker.mjs'), ROOT: dir, THREADS: null }
    }
    // A bundle lives in build/server/ (React Router's) or build/node/ (esbuild's): build/node/thread-worker.mjs is near.
    for (const node of [dir, path.join(dir, 'node')]) {
      if (!FROM_SOURCE && fs.existsSync(path.join(node, 'thread-worker.mjs')) && fs.existsSync(path.join(node, 'threads'))) {
        return { ENTRY: path.join(node, 'thread-worker.mjs'), ROOT: path.resolve(node, '../..'), THREADS: path.join(node, 'threads') }
      }
    }
    if (path.dirname(dir) === dir) break
  }
  throw new Error(`thread pool: cannot find ${FROM_SOURCE ? 'app/jobs/thread-worker.mjs' : 'build/node/thread-worker.mjs (run npm run build)'} above ${start}`)
}

/** Where pool threads load their code from: 'source' (.ts through tsx) or 'build' (built .js only). */
export const threadCodeFrom = (): 'source' | 'build' => (THREADS ? 'build' : 'source')

/** The module a thread imports for a task: the specifier itself from source, its built entry from the build. */
export function taskModule(modulePath: string): string {
  if (!THREADS || /\.m?js$/.test(modulePath)) return modulePath
  const rel = modulePath.startsWith('#app/') ? modulePath.slice('#app/'.length) : path.relative(path.join(ROOT, 'app'), modulePath)
  const built = path.join(THREADS, rel.replace(/\.tsx?$/, '.js'))
  if (rel.startsWith('..') || path.isAbsolute(rel) || !fs.existsSync(built)) {
    throw new Error(`runInThread: '${modulePath}' is not in the build (npm run build builds every *.thread.ts under app/ into ${path.relative(ROOT, THREADS)})`)
  }
  return built
}

export class ThreadPool {
  readonly size: number
  private threads = new Set<PoolThread>()
  private queue: Task[] = []
  private nextId = 1
  private closed = false

  constructor(size = Math.max(1, os.availableParallelism() - 1)) {
    this.size = size
  }

  run<T>(modulePath: string, exportName: string, input: unknown, opts: RunOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('The thread pool is closed'))
    if (!modulePath.startsWith('#') && !path.isAbsolute(modulePath)) {
      return Promise.reject(new Error(`runInThread: '${modulePath}' must be an absolute path or a '#app/…' specifier`))
    }
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason)
    let module: string
    try {
      module = taskModule(modulePath)
    } catch (e) {
      return Promise.reject(e)
    }
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        id: this.nextId++,
        modulePath: module,
        exportName,
        input,
        opts,
        resolve: resolve as (v: unknown) => void,
        reject,
        cleanup: () => {},
      }
      if (opts.signal) {
        const onAbort = () => this.abort(task)
        opts.signal.addEventListener('abort', onAbort, { once: true })
        task.cleanup = () => opts.signal!.removeEventListener('abort', onAbort)
      }
      this.queue.push(task)
      this.dispatch()
    })
  }

  /** Tasks waiting for a thread and threads busy, for tests and health output. */
  stats() {
    const busy = [...this.threads].filter((t) => t.task).length
    return { size: this.size, threads: this.threads.size, busy, queued: this.queue.length }
  }

  async close() {
    this.closed = true
    for (const task of this.queue.splice(0)) this.settle(task, new Error('The thread pool was closed'))
    await Promise.all(
      [...this.threads].map((t) => {
        if (t.task) this.settle(t.task, new Error('The thread pool was closed'))
        this.threads.delete(t)
        return t.worker.terminate()
      }),
    )
  }

  private dispatch() {
    while (this.queue.length) {
      let thread = [...this.threads].find((t) => !t.task)
      if (!thread && this.threads.size < this.size) thread = this.spawn()
      if (!thread) return
      const task = this.queue.shift()!
      thread.task = task
      thread.worker.ref()
      const { id, modulePath, exportName, input } = task
      thread.worker.postMessage({ id, modulePath, exportName, input }, task.opts.transfer ?? [])
    }
  }

  private spawn(): PoolThread {
    const worker = new Worker(ENTRY, { execArgv: [], name: 'hotdash-pool', workerData: { typescript: FROM_SOURCE } })
    const thread: PoolThread = { worker }
    worker.on('message', (msg: { id: number; type: 'progress' | 'result'; ok?: boolean; value?: unknown; error?: SerializedError }) => {
      const task = thread.task
      if (!task || task.id !== msg.id) return
      if (msg.type === 'progress') {
        task.opts.onProgress?.(msg.value)
        return
      }
      thread.task = undefined
      worker.unref()
      if (msg.ok) this.settle(task, undefined, msg.value)
      else this.settle(task, deserializeError(msg.error!))
      this.dispatch()
    })
    // A crash of the thread itself (not a thrown error, which comes back as a message): fail its task, replace it.
    const lost = (err: Error) => {
      if (!this.threads.delete(thread)) return
      if (thread.task) this.settle(thread.task, err)
      thread.task = undefined
      if (!this.closed) this.dispatch()
    }
    worker.on('error', lost)
    worker.on('exit', (code) => lost(new Error(`Pool thread exited with code ${code}`)))
    worker.unref()
    this.threads.add(thread)
    return thread
  }

  private abort(task: Task) {
    const reason = task.opts.signal?.reason ?? new DOMException('The task was aborted', 'AbortError')
    const queued = this.queue.indexOf(task)
    if (queued >= 0) {
      this.queue.splice(queued, 1)
      this.settle(task, reason)
      return
    }
    const thread = [...this.threads].find((t) => t.task === task)
    if (!thread) return
    // A CPU loop cannot be interrupted: end the thread and let dispatch() start a fresh one.
    this.threads.delete(thread)
    thread.task = undefined
    void thread.worker.terminate()
    this.settle(task, reason)
    this.dispatch()
  }

  private settle(task: Task, err: unknown, value?: unknown) {
    task.cleanup()
    if (err !== undefined) task.reject(err)
    else task.resolve(value)
  }
}

interface SerializedError {
  name: string
  message: string
  stack?: string
}

function deserializeError(e: SerializedError) {
  const err = new Error(e.message)
  err.name = e.name
  if (e.stack) err.stack = e.stack
  return err
}

// One pool per process (dedicated pools by name): on globalThis the threads survive Vite re-running this module after an edit in dev (decision 005).
const g = globalThis as { __hotdashThreadPool?: ThreadPool; __hotdashDedicatedPools?: Map<string, ThreadPool> }

export function getThreadPool() {
  return (g.__hotdashThreadPool ??= new ThreadPool())
}

/**
 * A small pool of its own, by name, for tasks that may hold a thread for long while they wait on something outside
 * the process (a client still sending): they must not take a thread that jobs and other work queue for. The first
 * call for a name sets its size; closeThreadPool closes it too.
 */
export function dedicatedThreadPool(name: string, size: number) {
  const pools = (g.__hotdashDedicatedPools ??= new Map())
  let pool = pools.get(name)
  if (!pool) pools.set(name, (pool = new ThreadPool(size)))
  return pool
}

/** Runs `exportName` of `modulePath` (absolute path or '#app/…' specifier) on a pool thread. */
export function runInThread<T = unknown>(modulePath: string, exportName: string, input: unknown, opts: RunOptions = {}): Promise<T> {
  return getThreadPool().run<T>(modulePath, exportName, input, opts)
}

export async function closeThreadPool() {
  const pools = [g.__hotdashThreadPool, ...(g.__hotdashDedicatedPools?.values() ?? [])]
  g.__hotdashThreadPool = undefined
  g.__hotdashDedicatedPools = undefined
  await Promise.all(pools.map((p) => p?.close()))
}
