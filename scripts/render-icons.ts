/**
 * `npx tsx scripts/render-icons.ts`: renders public/favicon.svg into public/favicon.ico (16, 32, 48 px PNGs in an ICO,
 * which every browser reads) and public/apple-touch-icon.png (180 px), with the Chromium the browser tests use.
 */
import fs from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { chromiumPath } from '../tests/e2e/chromium.ts'

const PUBLIC = path.resolve(import.meta.dirname, '../public')
const svg = fs.readFileSync(path.join(PUBLIC, 'favicon.svg'), 'utf8')
const browser = await chromium.launch({ executablePath: chromiumPath() ?? undefined, args: ['--no-sandbox'] })
const page = await browser.newPage()

async function png(size: number) {
  await page.setViewportSize({ width: size, height: size })
  await page.setContent(`<body style="margin:0">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body>`)
  return page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } })
}

fs.writeFileSync(path.join(PUBLIC, 'apple-touch-icon.png'), await png(180))
const sizes = [16, 32, 48]
const images: Buffer[] = []
for (const s of sizes) images.push(await png(s))
const header = Buffer.alloc(6 + 16 * sizes.length)
header.writeUInt16LE(1, 2) // type: icon
header.writeUInt16LE(sizes.length, 4)
let offset = header.length
sizes.forEach((s, i) => {
  const entry = 6 + 16 * i
  header.writeUInt8(s, entry)
  header.writeUInt8(s, entry + 1)
  header.writeUInt16LE(1, entry + 4) // colour planes
  header.writeUInt16LE(32, entry + 6) // bits per pixel
  header.writeUInt32LE(images[i].length, entry + 8)
  header.writeUInt32LE(offset, entry + 12)
  offset += images[i].length
})
fs.writeFileSync(path.join(PUBLIC, 'favicon.ico'), Buffer.concat([header, ...images]))
await browser.close()
console.log('wrote public/favicon.ico and public/apple-touch-icon.png')
