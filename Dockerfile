# Berth's one image: `server`, `agent` and the other `berth` commands.
#   docker build -t berth:local .
#   docker run --rm berth:local --help
FROM node:20-bookworm-slim

WORKDIR /opt/berth
ENV NODE_ENV=production

# jemalloc: bin/berth runs Node on it (services/cli/allocator.ts).
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY bin ./bin
COPY events ./events
COPY machines ./machines
COPY services ./services

# Runs as root: the agent needs the Docker socket mounted from the host.
ENTRYPOINT ["bin/berth"]
