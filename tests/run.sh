#!/usr/bin/env bash
# Every test: unit, integration (the app in process on a real SQLite file), and the
# AOT-published binary driven over loopback. Ends with "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

artifacts=artifacts
results="$artifacts/test-results"

if ! command -v dotnet >/dev/null; then
  echo "The .NET 10 SDK is required (dotnet on PATH)." >&2
  exit 1
fi

# Native AOT links with clang against zlib.
if ! command -v clang >/dev/null || [ ! -e /usr/include/zlib.h ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing clang and zlib1g-dev for the Native AOT link..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang zlib1g-dev >/dev/null
  else
    echo "Native AOT needs clang and zlib1g-dev. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y clang zlib1g-dev" >&2
    exit 1
  fi
fi

# The AOT publishes must be free of warnings (trim and AOT warnings are errors in the project too):
# the opt-in build with TLS in process first, then the default build the tests are mostly about.
mkdir -p "$artifacts"
publish() {
  local output=$1
  shift
  echo "Publishing the Native AOT binary to $output $*..."
  if ! dotnet publish src/CloudProviders -c Release -r linux-x64 -o "$output" "$@" > "$output.log" 2>&1; then
    cat "$output.log" >&2
    echo "tests: 0 passed, 1 failed"
    exit 1
  fi
  if grep -Eq ': warning [A-Z]+[0-9]+' "$output.log"; then
    grep -E ': warning [A-Z]+[0-9]+' "$output.log" | sort -u >&2
    echo "The AOT publish has warnings." >&2
    echo "tests: 0 passed, 1 failed"
    exit 1
  fi
  echo "Published $(du -b "$output/cloud-providers" | cut -f1) bytes: $output/cloud-providers"
}
publish "$artifacts/publish-tls" -p:InProcessTls=true
publish "$artifacts/publish"

rm -rf "$results"
status=0
CLOUD_PROVIDERS_BINARY="$PWD/$artifacts/publish/cloud-providers" \
CLOUD_PROVIDERS_TLS_BINARY="$PWD/$artifacts/publish-tls/cloud-providers" \
  dotnet test tests/CloudProviders.Tests \
    --logger "trx;LogFileName=results.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" || status=$?

trx="$results/results.trx"
if [ ! -f "$trx" ]; then
  echo "The test run produced no results." >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
passed=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
failed=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
errors=$(sed -E 's/.* error="([0-9]+)".*/\1/' <<<"$counters")
failed=$((failed + errors))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
