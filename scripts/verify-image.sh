#!/bin/sh
# Builds the container image offline and answers the seed question inside it (docs/deployment.md).
#
#   sudo scripts/verify-image.sh [WORK_DIR]      (root: debootstrap, podman and chroot need it)
#
# Where no image registry can be reached, node:20-slim cannot be pulled, so a stand-in base is built
# from Debian's packages: Debian trixie (its nodejs is 20) with nodejs, npm and libnode-dev (Node's
# headers, which the official image ships too), imported into podman. Then:
#   1. `podman build --isolation chroot --build-arg BASE=<stand-in>` builds the Dockerfile as is
#      (both stages, `npm ci --omit=dev`, native modules compiled in the build stage);
#   2. the image's settings are checked (user, volumes, environment, HEALTHCHECK, entry point);
#   3. the image is mounted and the seed question asked in a chroot, as the image's user, with the
#      image's environment: `npm run ask -- "<question>"` (lexical-only: no model weights offline);
#   4. the HEALTHCHECK command itself is run in the chroot against a /healthz served from there.
# `podman run` is not used: where this was written it cannot start containers (rlimits, cgroups).
# Everything lives under WORK_DIR (default /var/tmp/newsdesk-image); the image stays in podman's store.
set -eu

WORK=${1:-/var/tmp/newsdesk-image}
BASE_IMAGE=localhost/newsdesk-base:trixie
IMAGE=localhost/newsdesk-bot:verify
QUESTION=${QUESTION:-"Who will Kolokoltsev hold bilateral meetings with?"}
EXPECT=${EXPECT:-"Jean-Pierre Lacroix"}
HERE=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '\n== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "Run as root (debootstrap, podman and chroot need it)." >&2; exit 1; }
command -v podman >/dev/null && command -v debootstrap >/dev/null || {
  say "Installing podman and debootstrap from Debian"
  apt-get install -y podman debootstrap
}
mkdir -p "$WORK"

if ! podman image exists "$BASE_IMAGE"; then
  ROOTFS="$WORK/rootfs"
  if [ ! -x "$ROOTFS/usr/bin/node" ]; then
    say "Building the stand-in base (Debian trixie + nodejs 20) in $ROOTFS"
    rm -rf "$ROOTFS"
    debootstrap --variant=minbase trixie "$ROOTFS" http://deb.debian.org/debian
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    chroot "$ROOTFS" sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm libnode-dev ca-certificates && apt-get clean && rm -rf /var/lib/apt/lists/*'
  fi
  # This machine's own certificate authorities (an HTTPS-inspecting egress proxy in front of the npm
  # registry), so `npm ci` in the build trusts what the host trusts. Part of the stand-in only.
  if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
    chroot "$ROOTFS" update-ca-certificates
  fi
  say "Importing it as $BASE_IMAGE"
  tar -C "$ROOTFS" -c . | podman import --change 'CMD ["node"]' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - "$BASE_IMAGE"
fi

say "Building $IMAGE from $HERE/Dockerfile with BASE=$BASE_IMAGE"
podman build --isolation chroot --network host --format docker --build-arg BASE="$BASE_IMAGE" -t "$IMAGE" "$HERE"

say "Image settings"
podman image inspect "$IMAGE" --format 'user={{.Config.User}} entrypoint={{.Config.Entrypoint}} cmd={{.Config.Cmd}}'
podman image inspect "$IMAGE" --format 'volumes={{range $k, $v := .Config.Volumes}}{{$k}} {{end}}'
# (--format docker above: the OCI format has no HEALTHCHECK.)
podman image inspect "$IMAGE" --format 'healthcheck={{json .HealthCheck}}'
[ "$(podman image inspect "$IMAGE" --format '{{index .HealthCheck.Test 1}}')" = node ] ||
  { echo "FAIL: the image has no HEALTHCHECK running node" >&2; exit 1; }
ENV_FILE="$WORK/image.env"
podman image inspect "$IMAGE" --format '{{range .Config.Env}}{{println .}}{{end}}' | grep -v '^$' >"$ENV_FILE"
cat "$ENV_FILE"
USER_SPEC=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
[ "$USER_SPEC" = newsdesk ] || { echo "FAIL: the image runs as '$USER_SPEC', not newsdesk" >&2; exit 1; }
for v in /data/articles /data/index /data/state /data/models; do
  podman image inspect "$IMAGE" --format '{{range $k, $v := .Config.Volumes}}{{$k}}{{"\n"}}{{end}}' | grep -qx "$v" ||
    { echo "FAIL: no volume $v" >&2; exit 1; }
done

CONTAINER=$(podman create "$IMAGE")
MNT=$(podman mount "$CONTAINER")
cleanup() {
  umount "$MNT/proc" 2>/dev/null || true
  umount "$MNT/dev" 2>/dev/null || true
  podman umount "$CONTAINER" >/dev/null 2>&1 || true
  podman rm -f "$CONTAINER" >/dev/null 2>&1 || true
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
mount -t proc proc "$MNT/proc"
mount --bind /dev "$MNT/dev"
UIDGID=$(chroot "$MNT" sh -c 'echo "$(id -u newsdesk):$(id -g newsdesk)"')

# Runs a shell command in the image as its user, from /app, with exactly the image's environment.
in_image() {
  # shellcheck disable=SC2046
  chroot --userspec="$UIDGID" "$MNT" env -i HOME=/app PATH=/usr/local/bin:/usr/bin:/bin $(cat "$ENV_FILE") "$@"
}

say "Asking the seed question in the image: $QUESTION"
ANSWER="$WORK/answer.txt"
in_image sh -c "cd /app && ALLOW_REMOTE_MODELS=false npm run --silent ask -- \"$QUESTION\"" >"$ANSWER" 2>"$WORK/ask-stderr.txt" ||
  { cat "$WORK/ask-stderr.txt" >&2; echo "FAIL: ask exited with an error" >&2; exit 1; }
cat "$WORK/ask-stderr.txt"
cat "$ANSWER"
grep -q "$EXPECT" "$ANSWER" && grep -q '^Sources:' "$ANSWER" && grep -q '^\[1\] .*seed\|^\[1\] .*/data/articles' "$ANSWER" ||
  { echo "FAIL: the answer does not quote \"$EXPECT\" with the seed article as its source" >&2; exit 1; }
echo "ok: answered from the seed article, with its source"

say "Running the image's HEALTHCHECK command against /healthz served in the image"
PORT=$(in_image sh -c 'echo "$METRICS_PORT"')
# The real endpoint module, without Telegram: the bot itself needs a Bot API to start.
in_image sh -c "cd /app && node --import tsx --input-type=module -e \"
  const { createMetrics } = await import('./src/observability/metrics.ts');
  const { observabilityRoutes, startObservabilityServer } = await import('./src/observability/http.ts');
  const { silentLogger } = await import('./src/util/log.ts');
  const settings = { host: process.env.METRICS_HOST, port: Number(process.env.METRICS_PORT) };
  const routesFor = (host) => observabilityRoutes({ metrics: createMetrics(), readiness: [], token: undefined, host });
  await startObservabilityServer(settings, routesFor, silentLogger);
  setTimeout(() => process.exit(0), 20000);
\"" &
SERVER_PID=$!
tries=0
until in_image node -e "fetch('http://127.0.0.1:$PORT/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; do
  tries=$((tries + 1))
  [ $tries -lt 40 ] || { echo "FAIL: /healthz never answered on port $PORT" >&2; exit 1; }
  sleep 0.5
done
# The exact command from the image's HEALTHCHECK (exec form: node -e '<script>').
SCRIPT=$(podman image inspect "$IMAGE" --format '{{index .HealthCheck.Test 3}}')
in_image node -e "$SCRIPT" || { echo "FAIL: the HEALTHCHECK command failed" >&2; exit 1; }
echo "ok: the HEALTHCHECK command passes against /healthz on 127.0.0.1:$PORT"
kill "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

say "Image size"
podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB\n", $1 / 1e6}'
echo "verified: build, settings, seed question, HEALTHCHECK (see docs/deployment.md for what is not verified here)"
