import type { Config } from '@react-router/dev/config'

export default {
  ssr: true,
  // Stay on v7 behaviour explicitly (and quiet the upgrade notices) until we move to v8 on Node 22.
  future: {
    v8_middleware: false,
    v8_splitRouteModules: false,
    v8_viteEnvironmentApi: false,
    v8_passThroughRequests: false,
    v8_trailingSlashAwareDataRequests: false,
  },
} satisfies Config
