// `NODE_OPTIONS=--import=<this file>` with HD_MODULE_LOG=<dir>: each node process and each of its worker threads
// appends the URL of every module it loads to <dir>/<pid>-<threadId>.txt, after a first line `argv <the script node
// runs>`. For tests/e2e/built-server.spec.ts: which files a production start really loads.
import path from 'node:path'
import { register } from 'node:module'
import { isMainThread, threadId, workerData } from 'node:worker_threads'

const dir = process.env.HD_MODULE_LOG
// The main thread and the app's pool threads (not Node's own loader thread, where registering would recurse).
if (dir && (isMainThread || (workerData && 'typescript' in workerData))) register('./record-modules-hooks.mjs', import.meta.url, { data: { file: path.join(dir, `${process.pid}-${threadId}.txt`), argv1: process.argv[1] ?? '' } })
