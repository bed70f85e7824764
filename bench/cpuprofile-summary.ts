/**
 * Where a server's CPU went: `npx tsx bench/cpuprofile-summary.ts <file.cpuprofile> [requests]`.
 * Reads a V8 CPU profile (node --cpu-prof) and prints self time by area (package, or our own directory) and the
 * functions with the most self time; with the number of requests served, also µs per request.
 * Used for issue 10 item 3 (profile of dashboard/summary under load, decision 019).
 */
import fs from 'node:fs'

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const [file, requests] = [process.argv[2], Number(process.argv[3] ?? 0)]
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] }
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
// busy time only: idle is the process waiting (for the database, the network, its turn on a shared machine)
const total = [...self].filter(([id]) => !idleIds.has(id)).reduce((a, [, t]) => a + t, 0)

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native/builtin)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  if (url.startsWith('node:')) return url
  const m = /\/(app\/[^/]+(?:\/[^/]+)?|server|build\/server)\//.exec(url)
  return m ? m[1] : url
}

const byArea = new Map<string, number>()
const byFn = new Map<string, number>()
for (const n of profile.nodes) {
  const t = self.get(n.id) ?? 0
  if (!t || idleIds.has(n.id)) continue
  const a = area(n.callFrame.url, n.callFrame.functionName)
  byArea.set(a, (byArea.get(a) ?? 0) + t)
  const f = `${n.callFrame.functionName || '(anonymous)'} ${a}:${n.callFrame.lineNumber + 1}`
  byFn.set(f, (byFn.get(f) ?? 0) + t)
}
const row = (name: string, us: number) =>
  `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %${requests ? `${(us / requests).toFixed(1).padStart(8)} µs/req` : ''}  ${name}`
console.log(`total ${(total / 1000).toFixed(0)} ms busy (idle excluded)${requests ? `, ${requests} requests: ${(total / requests).toFixed(0)} µs per request` : ''}`)
console.log('\nself time by area')
for (const [a, t] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(row(a, t))
console.log('\nfunctions with the most self time')
for (const [f, t] of [...byFn].sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(row(f, t))
