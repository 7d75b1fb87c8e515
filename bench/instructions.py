"""Instructions per request, counted by Valgrind's callgrind: the same figure on every run.

Wall-clock throughput on a shared machine moves by more than most changes to the request path
are worth; the instructions a request executes in user space do not. Driven by
bench/instructions.sh, which publishes the service and the bare host with their symbol tables.
For each path it starts the server under callgrind, warms it up with wrk, zeroes the counters,
runs wrk again, and divides the instructions executed by the requests answered. The kernel's
share (the loopback TCP, epoll) is not counted: it is the same for every server.
"""
import argparse
import collections
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import COMFY_KEY, STATUS, TEAM, callgrind_dump, cli, env_for, jwt, serve_under_callgrind, wrk  # noqa: E402

OWN_CODE = "cloud_providers_CloudProviders_"


def inclusive_costs(dump):
    """Each function's instructions with everything it called, from a callgrind dump."""
    names, costs = {}, collections.Counter()
    caller = callee = None
    pending = False

    def name(token):
        match = re.match(r"\((\d+)\)(?: (.*))?", token)
        if match.group(2):
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), token)

    with open(dump) as lines:
        for line in lines:
            if line.startswith("fn="):
                caller = name(line[3:].strip())
            elif line.startswith("cfn="):
                callee = name(line[4:].strip())
            elif line.startswith("calls="):
                pending = True
            elif pending and line[:1].isdigit():
                pending = False
                # Recursion is counted once, at its outermost call.
                if callee != caller and not callee.endswith("'2"):
                    costs[callee] += int(line.split()[1])
    return costs


def measure(binary, env, path, token, team, seconds, work):
    out = os.path.join(work, f"callgrind.{os.path.basename(os.path.dirname(binary))}.{path.strip('/').replace('/', '_')}")
    for stale in glob.glob(out + "*"):
        os.remove(stale)
    server, port, _ = serve_under_callgrind(binary, env, out, path)  # any answer will do: the server is listening
    try:
        wrk(port, path, token, 5, connections=16, team=team)
        subprocess.run(["callgrind_control", "-z", str(server.pid)], capture_output=True, check=True)
        served = wrk(port, path, token, seconds, connections=16, team=team)[3]
        dump = callgrind_dump(server, out)
    finally:
        server.kill()
        server.wait()
    with open(dump) as lines:
        total = next(int(line.split()[1]) for line in lines if line.startswith(("summary:", "totals:")))
    return total / served, {f: c / served for f, c in inclusive_costs(dump).items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--service", required=True, help="the published service, with its symbol table")
    parser.add_argument("--floor", required=True, help="the published bare host, with its symbol table")
    parser.add_argument("--work", required=True)
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load per path")
    parser.add_argument("--top", type=int, default=12, help="the service's own functions to list per path")
    args = parser.parse_args()

    os.makedirs(args.work, exist_ok=True)
    env = env_for(os.path.abspath(os.path.join(args.work, "instructions.db")))
    cli(args.service, env, "team", "add", TEAM)
    cli(args.service, env, "member", "add", TEAM, "alice", "--role", "owner")
    sk = cli(args.service, env, "key", "create", TEAM, "--kind", "sk")
    cli(args.service, env, "credential", "set", TEAM, stdin=COMFY_KEY + "\n")

    floor, _ = measure(args.floor, env, STATUS, None, None, args.duration, args.work)
    rows = [("The bare host's constant route", floor, {})]
    for label, path, token, team in (("/healthz", "/healthz", None, None),
                                     ("Status, sk key", STATUS, sk, None),
                                     ("Status, HS256 JWT", STATUS, jwt("alice"), TEAM)):
        print(f"{label}...", file=sys.stderr)
        rows.append((label, *measure(args.service, env, path, token, team, args.duration, args.work)))

    print("\n| path | instructions per request | over the bare host's |\n|---|---|---|")
    for label, total, _ in rows:
        print(f"| {label} | {total:,.0f} | {total - floor:+,.0f} |")
    for label, _, functions in rows[1:]:
        own = sorted(((cost, f) for f, cost in functions.items() if f.startswith(OWN_CODE)), reverse=True)
        print(f"\n{label}, the service's own functions (instructions per request, with what they call):\n")
        for cost, function in own[:args.top]:
            print(f"    {cost:8,.0f}  {function[len(OWN_CODE):][:110]}")


main()
