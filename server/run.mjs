// `node server/run.mjs worker|db [args]`: what `npm run worker` and `npm run db:*` run. In production
// (NODE_ENV=production: the image, Fly's release command) the built entry, build/node/<name>.js, on plain node;
// elsewhere the TypeScript source through tsx, which production does not install (decision 005).
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = path.resolve(import.meta.dirname, '..')
const SOURCES = { worker: 'server/worker.ts', db: 'scripts/db.ts' }
const name = process.argv[2]
if (!(name in SOURCES)) {
  console.error(`usage: node server/run.mjs ${Object.keys(SOURCES).join('|')} [args]`)
  process.exit(2)
}
let file = path.join(ROOT, SOURCES[name])
if (process.env.NODE_ENV === 'production') {
  file = path.join(ROOT, 'build/node', `${name}.js`)
  if (!fs.existsSync(file)) {
    console.error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first (production runs the built server)`)
    process.exit(1)
  }
} else {
  const { register } = await import('tsx/esm/api')
  register()
}
// The entry sees its own arguments, as if node had started it.
process.argv.splice(1, 2, file)
await import(pathToFileURL(file).href)
