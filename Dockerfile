# syntax=docker/dockerfile:1
# newsdesk bot image: `npm start` (bot, webhook or polling) by default; `worker` for an embedding worker.
# Build:  docker build -t newsdesk-bot .          (BASE defaults to the official Node 20 slim image)
# Offline stand-in base (how it was verified here): scripts/verify-image.sh, docs/deployment.md.
ARG BASE=node:20-slim

# --- build: production dependencies, native modules compiled here (better-sqlite3, hnswlib-node) ---
FROM ${BASE} AS build
# Compilers for native modules whose prebuilt binaries cannot be downloaded (they fall back to a build).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Node's own headers (shipped with the official image under /usr/local, with Debian's libnode-dev under
# /usr) so node-gyp does not download them; tsx is a runtime dependency (entry points run through it).
RUN nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"; \
    if [ -f "$nodedir/include/node/node.h" ]; then export npm_config_nodedir="$nodedir"; fi; \
    npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime ---
FROM ${BASE}
ENV NODE_ENV=production \
    ARTICLES_DIR=/data/articles \
    INDEX_DIR=/data/index \
    STATE_DIR=/data/state \
    MODEL_CACHE_DIR=/data/models \
    METRICS_PORT=9464 \
    METRICS_HOST=127.0.0.1
RUN groupadd --gid 10001 newsdesk \
 && useradd --uid 10001 --gid newsdesk --no-create-home --home-dir /app --shell /usr/sbin/nologin newsdesk
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
# The interface's languages (Fluent files, read by src/i18n).
COPY locales ./locales
# The seed article: a fresh articles volume starts with it (Docker copies it into an empty named volume).
COPY seeds /data/articles
RUN mkdir -p /data/index /data/state /data/models \
 && chown -R newsdesk:newsdesk /data
USER newsdesk
VOLUME ["/data/articles", "/data/index", "/data/state", "/data/models"]
# 8080: webhook server (WEBHOOK_PORT) with /healthz, /readyz, /metrics; 9464: the same three on loopback (METRICS_PORT).
EXPOSE 8080
# /healthz on METRICS_PORT (127.0.0.1): served in webhook and polling mode alike. The first start
# indexes the articles (and may download the model), hence the long start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.METRICS_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/newsdesk.mjs"]
CMD ["start"]
