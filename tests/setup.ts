import { afterEach, beforeEach, vi } from 'vitest'

// A test fails on any console.error it did not expect (Epic Stack habit): errors must be asserted, not ignored.
let errors: unknown[][] = []
beforeEach(() => {
  errors = []
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    errors.push(args)
  })
})
afterEach(() => {
  vi.mocked(console.error).mockRestore?.()
  if (errors.length) {
    const first = errors[0].map((a) => (a instanceof Error ? a.stack : String(a))).join(' ')
    throw new Error(`console.error was called ${errors.length} time(s); first: ${first}`)
  }
})
