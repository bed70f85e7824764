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
# tsx runs the server entry; it is a runtime dependency.
RUN npm ci --omit=dev --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npx react-router build

FROM base AS runtime
# No state in the image or on the machine's disk: production refuses to boot without DATABASE_URL, JWT_SECRET (or
# SUPABASE_JWT_SECRET) and Supabase Storage (app/env.server.ts). One container on a volume instead:
# ALLOW_LOCAL_STATE_IN_PRODUCTION=true DATA_DIR=/data, with /data mounted.
ENV PORT=8080
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/build ./build
COPY package.json package-lock.json ./
COPY server ./server
COPY app ./app
COPY supabase ./supabase
COPY scripts ./scripts
EXPOSE 8080
CMD ["npm", "start"]
