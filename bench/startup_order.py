"""The order of the executable's managed code (NativeStartup.order): the methods a start runs up
to its first answer, then the methods the benchmark's load and floods run, each group in the
compiler's own order; the compiler lays out the listed methods first, in that order, and the rest
after them. Start-up then maps a few contiguous megabytes of code instead of pages spread over the
whole image, and the resident code stays that size under load.

Driven by bench/startup-order.sh, which publishes the service with its symbol table. The methods
are the ones callgrind saw run, named as the compiler names them (the symbol table).
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import COMFY_KEY, STATUS, TEAM, callgrind_dump, cli, env_for, floods, jwt, serve_under_callgrind, wrk  # noqa: E402

HEADER = """\
# The order of the executable's managed code: the methods a start runs up to the first answer,
# then those the benchmark's load and floods run. Written by `bash bench/startup-order.sh`; run it
# again when start-up or the request path changes (Native/NativeStartupTests says when). Methods
# that are not listed (and these comment lines) are skipped; the compiler lays out the rest after.
"""


def managed_methods(binary):
    """Each symbol in the executable's managed code section, with its address."""
    sections = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
    match = re.search(r"__managedcode\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", sections)
    low, size = int(match.group(1), 16), int(match.group(2), 16)
    symbols = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    methods = {}
    for line in symbols.splitlines():
        address, kind, name = line.split(" ", 2)
        if kind in "tT" and low <= int(address, 16) < low + size:
            methods[name] = int(address, 16)
    return methods


def functions_run(dump):
    """The names of the functions that ran, from an uncompressed callgrind dump."""
    with open(dump) as lines:
        return {line[3:].strip().split("'")[0] for line in lines if line.startswith("fn=")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--service", required=True, help="the published service, with its symbol table")
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    os.makedirs(args.work, exist_ok=True)
    db = os.path.abspath(os.path.join(args.work, "order.db"))
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    env = env_for(db)
    cli(args.service, env, "team", "add", TEAM)
    cli(args.service, env, "member", "add", TEAM, "alice", "--role", "owner")
    sk = cli(args.service, env, "key", "create", TEAM, "--kind", "sk")
    cli(args.service, env, "credential", "set", TEAM, stdin=COMFY_KEY + "\n")

    out = os.path.abspath(os.path.join(args.work, "callgrind.order"))
    server, port, status = serve_under_callgrind(args.service, env, out, STATUS, sk, ("--compress-strings=no", "--demangle=no"))
    try:
        if status != 200:
            sys.exit(f"{args.service} answered {status} to the first status request, not 200")
        started = functions_run(callgrind_dump(server, out))
        print("Start-up traced; the benchmark's load and floods...", file=sys.stderr)
        token = jwt("alice")
        wrk(port, STATUS, sk, 3, connections=16)
        wrk(port, STATUS, token, 3, connections=16, team=TEAM)
        wrk(port, "/healthz", None, 2, connections=16)
        floods(port, token)
        time.sleep(2)
        loaded = functions_run(callgrind_dump(server, out))
    finally:
        server.kill()
        server.wait()

    methods = managed_methods(args.service)
    first = sorted((m for m in started if m in methods), key=methods.get)
    then = sorted((m for m in loaded - started if m in methods), key=methods.get)
    with open(args.out, "w") as order:
        order.write(HEADER)
        order.writelines(f"{name}\n" for name in first + then)
    print(f"{args.out}: {len(first)} methods run by start-up, then {len(then)} by the load, of {len(methods)}", file=sys.stderr)


main()
