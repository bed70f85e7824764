import type { Config } from '@react-router/dev/config'

export default {
  ssr: true,
  // Stay on v7 behaviour explicitly (and quiet the upgrade notices) until we move to v8 on Node 22.
  future: {
    // Vite pre-bundles what the route modules import (recharts, papaparse) at startup. Without it, a fresh checkout's
    // first dashboard visit found recharts late, re-bundled React beside the page's copy and crashed ("Invalid hook call").
    unstable_optimizeDeps: true,
    v8_middleware: false,
    v8_splitRouteModules: false,
    v8_viteEnvironmentApi: false,
    v8_passThroughRequests: false,
    v8_trailingSlashAwareDataRequests: false,
  },
} satisfies Config
