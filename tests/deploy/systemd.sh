#!/usr/bin/env bash
# Checks the shipped systemd unit (deploy/systemd/cloud-providers.service): `systemd-analyze
# verify` on it (with ExecStart pointed at the published executable, which verify requires to
# exist), and `systemd-analyze security --offline=true`, whose exposure must be at most 2.0
# ("OK"). With --self-test, a unit broken for each check must fail it.
# Usage: bash tests/deploy/systemd.sh EXECUTABLE [--self-test]. Ends with "systemd: N passed, M failed".
set -uo pipefail
unit=deploy/systemd/cloud-providers.service
executable=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# Prints the problems with a unit file; nothing when it passes both checks.
problems() {
  local file=$1 copy="$work/cloud-providers.service"
  sed "s|^ExecStart=/usr/local/bin/cloud-providers|ExecStart=$executable|" "$file" > "$copy"
  local verify status=0
  verify=$(cd "$work" && systemd-analyze verify --man=no "$copy" 2>&1) || status=$?
  # Any word from verify is a finding: it warns of unknown settings and goes on with exit 0.
  if [ "$status" -ne 0 ] || [ -n "$verify" ]; then echo "systemd-analyze verify: $verify"; fi
  local exposure
  exposure=$(cd "$work" && systemd-analyze security --offline=true --no-pager "$copy" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  if [ -z "$exposure" ]; then
    echo "systemd-analyze security gave no exposure level"
  elif ! awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
    echo "systemd-analyze security: exposure $exposure, more than 2.0"
  fi
}

out=$(problems "$unit")
if [ -z "$out" ]; then passed=$((passed + 1)); else echo "$unit: $out"; failed=$((failed + 1)); fi

if [ "${2:-}" = --self-test ]; then
  # Each break must be caught: a misspelt setting, a broken ExecStart, and the sandbox taken away.
  declare -A breaks=(
    ["a misspelt setting"]='s/^ProtectSystem=strict/ProtectSytem=strict/'
    ["a relative ExecStart"]='s|^ExecStart=/usr/local/bin/cloud-providers|ExecStart=cloud-providers|'
    ["no sandbox"]='/^\(ProtectSystem\|ProtectHome\|PrivateTmp\|PrivateDevices\|PrivateUsers\|NoNewPrivileges\|CapabilityBoundingSet\|SystemCallFilter\|RestrictAddressFamilies\|RestrictNamespaces\|ProtectKernelTunables\|ProtectKernelModules\|ProtectControlGroups\|DynamicUser\|MemoryDenyWriteExecute\)=/d'
  )
  for what in "${!breaks[@]}"; do
    sed "${breaks[$what]}" "$unit" > "$work/broken.service"
    found=$(problems "$work/broken.service")
    [ -z "${SYSTEMD_CHECK_VERBOSE:-}" ] || echo "caught $what: $found"
    if [ -n "$found" ]; then
      passed=$((passed + 1))
    else
      echo "self-test: the unit with $what passes the checks"
      failed=$((failed + 1))
    fi
  done
fi
echo "systemd: $passed passed, $failed failed"
