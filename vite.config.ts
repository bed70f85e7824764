import { reactRouter } from '@react-router/dev/vite'
import tailwindcss from '@tailwindcss/vite'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [tailwindcss(), reactRouter()],
  server: { watch: { ignored: ['**/.data/**', '**/bench/**'] } },
  ssr: { external: ['@electric-sql/pglite', 'pg-boss', 'postgres', 'ml-xgboost', 'ioredis'] },
  build: { target: 'es2022' },
})
