#!/usr/bin/env bash
# Instructions per request in user space, counted by Valgrind's callgrind: the service's /healthz
# and status paths beside the bare host's constant route, and where the service's own share goes.
# A figure that does not move with the machine's noise, for changes to the request path too small
# to see in req/s. Usage: bash bench/instructions.sh [--duration SECONDS] [--top N]
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v valgrind >/dev/null || missing+=(valgrind)
command -v clang >/dev/null || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v python3 >/dev/null || missing+=(python3)
command -v taskset >/dev/null || missing+=(util-linux)
source bench/install.sh
source bench/symbols.sh
install_missing "Counting instructions" "${missing[@]}"

out=artifacts/instructions
rm -rf "$out"
mkdir -p "$out"
echo "Publishing the service and the bare host with their symbol tables..." >&2
publish_with_symbols src/CloudProviders "$out" service
publish_with_symbols bench/BareHost "$out" floor

python3 bench/instructions.py --service "$out/service/cloud-providers" --floor "$out/floor/bare-host" --work "$out/work" "$@"
