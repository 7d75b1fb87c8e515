"""The PostgreSQL build as a fleet: the pool's size under the write mix, connections per instance,
status throughput through PgBouncer beside a direct connection, and how long a change takes to
reach the last of N instances. Driven by bench.py (--fleet N); every figure from one run."""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import bench

HERE = os.path.dirname(os.path.abspath(__file__))


def npgsql(connection):
    return dict(part.split("=", 1) for part in connection.split(";") if part)


def libpq(settings, database):
    return f"host={settings['Host']} port={settings['Port']} user={settings['Username']} password={settings['Password']} dbname={database}"


def fresh_database(connection, name):
    """A new, empty database on the benchmark's server; the service's connection string to it."""
    settings = npgsql(connection)
    subprocess.run(["psql", libpq(settings, "postgres"), "-qAtc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True, capture_output=True)
    subprocess.run(["psql", libpq(settings, "postgres"), "-qAtc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    settings["Database"] = name
    return ";".join(f"{key}={value}" for key, value in settings.items())


class Connections:
    """The server's connections to one database, sampled every 10 ms on a connection of its own
    (not counted): the most seen since the last reset, and the latest."""

    def __init__(self, connection):
        settings = npgsql(connection)
        self._psql = subprocess.Popen(["psql", libpq(settings, settings["Database"]), "-qAt"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.peak = self.now = 0
        self._stop = False
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid();\n"
        while not self._stop:
            self._psql.stdin.write(query)
            self._psql.stdin.flush()
            self.now = int(self._psql.stdout.readline())
            self.peak = max(self.peak, self.now)
            time.sleep(0.01)

    def reset(self):
        time.sleep(0.05)
        self.peak = self.now

    def close(self):
        self._stop = True
        self._thread.join()
        self._psql.stdin.close()
        self._psql.wait()


class PgBouncer:
    """PgBouncer (Debian's) in transaction mode in front of the server, on a loopback port; as
    nobody when run as root (it refuses root)."""

    def __init__(self, connection, pool):
        settings = npgsql(connection)
        self.folder = tempfile.mkdtemp(prefix="cloud-providers-bench-pgbouncer.")
        self.port = bench.free_port()
        with open(os.path.join(self.folder, "userlist.txt"), "w") as users:
            users.write(f'"{settings["Username"]}" "{settings["Password"]}"\n')
        os.chmod(os.path.join(self.folder, "userlist.txt"), 0o600)
        config = os.path.join(self.folder, "pgbouncer.ini")
        with open(config, "w") as ini:
            ini.write(f"""[databases]
* = host={settings['Host']} port={settings['Port']}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {self.folder}/userlist.txt
pool_mode = transaction
default_pool_size = {pool}
max_client_conn = 5000
logfile = {self.folder}/pgbouncer.log
""")
        command = ["pgbouncer", config]
        if os.getuid() == 0:
            subprocess.run(["chown", "-R", "nobody", self.folder], check=True)
            command = ["runuser", "-u", "nobody", "--", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while True:
            try:
                bench.socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("PgBouncer did not start")
                time.sleep(0.02)

    def through(self, connection):
        settings = npgsql(connection)
        settings.update({"Host": "127.0.0.1", "Port": str(self.port), "SSL Mode": "Disable"})
        return ";".join(f"{key}={value}" for key, value in settings.items())

    def close(self):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def seed(binary, env):
    bench.cli(binary, env, "team", "add", bench.TEAM)
    bench.cli(binary, env, "member", "add", bench.TEAM, "alice", "--role", "owner")
    bench.cli(binary, env, "credential", "set", bench.TEAM, stdin=bench.COMFY_KEY + "\n")
    return bench.cli(binary, env, "key", "create", bench.TEAM, "--kind", "sk")


def write_mix(port, sk, seconds):
    """wrk with bench/write-mix.lua, 32 connections: req/s, p99 in ms, and the non-2xx count."""
    env = dict(os.environ, MIX_SK=sk, MIX_OWNER=bench.jwt("alice"), MIX_TEAM=bench.TEAM)
    output = subprocess.run(["taskset", "-c", bench.CLIENT_CORE, "wrk", "-t1", "-c32", f"-d{seconds}s", "--latency",
                             "-s", os.path.join(HERE, "write-mix.lua"), f"http://127.0.0.1:{port}{bench.STATUS}"],
                            capture_output=True, text=True, env=env, timeout=seconds + 30).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", output) or "Socket errors" in output:
        sys.exit(f"the write mix saw failures: {output}")
    p99 = re.search(r"\n\s+99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), float(p99.group(1)) * scale[p99.group(2)]


def serving(binary, env, sk):
    port = bench.free_port()
    process = bench.start(binary, env, port, core=bench.SERVER_CORE)
    bench.wait_ready(port, sk)
    return process, port


def pool_rows(args, binary, connection, pools=(2, 4, 8, 20)):
    """One instance, straight to the server, under the write mix, for each pool size: req/s, p99,
    and the server's connections to the database at rest and at most under load."""
    rows = []
    for pool in pools:
        database = fresh_database(connection, "bench_pool")
        env = bench.postgres_env(f"{database};Maximum Pool Size={pool}")
        sk = seed(binary, env)
        watch = Connections(database)
        process, port = serving(binary, env, sk)
        try:
            time.sleep(1)
            rest = watch.now
            watch.reset()
            rps, p99 = write_mix(port, sk, args.mix_seconds)
            rows.append((pool, f"{rps:,.0f} req/s", f"{p99:.1f} ms", rest, watch.peak))
        finally:
            bench.stop(process)
            watch.close()
    return rows


def pooler_rows(args, binary, connection):
    """Status reads and the write mix, one instance straight to the server beside one through
    PgBouncer (with its listener straight to the server), interleaved by round."""
    pooler = PgBouncer(connection, 10)
    database = fresh_database(connection, "bench_pooler")
    direct_env = bench.postgres_env(database)
    pooled_env = bench.postgres_env(pooler.through(database))
    pooled_env["Database__ListenConnectionString"] = database
    sk = seed(binary, direct_env)
    servers = {}
    try:
        for name, env in (("direct", direct_env), ("pgbouncer", pooled_env)):
            servers[name] = serving(binary, env, sk)
        token = bench.jwt("alice")
        runs = bench.interleaved(
            [((name, kind), lambda name=name, kind=kind: bench.status_rps(servers[name][1], kind, sk, token, args.duration) if kind == "sk"
              else write_mix(servers[name][1], sk, args.mix_seconds)) for kind in ("sk", "mix") for name in servers], 3)
    finally:
        for process, _ in servers.values():
            bench.stop(process)
        pooler.close()
    rows = []
    status = {name: runs[(name, "sk")] for name in servers}
    rows.append(("Status, sk key (wrk, 32 connections, medians of 3 interleaved rounds)",
                 f"{statistics.median(status['direct']):,.0f} req/s",
                 f"{statistics.median(status['pgbouncer']):,.0f} req/s ({bench.paired_share(status['pgbouncer'], status['direct']):.0%} of direct)"))
    mix = {name: [run[0] for run in runs[(name, "mix")]] for name in servers}
    p99 = {name: statistics.median(run[1] for run in runs[(name, "mix")]) for name in servers}
    rows.append((f"Write mix (wrk, 32 connections, {args.mix_seconds} s, medians of 3 interleaved rounds)",
                 f"{statistics.median(mix['direct']):,.0f} req/s, p99 {p99['direct']:.1f} ms",
                 f"{statistics.median(mix['pgbouncer']):,.0f} req/s, p99 {p99['pgbouncer']:.1f} ms ({bench.paired_share(mix['pgbouncer'], mix['direct']):.0%} of direct)"))
    return rows


def propagation_rows(args, binary, connection):
    """N instances through PgBouncer, listeners straight to the server: from the 200 of a PUT on
    the first, or the exit of `key revoke`, until the last of the others sees it."""
    import http.client
    import json
    pooler = PgBouncer(connection, 10)
    database = fresh_database(connection, "bench_fleet")
    env = bench.postgres_env(pooler.through(database))
    env["Database__ListenConnectionString"] = database
    watch = Connections(database)
    ports = [bench.free_port() for _ in range(args.fleet)]
    processes = [bench.start(binary, env, port) for port in ports]
    try:
        sk = seed(binary, env)
        for port in ports:
            bench.wait_ready(port, sk)
        time.sleep(1)
        rest = watch.now
        owner = bench.jwt("alice")
        to_first = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=10)
        others = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for port in ports[1:]]

        def status(connection, token, team=None):
            headers = {"Authorization": f"Bearer {token}"}
            if team:
                headers["X-Team-ID"] = team
            connection.request("GET", bench.STATUS, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()

        def until_all(seen):
            began = time.perf_counter()
            waiting = list(others)
            while waiting:
                waiting = [other for other in waiting if not seen(other)]
                if time.perf_counter() - began > 5:
                    sys.exit("an instance did not see a change within 5 s")
            return (time.perf_counter() - began) * 1000

        puts = []
        for i in range(args.changes // 4):
            key = f"comfyui-{i:032x}"
            preview = f"...{key[-4:]}".encode()
            to_first.request("PUT", bench.STATUS, body=json.dumps({"api_key": key}),
                             headers={"Authorization": f"Bearer {owner}", "X-Team-ID": bench.TEAM, "Content-Type": "application/json"})
            response = to_first.getresponse()
            response.read()
            if response.status != 200:
                sys.exit(f"PUT answered {response.status}")
            puts.append(until_all(lambda other: preview in status(other, owner, bench.TEAM)[1]))
        revokes = []
        for _ in range(args.changes // 20):
            key = bench.cli(binary, env, "key", "create", bench.TEAM, "--kind", "sk")
            for other in others:
                if status(other, key)[0] != 200:
                    sys.exit("a new key was refused")
            bench.cli(binary, env, "key", "revoke", key[:12])
            revokes.append(until_all(lambda other: status(other, key)[0] == 401))
        rss = sum(bench.rss_mb(process.pid) for process in processes)
    finally:
        for process in processes:
            bench.stop(process)
        watch.close()
        pooler.close()
    n = args.fleet
    return [
        (f"{n} instances through PgBouncer (pool of 10), listeners direct: a PUT on one seen by the last of the others (p50, p99 of {len(puts)})",
         "", f"{bench.percentile(puts, 0.5):.1f} ms, {bench.percentile(puts, 0.99):.1f} ms"),
        (f"{n} instances: a `key revoke` refused by the last (p50, p99 of {len(revokes)})",
         "", f"{bench.percentile(revokes, 0.5):.1f} ms, {bench.percentile(revokes, 0.99):.1f} ms"),
        (f"{n} instances: the server's connections at rest, and at most while they ran", "",
         f"{rest} at rest, at most {watch.peak} (budget: {n} listeners + 10 pooled + 1 command)"),
        (f"{n} instances: RSS of the whole fleet after the changes", "", f"{rss:.0f} MB ({rss / n:.1f} MB each)"),
    ]


def fleet_table(args, binary, connection):
    print("Fleet: the pool's size under the write mix...", file=sys.stderr)
    pools = pool_rows(args, binary, connection, args.pools)
    print(f"\nThe write mix (bench/write-mix.lua: 1 PUT in 10, wrk, 32 connections, {args.mix_seconds} s) on one instance, straight to PostgreSQL:\n")
    print("| Maximum Pool Size | throughput | p99 | server connections at rest | at most under load |")
    print("|---|---|---|---|---|")
    for row in pools:
        print(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} | {row[4]} |")
    print("Fleet: through PgBouncer beside a direct connection...", file=sys.stderr)
    rows = pooler_rows(args, binary, connection)
    print(f"Fleet: propagation to the last of {args.fleet} instances...", file=sys.stderr)
    rows += propagation_rows(args, binary, connection)
    print("\n| figure | straight to PostgreSQL | through PgBouncer, or the fleet |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
