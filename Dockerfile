# syntax=docker/dockerfile:1
# Multi-stage: dependencies → build → a slim runtime with production dependencies only.
FROM node:22-bookworm-slim AS base
ENV NODE_ENV=production
WORKDIR /app

FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund

FROM base AS production-deps
COPY package.json package-lock.json ./
# The runtime is plain node on build/ (decision 005): no TypeScript loader, no bundler.
RUN npm ci --omit=dev --no-audit --no-fund

FROM deps AS build
COPY . .
# build/client + build/server (React Router) and build/node (the server entries and thread tasks, esbuild).
RUN npm run build

FROM base AS runtime
# No state in the image or on the machine's disk: production refuses to boot without DATABASE_URL, JWT_SECRET (or
# SUPABASE_JWT_SECRET) and Supabase Storage (app/env.server.ts). One container on a volume instead:
# ALLOW_LOCAL_STATE_IN_PRODUCTION=true DATA_DIR=/data, with /data mounted.
ENV PORT=8080
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/build ./build
COPY package.json package-lock.json ./
# What the built code reads at run time: the migrations, npm run worker / db:*'s launcher, the external trainer.
COPY supabase ./supabase
COPY server/run.mjs ./server/run.mjs
COPY app/features/ml/external ./app/features/ml/external
EXPOSE 8080
CMD ["npm", "start"]
