"""Cold start of two builds side by side: exec to the first 200 on the status endpoint with an
sk- key, and the resident memory at that answer, the two alternating run by run, each on a
database it seeded itself, so that a change's cost is a ratio measured minutes apart rather than
an absolute figure from another day.

Usage: python3 bench/coldstart.py BEFORE_BINARY AFTER_BINARY [--runs N] [--work DIR]
(for example artifacts of two commits' `dotnet publish src/CloudProviders -c Release -r linux-x64`).
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from bench import COMFY_KEY, TEAM, cli, cold_start_ms, env_for, rss_mb  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--work", default="artifacts/coldstart")
    args = parser.parse_args()

    os.makedirs(args.work, exist_ok=True)
    # Each build on a database of its own, seeded by itself: two builds may differ in schema.
    envs, tokens = {}, {}
    for name, binary in (("before", args.before), ("after", args.after)):
        db = os.path.abspath(os.path.join(args.work, f"coldstart-{name}.db"))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        envs[binary] = env_for(db)
        cli(binary, envs[binary], "team", "add", TEAM)
        tokens[binary] = cli(binary, envs[binary], "key", "create", TEAM, "--kind", "sk")
        cli(binary, envs[binary], "credential", "set", TEAM, stdin=COMFY_KEY + "\n")

    samples = {args.before: [], args.after: []}
    resident = {args.before: [], args.after: []}
    for binary in samples:  # the page cache warmed for each once
        cold_start_ms(binary, envs[binary], tokens[binary])
    for run in range(args.runs):
        order = (args.before, args.after) if run % 2 == 0 else (args.after, args.before)
        for binary in order:
            samples[binary].append(cold_start_ms(binary, envs[binary], tokens[binary],
                                                 at_answer=lambda pid, binary=binary: resident[binary].append(rss_mb(pid))))

    before, after = (statistics.median(samples[b]) for b in (args.before, args.after))
    memory = {b: statistics.median(resident[b]) for b in samples}
    print(f"| build | cold start to the first 200, median of {args.runs} | resident memory at that answer |")
    print("|---|---|---|")
    print(f"| before ({args.before}) | {before:.1f} ms | {memory[args.before]:.1f} MB |")
    print(f"| after ({args.after}) | {after:.1f} ms | {memory[args.after]:.1f} MB |")
    print(f"| after / before | {after / before:.3f} | {memory[args.after] / memory[args.before]:.3f} |")


if __name__ == "__main__":
    main()
