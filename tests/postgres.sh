# A throwaway PostgreSQL cluster for the tests: installed from Debian's packages when missing,
# created in a temporary folder, run as an unprivileged user (initdb refuses root) on a loopback
# port, and removed by postgres_stop. Sourced by tests/run.sh and bench/run.sh.

postgres_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

postgres_install() {
  if [ -n "$(postgres_bin)" ] && [ -x "$(postgres_bin)/initdb" ] && command -v openssl >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing PostgreSQL (and openssl) from Debian's packages..."
    # Only the server's programs: no cluster of the system's own, no service started.
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql openssl >/dev/null
  else
    echo "The PostgreSQL tests need PostgreSQL's server. Install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y postgresql openssl" >&2
    return 1
  fi
}

# Runs a PostgreSQL program as the cluster's owner.
postgres_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

# Starts the cluster and exports CLOUD_PROVIDERS_TEST_POSTGRES (a connection string to its
# superuser) and CLOUD_PROVIDERS_TEST_POSTGRES_CTL (pg_ctl for it, so tests can stop and start it).
postgres_start() {
  postgres_install || return 1
  local bin
  bin=$(postgres_bin)
  POSTGRES_DIR=$(mktemp -d /tmp/cloud-providers-postgres.XXXXXX)
  local password port
  password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf '%s\n' "$password" > "$POSTGRES_DIR/password"
  # TLS with a CA of the run's own, so that SSL Mode=VerifyFull can be tested against it.
  (
    cd "$POSTGRES_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=cloud-providers test CA" -keyout ca.key -out ca.pem
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=localhost" -keyout server.key -out server.csr
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem
    chmod 600 server.key
  ) > "$POSTGRES_DIR/openssl.log" 2>&1 || { cat "$POSTGRES_DIR/openssl.log" >&2; return 1; }
  [ "$(id -u)" = 0 ] && chown -R nobody "$POSTGRES_DIR"
  chmod 700 "$POSTGRES_DIR"
  if ! postgres_as_owner "$bin/initdb" -D "$POSTGRES_DIR/data" -U postgres -A scram-sha-256 \
      --pwfile="$POSTGRES_DIR/password" -E UTF8 --no-instructions > "$POSTGRES_DIR/initdb.log" 2>&1; then
    cat "$POSTGRES_DIR/initdb.log" >&2
    return 1
  fi
  POSTGRES_CTL="$bin/pg_ctl -D $POSTGRES_DIR/data -l $POSTGRES_DIR/server.log -w -t 30"
  POSTGRES_OPTIONS="-c listen_addresses=127.0.0.1 -p $port -k $POSTGRES_DIR -c max_connections=300 -c fsync=off"
  POSTGRES_OPTIONS="$POSTGRES_OPTIONS -c ssl=on -c ssl_cert_file=$POSTGRES_DIR/server.pem -c ssl_key_file=$POSTGRES_DIR/server.key"
  if ! postgres_as_owner $POSTGRES_CTL -o "$POSTGRES_OPTIONS" start > /dev/null; then
    cat "$POSTGRES_DIR/server.log" >&2
    return 1
  fi
  export CLOUD_PROVIDERS_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password"
  export CLOUD_PROVIDERS_TEST_POSTGRES_CA="$POSTGRES_DIR/ca.pem"
  if [ "$(id -u)" = 0 ]; then
    export CLOUD_PROVIDERS_TEST_POSTGRES_CTL="runuser -u nobody -- $POSTGRES_CTL -o \"$POSTGRES_OPTIONS\""
  else
    export CLOUD_PROVIDERS_TEST_POSTGRES_CTL="$POSTGRES_CTL -o \"$POSTGRES_OPTIONS\""
  fi
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') is running on 127.0.0.1:$port (throwaway, in $POSTGRES_DIR)."
}

postgres_stop() {
  if [ -n "${POSTGRES_DIR:-}" ] && [ -d "$POSTGRES_DIR" ]; then
    postgres_as_owner $POSTGRES_CTL -m immediate stop > /dev/null 2>&1 || true
    rm -rf "$POSTGRES_DIR"
  fi
}
