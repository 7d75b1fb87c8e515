# Sourced by the benchmark's scripts: install_missing PURPOSE PACKAGE... installs the Debian
# packages named (as root, with apt-get), or stops with one line that says how.
install_missing() {
  local purpose=$1
  shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "$purpose needs: $* (sudo apt-get install -y $*)" >&2
    exit 1
  fi
}
