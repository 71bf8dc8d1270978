#!/usr/bin/env python3
"""A criterion bench in alternating rounds, for figures that compare two functions.

One criterion run measures each function for a few seconds, one after the other, so a burst
of load from elsewhere on the machine lands on one function and not on the other, and the
ratio of one run moves with it. This script runs criterion ROUNDS times (default 7) on each
function of a comparison, in a rotating order, short runs back to back, and reports per
function the median of its medians and the median (and range) of its per-round ratio to its
baseline. Exits non-zero if a target is missed.

    python3 benches/rounds.py ratelimit     # issue 6: RateLimiter::check <= 1.2x governor
    python3 benches/rounds.py handler       # issue 14: secure auth route <= 1.03x hand-written
    python3 benches/rounds.py resource      # issue 15: Authorized<Note, Read> <= 1.05x hand-written
    python3 benches/rounds.py refresh       # issue 23: a refresh-token rotation <= 1.2x hand-written
    python3 benches/rounds.py api_keys      # issue 24: an API key check <= 1.2x hand-written
    ROUNDS=11 python3 benches/rounds.py ratelimit
"""

import os
import statistics
import subprocess
import sys
from pathlib import Path

from report import median_ns, target_dir, verdict

# bench target -> [(criterion id, baseline id, max ratio or None)]
COMPARISONS = {
    "ratelimit": [
        ("ratelimit/governor_check_key_state", "ratelimit/governor_check_key", None),
        ("ratelimit/secure_check", "ratelimit/governor_check_key", 1.2),
    ],
    "handler": [
        ("handler_auth/secure", "handler_auth/manual", 1.03),
        ("handler_public/secure", "handler_public/plain", None),
    ],
    "resource": [
        ("resource/authorized", "resource/manual", 1.05),
    ],
    "api_keys": [
        ("api_key/secure", "api_key/hand_written", 1.2),
        ("api_key/secure", "api_key/sha256_hashmap", None),
    ],
    "refresh": [
        ("refresh/secure", "refresh/manual", 1.2),
    ],
}
ROUNDS = int(os.environ.get("ROUNDS", "7"))
WORKSPACE = Path(__file__).resolve().parent.parent


def cargo_bench(bench: str, *args: str) -> None:
    subprocess.run(
        ["cargo", "bench", "-q", "-p", "secure-benches", "--bench", bench, *args],
        cwd=WORKSPACE,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(root: Path, bench: str, ident: str) -> float:
    cargo_bench(bench, "--", "--exact", ident, "--warm-up-time", "1", "--measurement-time", "3")
    group, name = ident.split("/")
    return median_ns(root, group, name)


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in COMPARISONS:
        print(f"usage: rounds.py {{{'|'.join(COMPARISONS)}}}", file=sys.stderr)
        return 2
    bench = sys.argv[1]
    pairs = COMPARISONS[bench]
    idents = list(dict.fromkeys(i for pair in pairs for i in pair[:2]))
    cargo_bench(bench, "--no-run")
    root = target_dir()
    medians = {i: [] for i in idents}
    ratios = {(p[0], p[1]): [] for p in pairs}
    for r in range(ROUNDS):
        order = idents[r % len(idents):] + idents[: r % len(idents)]
        got = {i: run(root, bench, i) for i in order}
        for i in idents:
            medians[i].append(got[i])
        for ident, base, _ in pairs:
            ratios[(ident, base)].append(got[ident] / got[base])
        print(f"   round {r + 1}: " + ", ".join(f"{i} {got[i]:.1f} ns" for i in idents),
              file=sys.stderr)
    print("| bench | median of medians (ns) |")
    print("| --- | ---: |")
    for i in idents:
        print(f"| {i} | {statistics.median(medians[i]):.1f} |")
    print()
    print("| bench / baseline | median of round ratios | range over rounds | target |")
    print("| --- | ---: | --- | --- |")
    missed = []
    for ident, base, limit in pairs:
        r = ratios[(ident, base)]
        ratio = statistics.median(r)
        target = f"<= {limit}x" if limit else ""
        print(f"| {ident} / {base} | {ratio:.3f}x | {min(r):.3f}x to {max(r):.3f}x | {target} |")
        if limit and ratio > limit:
            missed.append(f"{ident} / {base} = {ratio:.3f}x, target <= {limit}x")
    print(f"\n{ROUNDS} rounds; criterion medians, 1 s warm-up and 3 s measurement per bench and round")
    met = ", ".join(f"{i} / {b} <= {n}x" for i, b, n in pairs if n)
    return verdict(missed, met)


if __name__ == "__main__":
    sys.exit(main())
