import fs from 'node:fs'
import path from 'node:path'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

/**
 * Every area has the same rooms (ARCHITECTURE.md, "The ML lifecycle and the areas still to build"; decision 010):
 * a public `<area>.server.ts`, `schemas.ts`, a README with the endpoint → test table; and other code imports an area
 * only through its public modules (the `areas/public-only` lint rule, checked here on snippets).
 */

const root = path.resolve(import.meta.dirname, '..')
const ROOMED = ['auth', 'datasets', 'templates']

describe('the rooms of an area', () => {
  it.each(ROOMED)('%s has its public module, its schemas and a README that maps its paths to tests', (area) => {
    const dir = path.join(root, 'app/features', area)
    for (const f of [`${area}.server.ts`, 'schemas.ts', 'README.md']) expect(fs.existsSync(path.join(dir, f)), `${area}/${f}`).toBe(true)
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8')
    expect(readme).toMatch(/\| *method *\| *path *\|.*\| *test *\|/)
    expect(readme).toMatch(/migration/i)
  })

  it('no route module defines its own zod schema: inputs live in the area’s schemas.ts', () => {
    const routes = fs.readdirSync(path.join(root, 'app/routes')).filter((f) => /^api\.v1\.(template|auth|login|logout|refresh|reset-password|users|rbac)\b/.test(f))
    expect(routes.length).toBeGreaterThan(15)
    for (const f of routes) expect(fs.readFileSync(path.join(root, 'app/routes', f), 'utf8'), f).not.toMatch(/from 'zod'/)
  })
})

describe('areas/public-only', () => {
  const eslint = new ESLint({ cwd: root })
  const errors = async (file: string, code: string) => {
    const [r] = await eslint.lintText(code, { filePath: path.join(root, file) })
    return r.messages.filter((m) => m.ruleId === 'areas/public-only').length
  }

  // errors expected · the importing file · what it imports (a leading "await" means import())
  const CASES = `
    0  app/routes/api.v1.x.ts               #app/features/datasets/datasets.server.ts
    0  app/routes/api.v1.x.ts               #app/features/datasets/schemas.ts
    0  app/features/ml/x.server.ts          #app/features/templates/column-types.ts
    0  app/routes/_app.x.tsx                await #app/features/auth/auth.server.ts
    1  app/routes/api.v1.x.ts               #app/features/datasets/load/load-tx.server.ts
    1  app/features/ml/x.server.ts          #app/features/auth/login.server.ts
    1  app/features/ml/x.server.ts          ../datasets/csv/encode.thread.ts
    1  app/root.tsx                         await ./features/auth/session.server.ts
    1  app/routes/api.v1.x.ts               #app/features/datasets/jobs.server.ts
    0  app/jobs/registry.server.ts          #app/features/datasets/jobs.server.ts
    0  app/features/datasets/x.server.ts    ./load/load-tx.server.ts
    0  app/features/auth/users/x.server.ts  #app/features/auth/login.server.ts
    0  tests/integration/x.test.ts          #app/features/datasets/load/load-tx.server.ts`
  const cases = CASES.trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([n, file, ...spec]) => [n, file, spec.join(' ')])
  it.each(cases)('%s error(s): %s importing %s', async (expected, file, spec) => {
    const code = spec.startsWith('await ') ? `export const m = () => import('${spec.slice(6)}')\n` : `import '${spec}'\n`
    expect(await errors(file, code)).toBe(Number(expected))
  })
})
