import { z } from 'zod'
import type { ApiRouteFn, ErasedDefinition, Method } from './api-route.server.ts'

// Every API route module; the document is built from the zod schemas they validate with.
const modules = import.meta.glob<{ loader?: ApiRouteFn }>('../routes/api.v1.*.ts', { eager: true })

/** `api.v1.users.$user_id.ts` → `/api/v1/users/{user_id}` */
export function pathOf(file: string) {
  const name = file.split('/').pop()!.replace(/\.tsx?$/, '')
  return (
    '/' +
    name
      .replaceAll('[.]', '\u0000')
      .split('.')
      .map((seg) => seg.replace(/^\$(.+)$/, '{$1}'))
      .join('/')
      .replaceAll('\u0000', '.')
      // a bracketed segment is literal text (`[test]`: a segment the route manifest would otherwise read as a test file)
      .replace(/\[([^\]]*)\]/g, '$1')
  )
}

const jsonSchema = (s: z.ZodType, io: 'input' | 'output' = 'input') => {
  try {
    return z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, any>
  } catch {
    return {}
  }
}

const errorRef = { $ref: '#/components/schemas/Error' }

function operation(method: Method, path: string, def: ErasedDefinition) {
  const parameters: unknown[] = []
  for (const [where, schema] of [
    ['query', def.query],
    ['path', def.params],
  ] as const) {
    if (!schema) continue
    const js = jsonSchema(schema)
    for (const [name, prop] of Object.entries<any>(js.properties ?? {})) {
      parameters.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: prop })
    }
  }
  for (const m of path.matchAll(/\{(\w+)\}/g)) {
    if (!parameters.some((p: any) => p.name === m[1])) parameters.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })
  }
  const op: Record<string, unknown> = {
    summary: def.summary,
    description: def.description,
    tags: def.tags,
    operationId: `${method.toLowerCase()}_${path.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, '')}`,
    parameters,
    security: def.auth === 'none' ? [] : [{ bearer: [] }, { cookie: [] }],
    responses: {
      [String(def.status ?? 200)]: {
        description: 'Success',
        content: def.response ? { 'application/json': { schema: jsonSchema(def.response, 'output') } } : undefined,
      },
      '400': { description: 'Invalid input (names the field)', content: { 'application/json': { schema: errorRef } } },
      ...(def.auth === 'none' ? {} : { '401': { description: 'Authentication required', content: { 'application/json': { schema: errorRef } } } }),
      ...(def.permission ? { '403': { description: `Needs permission ${def.permission}`, content: { 'application/json': { schema: errorRef } } } } : {}),
      '429': { description: 'Rate limit exceeded', content: { 'application/json': { schema: errorRef } } },
    },
  }
  if (def.cache && method === 'GET') {
    // Documented for clients: revalidate with If-None-Match (decision 018 for the server-cached ones).
    parameters.push({
      name: 'If-None-Match',
      in: 'header',
      required: false,
      schema: { type: 'string' },
      description: 'An ETag of an earlier answer: 304 with no body while the answer has not changed',
    })
    const ok = (op.responses as Record<string, any>)[String(def.status ?? 200)]
    ok.headers = {
      ETag: {
        schema: { type: 'string' },
        description: def.cache.server
          ? "The answer's version, known without computing it: the analytics views' refresh generation, the UTC hour and a digest of tenant and parameters"
          : 'A digest of the body',
      },
      ...(def.cache.server ? { 'X-Cache': { schema: { type: 'string', enum: ['hit', 'miss'] }, description: "Whether the server's read cache answered" } } : {}),
    }
    ;(op.responses as Record<string, unknown>)['304'] = { description: 'Not modified: the ETag in If-None-Match is still current (no body)' }
    if (def.cache.server) {
      op.description = [def.description, `Served from the server's read cache until the analytics views are next refreshed (decision 018); authentication, permission and rate limit are checked on every request.`].filter(Boolean).join('\n\n')
    }
  }
  if (def.permission) op['x-permission'] = def.permission
  if (def.rateLimit) op['x-rate-limit-class'] = def.rateLimit
  if (def.body) {
    const content = def.bodyType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json'
    op.requestBody = { required: true, content: { [content]: { schema: jsonSchema(def.body) } } }
  } else if (def.bodyType === 'raw') {
    op.requestBody = { content: { 'multipart/form-data': { schema: { type: 'object' } } } }
  }
  return op
}

export function buildOpenApi() {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [file, mod] of Object.entries(modules)) {
    const defs = mod.loader?.definitions
    if (!defs) continue
    const path = pathOf(file)
    for (const [method, def] of Object.entries(defs) as [Method, ErasedDefinition][]) {
      ;(paths[path] ??= {})[method.toLowerCase()] = operation(method, path, def)
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hot Dash API',
      version: '1',
      description:
        'Operations analytics, data-ML platform, analytics service and analytics assets marketplace. Errors use one envelope: `{ status: "error", error: { code, message, details }, timestamp, request_id }`.',
    },
    servers: [{ url: '/' }],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A JWT access token or an API key (hd_sk_…)' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'hd_at' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['status', 'error', 'timestamp', 'request_id'],
          properties: {
            status: { const: 'error' },
            error: {
              type: 'object',
              required: ['code', 'message', 'details'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
            },
            timestamp: { type: 'string', format: 'date-time' },
            request_id: { type: 'string' },
          },
        },
      },
    },
  }
}
