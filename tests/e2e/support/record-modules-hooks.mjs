// The module hooks of record-modules.mjs (they run on Node's loader thread).
import fs from 'node:fs'

let file
export function initialize(data) {
  file = data.file
  fs.writeFileSync(file, `argv ${data.argv1}\n`)
}
export async function load(url, context, nextLoad) {
  fs.appendFileSync(file, url + '\n')
  return nextLoad(url, context)
}
