import { runInThread, closeThreadPool, getThreadPool } from '#app/jobs/thread-pool.server.ts'
import { threadId } from 'node:worker_threads'
const t = Date.now()
console.log(threadId, await runInThread('#app/jobs/thread-pool.fixture.ts', 'countPrimes', 100000, { onProgress: (v) => console.log('p', v) }), Date.now() - t)
const ac = new AbortController()
const p = runInThread('#app/jobs/thread-pool.fixture.ts', 'spin', 10000, { signal: ac.signal })
setTimeout(() => ac.abort(), 300)
const t2 = Date.now()
await p.catch(e => console.log('aborted', e.name, Date.now() - t2))
console.log(getThreadPool().stats())
console.log(await runInThread('#app/jobs/thread-pool.fixture.ts', 'fail', 'boom').catch(e => [e.name, e.message]))
await closeThreadPool()
