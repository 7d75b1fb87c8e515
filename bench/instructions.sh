#!/usr/bin/env bash
# Instructions per request in user space, counted by Valgrind's callgrind: the service's /healthz
# and status paths beside the bare host's constant route, and where the service's own share goes.
# A figure that does not move with the machine's noise, for changes to the request path too small
# to see in req/s. Usage: bash bench/instructions.sh [--duration SECONDS] [--top N]
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/install.sh
source bench/symbols.sh
install_valgrind_tools "Counting instructions"

out=artifacts/instructions
rm -rf "$out"
mkdir -p "$out"
echo "Publishing the service and the bare host with their symbol tables..." >&2
publish_with_symbols src/CloudProviders "$out" service
publish_with_symbols bench/BareHost "$out" floor

python3 bench/instructions.py --service "$out/service/cloud-providers" --floor "$out/floor/bare-host" --work "$out/work" "$@"
