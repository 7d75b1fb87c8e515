"""Measures the published service side by side: AOT against the same code on the JIT.

Driven by bench/run.sh, which builds both. Every figure comes from this one run, so the
ratios compare like with like on a noisy machine. Loopback only; every loop is bounded.
"""
import argparse
import base64
import glob
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

TEAM = "0190d9b8-7c1e-7a2b-9c3d-4e5f60718293"
STATUS = "/api/v1/cloud-providers/comfy-cloud"
ISSUER, AUDIENCE, SECRET = "https://idp.bench", "cloud-providers", "bench-secret-that-is-at-least-32-bytes!"
COMFY_KEY = "comfyui-" + "0123456789abcdef" * 4
# The gen0 budget that NativeStartup.props fixes (GCgen0size, in hex: 0x300000 bytes).
GEN0_BUDGET = 0x300000
SERVER_CORE, CLIENT_CORE = "0", "1"


def env_for(db):
    env = dict(os.environ)
    env.update({
        "Database__Path": db,
        "Encryption__Key": base64.b64encode(b"\x07" * 32).decode(),
        "Jwt__Issuer": ISSUER, "Jwt__Audience": AUDIENCE, "Jwt__SigningKey": SECRET,
    })
    return env


def cli(binary, env, *args, stdin=None):
    done = subprocess.run([binary, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def jwt(sub, nonce=None):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 3600}
    if nonce is not None:
        claims["jti"] = str(nonce)
    payload = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, token=None, timeout=5.0):
    """One HTTP/1.1 GET on a new connection; returns the status code."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if token:
        request += f"Authorization: Bearer {token}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall((request + "\r\n").encode())
        head = s.recv(64)
    return int(head.split(b" ", 2)[1])


def serve_under_callgrind(binary, env, out, path, token=None, options=()):
    """The server under Valgrind's callgrind (its dumps named after OUT), once it answers a GET of
    PATH (within 180 s): (process, port, that answer's status). The caller kills it."""
    port = free_port()
    server = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *options,
                               binary, "serve", "--urls", f"http://127.0.0.1:{port}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while True:
        try:
            return server, port, get(port, path, token)
        except OSError:
            pass
        if time.time() > deadline:
            server.kill()
            server.wait()
            sys.exit(f"{binary} did not start under valgrind within 180 s")
        time.sleep(0.1)


def callgrind_dump(server, out):
    """Has the server under callgrind write its counts now (callgrind_control returns once they are
    written) and returns that dump's file: OUT.1, OUT.2, ... in order."""
    subprocess.run(["callgrind_control", "-d", str(server.pid)], capture_output=True, check=True)
    return max(glob.glob(out + ".*"), key=lambda dump: int(dump.rsplit(".", 1)[1]))


def allocated_bytes(port):
    """The bytes the server has allocated so far, from its own /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return float(re.search(r"^dotnet_gc_allocated_bytes_total (\S+)$", text, re.M).group(1))


def start(binary, env, port, core=None, command=None):
    """Serves on the port: the service's command line, or another server's (the Go peer's)."""
    command = command(port) if command else [binary, "serve", "--urls", f"http://127.0.0.1:{port}"]  # the bare host ignores "serve"
    if core is not None:
        command = ["taskset", "-c", core, *command]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cold_start_ms(binary, env, token, command=None, at_answer=None):
    """From exec to the first 200 on the status endpoint, retrying the connection every 0.5 ms;
    at_answer(pid), if given, runs once the 200 is in, before the server stops."""
    port = free_port()
    began = time.perf_counter()
    process = start(binary, env, port, command=command)
    deadline = began + 30
    try:
        while time.perf_counter() < deadline:
            try:
                if get(port, STATUS, token) == 200:
                    elapsed = (time.perf_counter() - began) * 1000
                    if at_answer:
                        at_answer(process.pid)
                    return elapsed
            except OSError:
                pass
            time.sleep(0.0005)
        sys.exit(f"{binary} did not answer 200 within 30 s")
    finally:
        stop(process)


def cpu_seconds(pid):
    """The process's user and system time so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_cpu(pid, run):
    """A wrk run's figures, and the server's CPU time per request during it (in microseconds)."""
    before = cpu_seconds(pid)
    figures = run()
    return (*figures, (cpu_seconds(pid) - before) * 1e6 / figures[3])


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wrk(port, path, token, seconds, connections=32, team=None, expect_errors=False):
    command = ["taskset", "-c", CLIENT_CORE, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
               f"http://127.0.0.1:{port}{path}"]
    if token:
        command[-1:-1] = ["-H", f"Authorization: Bearer {token}"]
    if team:
        command[-1:-1] = ["-H", f"X-Team-ID: {team}"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    if (non2xx and not expect_errors) or errors:
        sys.exit(f"wrk saw failures on {path}: {output}")
    if expect_errors and not (non2xx and int(non2xx.group(1)) > 0):
        sys.exit(f"wrk expected refusals on {path}: {output}")
    served = int(re.search(r"(\d+) requests in", output).group(1))
    return rps, float(p99.group(1)) * scale[p99.group(2)], float(p50.group(1)) * scale[p50.group(2)], served


def flood(port, tokens, team=None):
    """One request per token on one keep-alive connection; returns how many got each status."""
    import http.client
    statuses = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for token in tokens:
            headers = {"Authorization": f"Bearer {token}"}
            if team:
                headers["X-Team-ID"] = team
            connection.request("GET", STATUS, headers=headers)
            response = connection.getresponse()
            response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
    finally:
        connection.close()
    return statuses


def floods(port, token):
    """Distinct tokens that each miss every cache: forged JWTs, unknown keys, then valid JWTs."""
    forged = [token[:token.rindex(".") + 1] + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode() for _ in range(5000)]
    unknown = ["sk-" + base64.b64encode(os.urandom(33)).decode().replace("+", "a").replace("/", "b")[:43] for _ in range(5000)]
    valid = [jwt("alice", nonce=i) for i in range(15000)]
    seen = [flood(port, forged, TEAM), flood(port, unknown), flood(port, valid, TEAM)]
    expected = [{401: 5000}, {401: 5000}, {200: 15000}]
    if seen != expected:
        sys.exit(f"the floods were not answered as expected: {seen}")


def postgres_env(connection_string):
    env = env_for("unused")
    del env["Database__Path"]
    env.update({"Database__Engine": "postgres", "Database__ConnectionString": connection_string})
    return env


def wait_ready(port, token):
    deadline = time.time() + 30
    while True:
        try:
            if get(port, STATUS, token) == 200:
                return
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit("a server did not answer 200 within 30 s")
        time.sleep(0.01)


def propagation(binary, env, changes):
    """
    Two instances on one PostgreSQL database: from the 200 of a change on A (a PUT), or the exit
    of `key revoke` on the command line, to the first request on B that sees it. Milliseconds.
    """
    import http.client
    a_port, b_port = free_port(), free_port()
    a, b = start(binary, env, a_port), start(binary, env, b_port)
    try:
        owner = jwt("alice")
        probe = cli(binary, env, "key", "create", TEAM, "--kind", "sk")
        wait_ready(a_port, probe)
        wait_ready(b_port, probe)
        to_a = http.client.HTTPConnection("127.0.0.1", a_port, timeout=10)
        to_b = http.client.HTTPConnection("127.0.0.1", b_port, timeout=10)

        def on_b(token, team=None):
            headers = {"Authorization": f"Bearer {token}"}
            if team:
                headers["X-Team-ID"] = team
            to_b.request("GET", STATUS, headers=headers)
            response = to_b.getresponse()
            return response.status, response.read()

        puts = []
        for i in range(changes):
            key = f"comfyui-{i:032x}"
            preview = f"...{key[-4:]}".encode()
            body = json.dumps({"api_key": key, "cloud_fallback": False})
            to_a.request("PUT", STATUS, body=body, headers={"Authorization": f"Bearer {owner}", "X-Team-ID": TEAM, "Content-Type": "application/json"})
            response = to_a.getresponse()
            response.read()
            acknowledged = time.perf_counter()
            if response.status != 200:
                sys.exit(f"PUT on A answered {response.status}")
            while preview not in on_b(owner, TEAM)[1]:
                if time.perf_counter() - acknowledged > 5:
                    sys.exit("B did not see A's PUT within 5 s")
            puts.append((time.perf_counter() - acknowledged) * 1000)

        revokes = []
        for _ in range(changes):
            sk = cli(binary, env, "key", "create", TEAM, "--kind", "sk")
            if on_b(sk)[0] != 200:  # cached on B before it is revoked
                sys.exit("a new key was refused on B")
            cli(binary, env, "key", "revoke", sk[:12])
            revoked = time.perf_counter()
            while on_b(sk)[0] != 401:
                if time.perf_counter() - revoked > 5:
                    sys.exit("B still served a revoked key after 5 s")
            revokes.append((time.perf_counter() - revoked) * 1000)
        to_a.close()
        to_b.close()
        return puts, revokes
    finally:
        stop(a)
        stop(b)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def interleaved(runs, rounds):
    """Runs each (key, run) once per round, in reverse order every other round, so that a drift
    of the machine's speed during a round lands on every key alike; returns each key's results."""
    results = {key: [] for key, _ in runs}
    for number in range(rounds):
        for key, run in (runs if number % 2 == 0 else runs[::-1]):
            results[key].append(run())
    return results


def paired_share(numerators, denominators):
    """The median over rounds of each round's ratio: two figures from one round are measured
    within seconds of each other, and what the machine does meanwhile moves both."""
    return statistics.median(n / d for n, d in zip(numerators, denominators))


def on_and_off(args, aot, envs, sk, token, kinds):
    """One server per environment, on the same core; req/s for each kind, interleaved by round."""
    ports = {name: free_port() for name in envs}
    servers = {name: start(aot, envs[name], ports[name], core=SERVER_CORE) for name in envs}
    try:
        for name in envs:
            wait_ready(ports[name], sk)
        return interleaved([((name, kind), lambda name=name, kind=kind: status_rps(ports[name], kind, sk, token, args.duration))
                            for kind in kinds for name in envs], args.rounds)
    finally:
        for process in servers.values():
            stop(process)


def metrics_rows(args, aot, env, sk, token):
    """The shipped build with metrics on (the default) and off, interleaved: what /metrics costs."""
    print("Metrics on and off, interleaved...", file=sys.stderr)
    envs = {"on": env, "off": dict(env, Metrics__Enabled="false")}
    cold = {name: [] for name in envs}
    for name in envs:
        cold_start_ms(aot, envs[name], sk)
    for _ in range(args.runs):
        for name in envs:
            cold[name].append(cold_start_ms(aot, envs[name], sk))
    runs = on_and_off(args, aot, envs, sk, token, ("sk", "jwt"))
    rows = [(f"Cold start, metrics on / off (median of {args.runs})",
             f"{statistics.median(cold['on']):.1f} ms / {statistics.median(cold['off']):.1f} ms", "")]
    for kind, label in (("sk", "sk key"), ("jwt", "HS256 JWT")):
        on, off = runs[("on", kind)], runs[("off", kind)]
        rows.append((f"Status, {label}, metrics on / off (medians of {args.rounds} interleaved rounds; the share paired by round)",
                     f"{statistics.median(on):,.0f} / {statistics.median(off):,.0f} req/s ({paired_share(on, off):.0%})", ""))
    return rows


def wrk_status(port, kind, sk, token, duration):
    """wrk's figures on /healthz, or on the status endpoint with the sk key or the JWT."""
    if kind == "healthz":
        return wrk(port, "/healthz", None, duration)
    if kind == "sk":
        return wrk(port, STATUS, sk, duration)
    return wrk(port, STATUS, token, duration, team=TEAM)


def status_rps(port, kind, sk, token, duration):
    """Requests per second on /healthz, or on the status endpoint with the sk key or the JWT."""
    return wrk_status(port, kind, sk, token, duration)[0]


def request_log_rows(args, aot, env, sk, token):
    """The shipped build with its request log (the default, one line per request) and without it, interleaved."""
    print("Request log on and off, interleaved...", file=sys.stderr)
    envs = {"on": env, "off": dict(env, Logging__LogLevel__Default="Warning")}
    runs = on_and_off(args, aot, envs, sk, token, ("healthz", "sk", "jwt"))
    rows = []
    for kind, label in (("healthz", "/healthz"), ("sk", "status, sk key"), ("jwt", "status, HS256 JWT")):
        on, off = runs[("on", kind)], runs[("off", kind)]
        rows.append((f"{label}, request log on / off (medians of {args.rounds} interleaved rounds; the share paired by round)",
                     f"{statistics.median(on):,.0f} / {statistics.median(off):,.0f} req/s ({paired_share(on, off):.0%})", ""))
    return rows


def postgres_table(args, aot, sqlite_env, sk_sqlite, token):
    """The PostgreSQL build against the default build on SQLite, side by side in one run."""
    binary = os.path.join(args.postgres, "cloud-providers")
    env = postgres_env(args.postgres_connection)
    cli(binary, env, "team", "add", TEAM)
    cli(binary, env, "member", "add", TEAM, "alice", "--role", "owner")
    sk = cli(binary, env, "key", "create", TEAM, "--kind", "sk")
    cli(binary, env, "credential", "set", TEAM, stdin=COMFY_KEY + "\n")

    rows = []
    files_pg, bytes_pg = size(args.postgres)
    files_aot, bytes_aot = size(args.aot)
    rows.append(("Published output", f"{files_aot} file, {bytes_aot / 1e6:.2f} MB ({bytes_aot:,} bytes)",
                 f"{files_pg} file, {bytes_pg / 1e6:.2f} MB ({bytes_pg:,} bytes)"))

    print(f"PostgreSQL: cold start, {args.runs} runs each, alternating...", file=sys.stderr)
    cold = {"sqlite": [], "postgres": []}
    cold_start_ms(aot, sqlite_env, sk_sqlite)
    cold_start_ms(binary, env, sk)
    for _ in range(args.runs):
        cold["sqlite"].append(cold_start_ms(aot, sqlite_env, sk_sqlite))
        cold["postgres"].append(cold_start_ms(binary, env, sk))
    rows.append((f"Cold start to the first 200, sk key, median of {args.runs}",
                 f"{statistics.median(cold['sqlite']):.1f} ms", f"{statistics.median(cold['postgres']):.1f} ms (server already running)"))

    print("PostgreSQL: throughput from the caches, interleaved with SQLite...", file=sys.stderr)
    ports = {"sqlite": free_port(), "postgres": free_port()}
    servers = {"sqlite": start(aot, sqlite_env, ports["sqlite"], core=SERVER_CORE),
               "postgres": start(binary, env, ports["postgres"], core=SERVER_CORE)}
    try:
        wait_ready(ports["sqlite"], sk_sqlite)
        wait_ready(ports["postgres"], sk)
        time.sleep(1)
        idle = {name: rss_mb(process.pid) for name, process in servers.items()}
        keys = {"sqlite": sk_sqlite, "postgres": sk}
        runs = interleaved([((name, kind), lambda name=name, kind=kind: status_rps(ports[name], kind, keys[name], token, args.duration))
                            for kind in ("sk", "jwt") for name in servers], args.rounds)
    finally:
        for process in servers.values():
            stop(process)
    rows.append(("RSS idle after start", f"{idle['sqlite']:.1f} MB", f"{idle['postgres']:.1f} MB"))
    for kind, label in (("sk", "Status, sk key"), ("jwt", "Status, HS256 JWT")):
        sqlite_rps, pg_rps = runs[("sqlite", kind)], runs[("postgres", kind)]
        rows.append((f"{label} (wrk, 32 connections, medians of {args.rounds} interleaved rounds; the share paired by round)",
                     f"{statistics.median(sqlite_rps):,.0f} req/s",
                     f"{statistics.median(pg_rps):,.0f} req/s ({paired_share(pg_rps, sqlite_rps):.0%} of SQLite's)"))

    print(f"PostgreSQL: propagation between two instances, {args.changes} changes each...", file=sys.stderr)
    puts, revokes = propagation(binary, env, args.changes)
    rows.append((f"A PUT on instance A seen on B (p50, p99 of {len(puts)})", "",
                 f"{percentile(puts, 0.5):.2f} ms, {percentile(puts, 0.99):.2f} ms"))
    rows.append((f"A `key revoke` refused on B (p50, p99 of {len(revokes)})", "",
                 f"{percentile(revokes, 0.5):.2f} ms, {percentile(revokes, 0.99):.2f} ms"))

    print("\n| figure | default build, SQLite | -p:Postgres=true, PostgreSQL |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")


def exec_ms(command, runs=25):
    """The median of the wall time of a short command, run to its end."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def go_table(args, aot, floor, env, sk, token):
    """The Go peer (../shared/peers/go-status, net/http and SQLite, its 1 s cache on) beside the
    service, every figure in the same run: cold start, the runtime's own start, memory, size and
    status throughput with an sk- key, as ratios."""
    work = os.path.abspath(os.path.join(args.work, "go"))
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "peer.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    go_env = dict(os.environ, JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, JWT_SIGNING_KEY=SECRET)
    seeded = subprocess.run([args.go, "seed", "-db", db], input=COMFY_KEY + "\n", env=go_env,
                            capture_output=True, text=True, timeout=60, check=True).stdout.split()
    go_sk = seeded[0]

    def go_command(port):
        return [args.go, "serve", "-db", db, "-addr", f"127.0.0.1:{port}", "-cache"]

    print(f"The Go peer: cold starts, {args.runs} runs each, alternating...", file=sys.stderr)
    samples = {"service": [], "floor": [], "go": []}
    launch = {"service": (aot, env, sk, None), "floor": (floor, env, sk, None), "go": (args.go, go_env, go_sk, go_command)}
    for name, (binary, environment, key, command) in launch.items():  # the page cache warmed once
        cold_start_ms(binary, environment, key, command)
    for run in range(args.runs):
        for name in (launch if run % 2 == 0 else list(launch)[::-1]):
            binary, environment, key, command = launch[name]
            samples[name].append(cold_start_ms(binary, environment, key, command))
    cold = {name: statistics.median(values) for name, values in samples.items()}
    version, true = exec_ms([aot, "--version"]), exec_ms(["/bin/true"])

    print("The Go peer: memory and throughput...", file=sys.stderr)
    ports = {"service": free_port(), "go": free_port()}
    servers = {"service": start(aot, env, ports["service"], core=SERVER_CORE),
               "go": start(args.go, go_env, ports["go"], core=SERVER_CORE, command=go_command)}
    keys = {"service": sk, "go": go_sk}
    try:
        for name in servers:
            wait_ready(ports[name], keys[name])
        time.sleep(1)
        idle = {name: rss_mb(servers[name].pid) for name in servers}
        rounds = interleaved([(name, lambda name=name: wrk(ports[name], STATUS, keys[name], args.duration)) for name in servers], args.rounds)
        loaded = {}
        for name in servers:
            wrk(ports[name], STATUS, keys[name], 20)
            loaded[name] = rss_mb(servers[name].pid)
    finally:
        for process in servers.values():
            stop(process)
    rps = {name: statistics.median(run[0] for run in rounds[name]) for name in rounds}
    share = paired_share([run[0] for run in rounds["service"]], [run[0] for run in rounds["go"]])

    print("\n| figure | this service | its bare host | Go peer (net/http, SQLite, 1 s cache) | service / Go |")
    print("|---|---|---|---|---|")
    print(f"| cold start to the first 200, status with an sk- key (median of {args.runs}) | {cold['service']:.1f} ms | {cold['floor']:.1f} ms | "
          f"{cold['go']:.1f} ms | {cold['service'] / cold['go']:.2f}x (bare host {cold['service'] / cold['floor']:.2f}x) |")
    print(f"| `--version`, against `/bin/true` {true:.1f} ms (median of 25) | {version:.1f} ms ({version - true:+.1f} ms) | | | |")
    print(f"| RSS idle, after 20 s of load | {idle['service']:.1f}, {loaded['service']:.1f} MB | | {idle['go']:.1f}, {loaded['go']:.1f} MB | "
          f"{idle['service'] / idle['go']:.2f}x, {loaded['service'] / loaded['go']:.2f}x |")
    print(f"| executable | {os.path.getsize(aot) / 1e6:.2f} MB | {os.path.getsize(floor) / 1e6:.2f} MB | {os.path.getsize(args.go) / 1e6:.2f} MB | |")
    print(f"| status with an sk- key (wrk, 32 connections, {args.rounds} interleaved rounds) | {rps['service']:,.0f} req/s | | {rps['go']:,.0f} req/s | "
          f"{share:.0%} (paired by round) |")


def size(folder):
    files = [f for f in os.listdir(folder) if not f.endswith(".dbg")]
    return len(files), sum(os.path.getsize(os.path.join(folder, f)) for f in files)


def main():
    import fleet
    parser = argparse.ArgumentParser()
    parser.add_argument("--aot", required=True)
    parser.add_argument("--jit", required=True)
    parser.add_argument("--floor", required=True, help="the bare host (bench/BareHost), for the cold-start floor")
    parser.add_argument("--pde", required=True, help="the service built position-dependent, for what ASLR costs")
    parser.add_argument("--work", required=True)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--duration", type=int, default=2, help="seconds per wrk run")
    parser.add_argument("--postgres", help="the -p:Postgres=true build, measured on PostgreSQL beside the default build")
    parser.add_argument("--postgres-connection", help="a connection string to a PostgreSQL database the benchmark may fill")
    parser.add_argument("--changes", type=int, default=200, help="changes per kind for the propagation latency")
    parser.add_argument("--go", help="the Go peer (../shared/peers/go-status), measured beside the service")
    parser.add_argument("--fleet", type=int, default=10, help="instances for the fleet's propagation figures (0 leaves the fleet out)")
    parser.add_argument("--mix-seconds", type=int, default=5, help="seconds per run of the write mix")
    parser.add_argument("--pools", type=lambda text: [int(size) for size in text.split(",")], default=[2, 4, 8, 20],
                        help="the pool sizes the write mix is run with, comma-separated")
    parser.add_argument("--only-fleet", action="store_true", help="only the fleet's figures (needs --postgres)")
    parser.add_argument("--rounds", type=int, default=12,
                        help="rounds of the three throughput runs, interleaved; the table gives their medians")
    args = parser.parse_args()

    if args.only_fleet:
        fleet.fleet_table(args, os.path.join(args.postgres, "cloud-providers"), args.postgres_connection)
        return
    aot, jit = os.path.join(args.aot, "cloud-providers"), os.path.join(args.jit, "cloud-providers")
    os.makedirs(args.work, exist_ok=True)
    db = os.path.abspath(os.path.join(args.work, "bench.db"))
    env = env_for(db)

    # Seed through the command line, as an operator would.
    cli(aot, env, "team", "add", TEAM)
    cli(aot, env, "member", "add", TEAM, "alice", "--role", "owner")
    sk = cli(aot, env, "key", "create", TEAM, "--kind", "sk")
    cli(aot, env, "credential", "set", TEAM, stdin=COMFY_KEY + "\n")
    token = jwt("alice")

    rows = []
    files_aot, bytes_aot = size(args.aot)
    files_jit, bytes_jit = size(args.jit)
    def files(count, size):
        return f"{count} file{'' if count == 1 else 's'}, {size / 1e6:.2f} MB ({size:,} bytes)"
    rows.append(("Published output (files, bytes; no .dbg)", files(files_aot, bytes_aot), files(files_jit, bytes_jit)))

    # Cold start, AOT and JIT alternately.
    print(f"Cold start: {args.runs} runs each, alternating...", file=sys.stderr)
    floor = args.floor
    pde = os.path.join(args.pde, "cloud-providers")
    samples = {aot: [], jit: [], floor: [], pde: []}
    for binary in samples:  # warm the page cache for every binary once
        cold_start_ms(binary, env, sk)
    for _ in range(args.runs):
        for binary in (aot, jit, floor, pde):
            samples[binary].append(cold_start_ms(binary, env, sk))

    def describe(values):
        return f"{statistics.median(values):.1f} ms (min {min(values):.1f}, max {max(values):.1f})"
    rows.append((f"Cold start to first 200, sk key, median of {args.runs}", describe(samples[aot]), describe(samples[jit])))
    rows.append(("Cold start floor: a bare AOT host with one constant route, same settings, same run",
                 describe(samples[floor]), ""))
    files_pde, bytes_pde = size(args.pde)
    rows.append(("Cold start, the same service built position-dependent (no ASLR for its image), same run",
                 f"{describe(samples[pde])}; {files(files_pde, bytes_pde)}", ""))

    results = {}
    for name, binary in (("aot", aot), ("jit", jit)):
        print(f"Load on the {name} build...", file=sys.stderr)
        port = free_port()
        process = start(binary, env, port, core=SERVER_CORE)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    if get(port, STATUS, sk) == 200:
                        break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.01)
            time.sleep(1)
            idle = rss_mb(process.pid)
            figures = {}
            # The three endpoints interleaved, round after round, so that a noisy moment on the
            # machine lands on all of them alike; each figure is the median of its rounds.
            runs = [(kind, lambda kind=kind: with_cpu(process.pid, lambda: wrk_status(port, kind, sk, token, args.duration)))
                    for kind in ("sk", "jwt", "healthz")]
            ceiling = None
            if name == "aot":
                # The bare host's constant route on the same core, in the same rounds: the framework's ceiling.
                ceiling_port = free_port()
                ceiling = start(floor, env, ceiling_port, core=SERVER_CORE)
                wait_ready(ceiling_port, None)
                runs.append(("floor", lambda: with_cpu(ceiling.pid, lambda: wrk(ceiling_port, STATUS, None, args.duration))))
            rounds = interleaved(runs, args.rounds)
            if ceiling is not None:
                stop(ceiling)
            for key, results_of_key in rounds.items():
                figures[key] = tuple(statistics.median(run[i] for run in results_of_key) for i in range(3))
            if name == "aot":
                # Each round's share of the ceiling, measured within seconds of it; the median of those.
                floors = [run[0] for run in rounds["floor"]]
                figures["shares"] = {kind: paired_share([run[0] for run in rounds[kind]], floors) for kind in ("healthz", "sk", "jwt")}
                # The same shares from the server's CPU time per request, which time the machine
                # gives to others (steal, a neighbour) does not inflate the way it cuts req/s.
                floor_cpu = [run[4] for run in rounds["floor"]]
                figures["cpu_shares"] = {kind: paired_share(floor_cpu, [run[4] for run in rounds[kind]]) for kind in ("healthz", "sk", "jwt")}
                figures["cpu"] = {kind: statistics.median(run[4] for run in rounds[kind]) for kind in ("healthz", "sk", "jwt", "floor")}
            if name == "aot":
                # What a request allocates: how often it fills the gen0 budget, so how often the
                # garbage collector stops the requests in flight.
                figures["allocated"] = {}
                for kind in ("healthz", "sk", "jwt"):
                    before = allocated_bytes(port)
                    answered = wrk_status(port, kind, sk, token, args.duration)[3]
                    figures["allocated"][kind] = (allocated_bytes(port) - before) / answered
                # Timing of refusals: a key nobody has, and a real key's id with the wrong secret.
                figures["unknown"] = wrk(port, STATUS, "sk-" + "u" * 43, args.duration, expect_errors=True)
                figures["wrong"] = wrk(port, STATUS, sk[:12] + "w" * 34, args.duration, expect_errors=True)
            wrk(port, STATUS, sk, 20)
            loaded = rss_mb(process.pid)
            time.sleep(5)
            settled = rss_mb(process.pid)
            flooded = None
            if name == "aot":
                floods(port, token)
                flooded = rss_mb(process.pid)
            results[name] = (idle, loaded, figures, settled, flooded)
        finally:
            stop(process)

    def rps(name, key):
        return f"{results[name][2][key][0]:,.0f} req/s, p99 {results[name][2][key][1]:.2f} ms"
    rows.append(("RSS idle after start", f"{results['aot'][0]:.1f} MB", f"{results['jit'][0]:.1f} MB"))
    rows.append(("RSS after 20 s of load", f"{results['aot'][1]:.1f} MB", f"{results['jit'][1]:.1f} MB"))
    rows.append(("RSS 5 s after the load", f"{results['aot'][3]:.1f} MB", f"{results['jit'][3]:.1f} MB"))
    rows.append(("RSS after 5,000 forged JWTs, 5,000 unknown sk- keys and 15,000 valid JWTs", f"{results['aot'][4]:.1f} MB", ""))
    rows.append(("Status, sk key (wrk, 32 connections)", rps("aot", "sk"), rps("jit", "sk")))
    rows.append(("Status, HS256 JWT (wrk, 32 connections)", rps("aot", "jwt"), rps("jit", "jwt")))
    rows.append(("/healthz, the ceiling (wrk, 32 connections)", rps("aot", "healthz"), rps("jit", "healthz")))
    for name in ("aot", "jit"):
        ceiling = results[name][2]["healthz"][0]
        results[name] = results[name] + (results[name][2]["sk"][0] / ceiling, results[name][2]["jwt"][0] / ceiling)
    rows.append(("Status / healthz throughput (sk, JWT)", f"{results['aot'][5]:.0%}, {results['aot'][6]:.0%}", f"{results['jit'][5]:.0%}, {results['jit'][6]:.0%}"))
    rows.append(("The bare host's constant route, the framework's ceiling (wrk, 32 connections, same rounds)", rps("aot", "floor"), ""))
    shares = results["aot"][2]["shares"]
    rows.append(("Share of that ceiling, paired by round (the median of each round's ratio): /healthz, status with sk, status with JWT",
                 f"{shares['healthz']:.0%}, {shares['sk']:.0%}, {shares['jwt']:.0%}", ""))
    cpu, cpu_shares = results["aot"][2]["cpu"], results["aot"][2]["cpu_shares"]
    rows.append(("Server CPU time per request (user and system): /healthz, status with sk, status with JWT, the bare host's route",
                 f"{cpu['healthz']:.1f}, {cpu['sk']:.1f}, {cpu['jwt']:.1f} and {cpu['floor']:.1f} us", ""))
    rows.append(("Share of the ceiling by CPU time per request, paired by round: /healthz, status with sk, status with JWT",
                 f"{cpu_shares['healthz']:.0%}, {cpu_shares['sk']:.0%}, {cpu_shares['jwt']:.0%}", ""))
    allocated = results["aot"][2]["allocated"]
    rows.append(("Bytes allocated per request, and so requests per gen0 collection (3 MB budget): /healthz, status with sk, status with JWT",
                 ", ".join(f"{allocated[kind]:,.0f} B ({GEN0_BUDGET / allocated[kind]:,.0f})" for kind in ("healthz", "sk", "jwt")), ""))
    unknown, wrong = results["aot"][2]["unknown"], results["aot"][2]["wrong"]
    rows.append(("401 timing: unknown key vs a real key id with the wrong secret (p50, p99)",
                 f"{unknown[2]:.3f} / {unknown[1]:.2f} ms vs {wrong[2]:.3f} / {wrong[1]:.2f} ms", ""))
    ratio = statistics.median(samples[jit]) / statistics.median(samples[aot])
    rows.append(("JIT / AOT cold start (medians)", f"{ratio:.1f}x faster", ""))
    rows.extend(metrics_rows(args, aot, env, sk, token))
    rows.extend(request_log_rows(args, aot, env, sk, token))

    print(f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; server on core {SERVER_CORE}, wrk on core {CLIENT_CORE}; "
          f"{args.duration} s per wrk run; throughput figures are medians of {args.rounds} interleaved rounds.\n")
    print("| figure | AOT | JIT |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    if args.go:
        go_table(args, aot, floor, env, sk, token)
    if args.postgres:
        postgres_table(args, aot, env, sk, token)
        if args.fleet:
            fleet.fleet_table(args, os.path.join(args.postgres, "cloud-providers"), args.postgres_connection)


if __name__ == "__main__":
    main()
