import fs from 'node:fs'

/** Debian's Chromium (Playwright's own browser download is not available here), or CHROMIUM_PATH. */
export function chromiumPath(): string | null {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (p && fs.existsSync(p)) return p
  }
  return null
}
