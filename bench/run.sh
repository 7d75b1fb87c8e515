#!/usr/bin/env bash
# The benchmark: size, cold start (AOT vs JIT), memory, and throughput/p99 under wrk; then the
# PostgreSQL build beside the default one (throughput from the caches, cold start, memory, and
# how fast a change on one instance reaches another), on a throwaway PostgreSQL server; and, where
# ../shared/peers/go-status is there to build, the Go peer of the read path side by side; and the
# fleet (bench/fleet.py): the pool's size under a write mix, PgBouncer beside a direct connection,
# and a change reaching the last of N instances.
# Usage: bash bench/run.sh [--runs N] [--duration SECONDS] [--rounds R] [--changes N] [--fleet N]
#        bash bench/run.sh --only-fleet [--fleet N] [--pools 2,4,8,20] [--mix-seconds S]
# Prints Markdown tables; the README's benchmark section quotes their latest output.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v clang >/dev/null || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v python3 >/dev/null || missing+=(python3)
command -v taskset >/dev/null || missing+=(util-linux)
command -v pgbouncer >/dev/null || missing+=(pgbouncer)
command -v psql >/dev/null || missing+=(postgresql-client)
source bench/install.sh
install_missing "The benchmark" "${missing[@]}"

out=artifacts/bench
rm -rf "$out"
echo "Publishing the AOT build and the same code as a plain JIT build (no ReadyToRun)..." >&2
mkdir -p "$out"
publish() {
  if ! dotnet publish src/CloudProviders -c Release -r linux-x64 "$@" > "$out/publish.log" 2>&1; then
    cat "$out/publish.log" >&2
    exit 1
  fi
}
if [[ " $* " == *" --only-fleet "* ]]; then
  publish -p:Postgres=true -o "$out/postgres"
  source tests/postgres.sh
  trap postgres_stop EXIT
  postgres_start >&2
  python3 bench/bench.py --aot - --jit - --floor - --pde - --work "$out/work" \
    --postgres "$out/postgres" --postgres-connection "$CLOUD_PROVIDERS_TEST_POSTGRES;Database=postgres" "$@"
  exit 0
fi
publish -o "$out/aot"
# The JIT build keeps the request-delegate generator, so both run the same endpoint code.
publish --self-contained false -p:PublishAot=false -p:EnableRequestDelegateGenerator=true \
  -p:PublishReadyToRun=false -o "$out/jit"

# The same executable built position-dependent (no ASLR for its own image, its data used in
# place), to weigh what NativeStartup.props' position-independent default costs at start-up.
publish -p:PositionIndependentExecutable=false -p:IlcDehydrate=false -o "$out/pde"

# The PostgreSQL build, measured on a throwaway server beside the default build on SQLite.
publish -p:Postgres=true -o "$out/postgres"

# The floor: a bare host with the same start-up settings and one constant route.
if ! dotnet publish bench/BareHost -c Release -r linux-x64 -o "$out/floor" > "$out/publish.log" 2>&1; then
  cat "$out/publish.log" >&2
  exit 1
fi

# The Go peer of the read path, where its source sits beside the repository (../shared/peers):
# built from Debian's Go packages, which its script installs; a column of its own, or none.
go_peer=()
peer_build=../shared/peers/go-status/build.sh
if [ -f "$peer_build" ]; then
  if bash "$peer_build" "$PWD/$out/go-status" > "$out/go-build.log" 2>&1; then
    go_peer=(--go "$PWD/$out/go-status")
  else
    echo "The Go peer did not build (see $out/go-build.log); its column is left out." >&2
  fi
fi

source tests/postgres.sh
trap postgres_stop EXIT
postgres_start >&2
python3 bench/bench.py --aot "$out/aot" --jit "$out/jit" --floor "$out/floor/bare-host" --pde "$out/pde" --work "$out/work" \
  --postgres "$out/postgres" --postgres-connection "$CLOUD_PROVIDERS_TEST_POSTGRES;Database=postgres" "${go_peer[@]}" "$@"
