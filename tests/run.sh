#!/usr/bin/env bash
# Every test: unit, integration (the app in process on a real SQLite file), and the
# AOT-published binaries driven over loopback; then the contract tests again on PostgreSQL, on a
# throwaway server this script starts and stops. Ends with "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."

artifacts=artifacts
results="$artifacts/test-results"

if ! command -v dotnet >/dev/null; then
  echo "The .NET 10 SDK is required (dotnet on PATH)." >&2
  exit 1
fi

# Debian packages the tests need: installed when missing (as root), or one line that says how.
# Usage: require WHAT_FOR PACKAGE... -- COMMAND_OR_FILE...
require() {
  local why=$1 packages=() missing=0
  shift
  while [ "$1" != "--" ]; do packages+=("$1"); shift; done
  shift
  for thing in "$@"; do
    if [[ $thing == /* ]]; then [ -e "$thing" ] || missing=1; else command -v "$thing" >/dev/null || missing=1; fi
  done
  [ "$missing" = 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${packages[*]} from Debian's packages, for $why..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "The tests need ${packages[*]} for $why. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
}
require "the Native AOT link" clang zlib1g-dev -- clang /usr/include/zlib.h
require "the metrics test (Prometheus' promtool)" prometheus -- promtool
require "the API description's checks, with independent tools from npm" nodejs npm -- node npm
# kubectl comes with the machine image; Debian's own is the fallback (its kustomize is older).
require "rendering the Kubernetes manifests (kubectl kustomize)" kubernetes-client -- kubectl
require "checking the systemd unit (systemd-analyze)" systemd -- systemd-analyze
require "counting a start's page faults (perf)" linux-perf -- perf
require "the fleet's tests (a pooler and a load balancer in front of PostgreSQL)" pgbouncer haproxy -- pgbouncer haproxy

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
publish "$artifacts/publish-postgres" -p:Postgres=true
publish "$artifacts/publish"

# The API description, generated from the routes by a build of its own: the committed copy
# (docs/openapi/v1.json, which the executable serves) must be the generated one.
echo "Generating the API description..."
rm -f "$artifacts/openapi/openapi.json"
if ! dotnet build src/CloudProviders -p:OpenApiGenerateDocuments=true > "$artifacts/openapi.log" 2>&1; then
  cat "$artifacts/openapi.log" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
generated_failed=0
if ! cmp -s "$artifacts/openapi/openapi.json" docs/openapi/v1.json; then
  echo "docs/openapi/v1.json is not the generated API description; update it with:" >&2
  echo "  cp $artifacts/openapi/openapi.json docs/openapi/v1.json" >&2
  diff -u docs/openapi/v1.json "$artifacts/openapi/openapi.json" | head -40 >&2 || true
  generated_failed=1
fi
echo "Installing the API description's and the deployments' checkers (npm ci in tests/openapi and tests/deploy)..."
npm ci --prefix tests/openapi --no-audit --no-fund --loglevel=error > /dev/null
npm ci --prefix tests/deploy --no-audit --no-fund --loglevel=error > /dev/null

# The PostgreSQL server for the second engine's tests, stopped at the end, pass or fail.
source tests/postgres.sh
trap postgres_stop EXIT
if ! postgres_start; then
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

rm -rf "$results"
mkdir -p "$results"
export CLOUD_PROVIDERS_TLS_BINARY="$PWD/$artifacts/publish-tls/cloud-providers"
export CLOUD_PROVIDERS_POSTGRES_BINARY="$PWD/$artifacts/publish-postgres/cloud-providers"
export CLOUD_PROVIDERS_DEFAULT_BINARY="$PWD/$artifacts/publish/cloud-providers"
passed=$((1 - generated_failed))
failed=$generated_failed
# Every response the tests receive, checked against the API description at the end.
export CLOUD_PROVIDERS_RESPONSE_LOG="$PWD/$results/responses.jsonl"
# One pass: dotnet test with these arguments (run settings last, after --), its results added to the tally.
run_pass() {
  local name=$1
  shift
  local status=0
  dotnet test tests/CloudProviders.Tests \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" "$@" || status=$?
  local trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    echo "The $name test run produced no results." >&2
    failed=$((failed + 1))
    return
  fi
  local counters pass fail errors
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  pass=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  fail=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  errors=$(sed -E 's/.* error="([0-9]+)".*/\1/' <<<"$counters")
  fail=$((fail + errors))
  if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
    fail=1
  fi
  passed=$((passed + pass))
  failed=$((failed + fail))
}

# Everything, on SQLite (and the PostgreSQL build's own tests on the server), but the fleet's.
CLOUD_PROVIDERS_BINARY="$CLOUD_PROVIDERS_DEFAULT_BINARY" run_pass sqlite --filter "Load!=fleet"
# The contract again, in process and on the published PostgreSQL build, on PostgreSQL.
echo "The contract tests on PostgreSQL..."
CLOUD_PROVIDERS_TEST_ENGINE=postgres CLOUD_PROVIDERS_BINARY="$CLOUD_PROVIDERS_POSTGRES_BINARY" run_pass postgres \
  --no-build --filter "(FullyQualifiedName~.Api.|FullyQualifiedName~.Native.)&Engine!=sqlite&Engine!=postgres"

# The fleet's tests (forty instances, a load balancer under load): alone, one at a time.
echo "The fleet's tests, one at a time..."
CLOUD_PROVIDERS_BINARY="$CLOUD_PROVIDERS_POSTGRES_BINARY" run_pass fleet --no-build --filter "Load=fleet" -- xUnit.ParallelizeTestCollections=false

# A checker's output, its closing line "NAME: N passed, M failed" added to the tally and the
# rest shown; a checker that ends without that line counts as one failure.
# Usage: add_tally NAME OUTPUT
add_tally() {
  local name=$1 output=$2 line
  printf '%s\n' "$output" | grep -v "^$name: [0-9]* passed" || true
  if line=$(printf '%s\n' "$output" | grep -E "^$name: [0-9]+ passed, [0-9]+ failed$"); then
    passed=$((passed + $(sed -E "s/$name: ([0-9]+) passed.*/\1/" <<<"$line")))
    failed=$((failed + $(sed -E 's/.* ([0-9]+) failed/\1/' <<<"$line")))
  else
    failed=$((failed + 1))
  fi
}

# The API description: valid OpenAPI 3.1, and every recorded response one it describes.
echo "Checking the API description and every recorded response against it..."
add_tally openapi "$(node tests/openapi/check.mjs docs/openapi/v1.json "$CLOUD_PROVIDERS_RESPONSE_LOG" 2>&1)"

# The deployments as shipped: each Kubernetes overlay rendered, valid against the API schema and
# held to the service's rules, and the systemd unit verified and scored; each check also shown to
# catch a deployment broken for it.
echo "Checking the Kubernetes manifests and the systemd unit..."
add_tally deploy "$(node tests/deploy/check.mjs deploy/kubernetes --self-test 2>&1)"
add_tally systemd "$(bash tests/deploy/systemd.sh "$CLOUD_PROVIDERS_DEFAULT_BINARY" --self-test 2>&1)"

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
