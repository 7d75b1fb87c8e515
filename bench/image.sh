#!/usr/bin/env bash
# Builds a real image FROM scratch holding only what the chiseled runtime-deps stage would add
# to: the published executable, the loader, libc, libm, libssl and libcrypto, and a /data owned
# by the app user. Runs it, calls it, stops it, and prints its size. Needs a Docker daemon that
# can build without pulling (base images cannot be pulled here; scratch needs none).
# Usage: bash bench/image.sh            (after tests/run.sh or bench/run.sh has published)
set -euo pipefail
cd "$(dirname "$0")/.."

binary=artifacts/publish/cloud-providers
[ -x "$binary" ] || { echo "Publish first: bash tests/run.sh" >&2; exit 1; }
if ! docker info >/dev/null 2>&1; then
  echo "No Docker daemon. On Debian: apt-get install docker.io, then" >&2
  echo "  dockerd --storage-driver=vfs --bridge=none --iptables=false &" >&2
  exit 1
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
root="$context/rootfs"
mkdir -p "$root/app" "$root/tmp" "$context/owned/data"
cp "$binary" "$root/app/"
libraries=$(ldd "$binary" | grep -o '/[^ ]*')
for name in libssl.so.3 libcrypto.so.3; do
  libraries+=" $(ldconfig -p | awk -v n="$name" '$1 == n { print $NF; exit }')"
done
for library in $libraries; do
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
done
chmod 1777 "$root/tmp"
cat > "$context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
# COPY makes everything root's: SQLite's WAL needs /data writable by the app user. Copying the
# folder that holds data/ (not data/ itself) gives the folder its owner too.
COPY --chown=1654:1654 owned/ /
USER 1654:1654
WORKDIR /data
ENV ASPNETCORE_URLS=http://127.0.0.1:8080 \
    Database__Path=/data/cloud-providers.db \
    Logging__Console__FormatterName=json
VOLUME /data
ENTRYPOINT ["/app/cloud-providers"]
CMD ["serve"]
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t cloud-providers:scratch "$context" >/dev/null 2>&1

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
volume=$(docker volume create)
team=0190d9b8-7c1e-7a2b-9c3d-4e5f60718293
run() { docker run --rm -i --network=host -v "$volume:/data" cloud-providers:scratch "$@"; }
run team add "$team" >/dev/null
key=$(run key create "$team" --kind sk)
echo "comfyui-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab" | run credential set "$team" >/dev/null
container=$(docker run -d --network=host -v "$volume:/data" -e "ASPNETCORE_URLS=http://127.0.0.1:$port" cloud-providers:scratch)
status=""
for _ in $(seq 1 100); do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/cloud-providers/comfy-cloud" || true)
  [ "$status" = 200 ] && break
  sleep 0.05
done
docker stop -t 15 "$container" >/dev/null
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$container")
docker rm "$container" >/dev/null
docker volume rm "$volume" >/dev/null
size=$(docker image inspect -f '{{.Size}}' cloud-providers:scratch)
echo "status endpoint: $status; exit code after docker stop: $exit_code"
echo "image FROM scratch: $size bytes ($(python3 -c "print(round($size / 1e6, 1))") MB)"
[ "$status" = 200 ] && [ "$exit_code" = 0 ]
