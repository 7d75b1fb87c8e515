#!/usr/bin/env bash
# Writes NativeStartup.order, the order of the executable's managed code (see bench/startup_order.py):
# publishes the service with its symbol table, runs it under Valgrind's callgrind to its first
# answer and through the benchmark's load, and lists the methods that ran.
# Usage: bash bench/startup-order.sh
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/install.sh
source bench/symbols.sh
install_valgrind_tools "Ordering the start-up code"

out=artifacts/startup-order
rm -rf "$out"
mkdir -p "$out"
echo "Publishing the service with its symbol table..." >&2
publish_with_symbols src/CloudProviders "$out" service
python3 bench/startup_order.py --service "$out/service/cloud-providers" --work "$out/work" --out NativeStartup.order
