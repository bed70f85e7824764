// The ESLint rule `areas/public-only`: code outside an area imports it only through its public modules
// (ARCHITECTURE.md, "The ML lifecycle and the areas still to build"; docs/decisions/010-area-rooms.md).
//
// An area is a folder app/features/<area>/. From outside it, these may be imported:
//   <area>/<area>.server.ts        the one public server module (database, jobs, files)
//   <area>/jobs.server.ts          only from app/jobs/registry.server.ts, the one line that registers the area's jobs
//   <area>/<name>.ts | .tsx        its other top-level plain modules: schemas.ts (zod), pure rules and math,
//                                  components.tsx; no database and no side effects, so pages and threads may use them
// and these may not: any other top-level *.server.ts, any *.thread.ts (a pool thread is started by its path, not
// imported), anything inside a room (a subfolder). Inside the area everything is allowed.
//
// A rule of our own rather than no-restricted-imports: it knows which area the importing file is in (so an area's own
// files are exempt without one config block per area) and it checks `await import()` too, which page loaders use.
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const featuresDir = path.join(root, 'app', 'features')

function resolve(spec, fromFile) {
  if (spec.startsWith('#app/')) return path.join(root, 'app', spec.slice('#app/'.length))
  if (spec.startsWith('.')) return path.resolve(path.dirname(fromFile), spec)
  return null
}

/** { area, rest } for a file under app/features/<area>/, else null. */
function areaOf(file) {
  const rel = path.relative(featuresDir, file)
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return null
  const parts = rel.split(path.sep)
  return parts.length >= 2 ? { area: parts[0], rest: parts.slice(1) } : null
}

const registry = path.join(root, 'app', 'jobs', 'registry.server.ts')

export function isPublic({ area, rest }, fromFile) {
  if (rest.length > 1) return false
  const name = rest[0]
  if (name === `${area}.server.ts`) return true
  if (name === 'jobs.server.ts') return fromFile === registry
  return !/\.(server|thread|test)\.tsx?$/.test(name)
}

const publicOnly = {
  meta: {
    type: 'problem',
    docs: { description: 'Import an area only through its public modules' },
    messages: {
      private:
        "'{{spec}}' is private to the {{area}} area: import features/{{area}}/{{area}}.server.ts (or the area's schemas.ts and other top-level plain .ts modules); its README lists what they offer.",
    },
    // pending: areas not yet given their public module (each named with the issue that will).
    schema: [{ type: 'object', properties: { pending: { type: 'array', items: { type: 'string' } } }, additionalProperties: false }],
  },
  create(context) {
    const file = context.filename
    const own = areaOf(file)?.area
    const pending = new Set(context.options[0]?.pending ?? [])
    const check = (source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return
      const abs = resolve(source.value, file)
      const target = abs && areaOf(abs)
      if (!target || target.area === own || pending.has(target.area) || isPublic(target, file)) return
      context.report({ node: source, messageId: 'private', data: { spec: source.value, area: target.area } })
    }
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
    }
  },
}

export default { rules: { 'public-only': publicOnly } }
