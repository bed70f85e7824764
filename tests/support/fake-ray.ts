import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { PYTHON } from './python.ts'

/*
  A DOUBLE of Ray's Jobs REST API (a Ray cluster cannot run here): POST /api/jobs/, GET /api/jobs/{id},
  POST /api/jobs/{id}/stop, with Ray's field names. A submitted job runs its entrypoint with `sh -c` on this machine,
  its runtime_env.env_vars in the environment and `python` pointing at the oracle Python — what a Ray worker would
  do with the same submission. It records what it was sent, so tests can check our REST client.
*/

export interface FakeRayJob {
  submission_id: string
  entrypoint: string
  env_vars: Record<string, string>
  metadata: Record<string, string>
  status: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED'
  message: string
  stderr: string
  child?: ChildProcess
}

export async function fakeRayJobsApi() {
  const jobs = new Map<string, FakeRayJob>()
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-ray-bin-'))
  fs.symlinkSync(PYTHON, path.join(bin, 'python'))
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const url = new URL(req.url ?? '/', 'http://ray')
    const m = /^\/api\/jobs\/([^/]+)(\/stop)?\/?$/.exec(url.pathname)
    if (req.method === 'POST' && url.pathname === '/api/jobs/') {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}')
      const id = body.submission_id ?? `raysubmit_${jobs.size + 1}`
      if (jobs.has(id)) return send(res, 400, { detail: `Job with submission_id ${id} already exists` })
      const job: FakeRayJob = { submission_id: id, entrypoint: body.entrypoint, env_vars: body.runtime_env?.env_vars ?? {}, metadata: body.metadata ?? {}, status: 'PENDING', message: '', stderr: '' }
      jobs.set(id, job)
      const child = spawn('sh', ['-c', job.entrypoint], { env: { ...process.env, ...job.env_vars, PATH: `${bin}:${process.env.PATH}` }, stdio: ['ignore', 'ignore', 'pipe'] })
      job.child = child
      job.status = 'RUNNING'
      child.stderr!.on('data', (d: Buffer) => (job.stderr += d.toString()))
      child.on('close', (code) => {
        if (job.status === 'STOPPED') return
        job.status = code === 0 ? 'SUCCEEDED' : 'FAILED'
        job.message = code === 0 ? 'Job finished successfully.' : `Job entrypoint command failed with exit code ${code}`
      })
      return send(res, 200, { job_id: id, submission_id: id })
    }
    if (m && req.method === 'GET' && !m[2]) {
      const job = jobs.get(decodeURIComponent(m[1]))
      if (!job) return send(res, 404, { detail: 'Job does not exist' })
      return send(res, 200, { submission_id: job.submission_id, status: job.status, message: job.message, entrypoint: job.entrypoint, metadata: job.metadata })
    }
    if (m && req.method === 'POST' && m[2]) {
      const job = jobs.get(decodeURIComponent(m[1]))
      if (!job) return send(res, 404, { detail: 'Job does not exist' })
      const stopped = job.status === 'RUNNING' || job.status === 'PENDING'
      if (stopped) {
        job.status = 'STOPPED'
        job.message = 'Job was intentionally stopped.'
        job.child?.kill('SIGKILL')
      }
      return send(res, 200, { stopped })
    }
    send(res, 404, { detail: 'Not Found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    jobs,
    async close() {
      for (const j of jobs.values()) j.child?.kill('SIGKILL')
      await new Promise<void>((resolve) => server.close(() => resolve()))
      fs.rmSync(bin, { recursive: true, force: true })
    },
  }
}
