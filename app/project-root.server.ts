import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The project's root (the repository, or /app in the image): the nearest folder above this module that holds
 * package.json. The same answer from source (app/) and from a bundle (build/server/, build/node/, a built thread
 * under build/node/threads/), where a path relative to the module's own file would point into build/.
 */
export const PROJECT_ROOT = (() => {
  const start = path.dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`)
  }
})()
