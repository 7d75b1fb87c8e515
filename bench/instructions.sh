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
install_missing "Counting instructions" "${missing[@]}"

out=artifacts/instructions
rm -rf "$out"
mkdir -p "$out"
# Symbols kept, so that callgrind can name functions; their DWARF is dropped, as this Valgrind
# does not read the version the linker writes. The native build goes to a folder of its own: in
# the usual one, the next plain publish would find it up to date and ship it unstripped.
publish() {
  local project=$1 name=$2
  if ! dotnet publish "$project" -c Release -r linux-x64 -p:StripSymbols=false -p:NativeIntermediateOutputPath="$PWD/$out/$name.native/" \
      -o "$out/$name.full" > "$out/publish.log" 2>&1; then
    cat "$out/publish.log" >&2
    exit 1
  fi
  mkdir -p "$out/$name"
  local binary
  binary=$(basename "$(find "$out/$name.full" -maxdepth 1 -type f -executable | head -1)")
  strip --strip-debug -o "$out/$name/$binary" "$out/$name.full/$binary"
}
echo "Publishing the service and the bare host with their symbol tables..." >&2
publish src/CloudProviders service
publish bench/BareHost floor

python3 bench/instructions.py --service "$out/service/cloud-providers" --floor "$out/floor/bare-host" --work "$out/work" "$@"
