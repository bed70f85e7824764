import { writeReadableStreamToWritable } from '@react-router/node'
import type { NextFunction, Request as ExpressRequest, Response as ExpressResponse } from 'express'
import { matchRoutes, type ServerBuild } from 'react-router'
import type { ApiRouteFn } from './api-route.server.ts'
import { textOf } from './text-response.server.ts'

/*
  GET and HEAD requests to the API's resource routes go straight to the route's `api()` loader, not through React
  Router's request handler (decision 019). For a resource route that handler only matches the path and calls the
  loader, but it costs a fifth of a cached dashboard read's CPU on top (a data-router query per request, a second
  Request, the body read back through a web stream). Matching is React Router's own `matchRoutes` over the same
  route manifest, so a path resolves to the same module; anything else (pages, other methods, routes that are not
  `api()`) goes on to React Router unchanged.
*/

interface ApiRoute {
  id: string
  path: string
  loader: ApiRouteFn
}

export function apiFastPath(build: Pick<ServerBuild, 'routes'>) {
  const routes: ApiRoute[] = []
  for (const r of Object.values(build.routes)) {
    const loader = r?.module.loader as ApiRouteFn | undefined
    // top-level resource routes under /api/ made by api() (they carry their definitions)
    if (r && r.parentId === 'root' && r.path?.startsWith('api/') && loader && typeof loader.definitions === 'object') {
      routes.push({ id: r.id, path: r.path, loader })
    }
  }
  // matchRoutes flattens and ranks the whole list on every call: paths without parameters are looked up instead (an
  // exact static match is what its ranking would pick first; matching is case-insensitive, as React Router's is).
  const exact = new Map<string, ApiRoute>()
  for (const r of routes) if (!/[:*?]/.test(r.path)) exact.set(`/${r.path}`.toLowerCase(), r)
  const match = (pathname: string) => {
    const route = exact.get(pathname.replace(/\/+$/, '').toLowerCase())
    if (route) return { route, params: {} }
    const matches = matchRoutes(routes, pathname)
    return matches?.[matches.length - 1]
  }
  return async (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !req.path.startsWith('/api/')) return next()
    const leaf = match(req.path)
    if (!leaf) return next()
    try {
      let controller: AbortController | null = new AbortController()
      // a client that goes away aborts the handler's work; a finished response has nothing left to abort
      res.on('finish', () => (controller = null))
      res.on('close', () => controller?.abort())
      const headers = new Headers()
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1])
      const request = new Request(`${req.protocol}://${req.headers.host ?? 'localhost'}${req.originalUrl}`, {
        method: req.method,
        headers,
        signal: controller.signal,
      })
      const response = await leaf.route.loader({ request, params: leaf.params as Record<string, string | undefined> })
      await send(res, response)
    } catch (e) {
      next(e)
    }
  }
}

async function send(res: ExpressResponse, response: Response) {
  res.statusCode = response.status
  for (const [k, v] of response.headers) if (k !== 'set-cookie') res.setHeader(k, v)
  const cookies = response.headers.getSetCookie()
  if (cookies.length) res.setHeader('Set-Cookie', cookies)
  // A JSON answer api() made from a string is written as that string, not read back through its web stream.
  const text = textOf(response)
  if (text !== undefined || !response.body) {
    res.end(text)
    return
  }
  try {
    await writeReadableStreamToWritable(response.body, res)
  } catch (e) {
    if (!res.destroyed && !res.writableEnded) throw e
  }
}
