#!/usr/bin/env python3
"""Login flood against the notes-api binary (issue 13): peak memory and answer times.

LOGINS concurrent `POST /auth/sign-in` requests, each from its own client address behind a
trusted proxy and for its own unknown user name (so only the password hasher stands in their
way), against notes-api as it ships (Argon2id m=19456 KiB, t=2, p=1). Two configurations,
alternately, ROUNDS rounds each, in one run:

  bounded    SECURE_PASSWORD_HASHES unset (one hash per CPU), SECURE_PASSWORD_HASH_WAIT=1s
  unbounded  SECURE_PASSWORD_HASHES=512 (tokio's whole blocking pool: the behaviour before
             the bound), SECURE_PASSWORD_HASH_WAIT=30s

Each round starts a fresh process and reports its peak RSS (VmHWM), the statuses, and the
median, p99 and slowest answer. Prints a markdown table of the medians over rounds.

  python3 benches/login_flood.py                     # release build
  python3 benches/login_flood.py --profile debug     # the debug build `cargo test` runs
  LOGINS=80 ROUNDS=3 python3 benches/login_flood.py
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from report import target_dir  # noqa: E402

LOGINS = int(os.environ.get("LOGINS", "120"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CONFIGS = {
    "bounded": {"SECURE_PASSWORD_HASH_WAIT": "1s"},
    "unbounded": {"SECURE_PASSWORD_HASHES": "512", "SECURE_PASSWORD_HASH_WAIT": "30s"},
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def login(port, client):
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = json.dumps({"username": f"nobody_{client}", "password": "wrong password, long enough"})
    conn.request(
        "POST",
        "/auth/sign-in",
        body,
        {
            "content-type": "application/json",
            "x-forwarded-for": f"10.{client // 250}.{client % 250}.7",
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status, time.monotonic() - started


def notes_env(work, port, extra):
    """notes-api's environment for a bench: a new SQLite database in `work`, production
    settings with generated keys, loopback as the trusted proxy (each request names its own
    client address), and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "NOTES_"))}
    env.update(
        DATABASE_URL=f"sqlite://{work}/bench.db",
        NOTES_ADDR=f"127.0.0.1:{port}",
        SECURE_TRUSTED_PROXIES="127.0.0.1",
        SECURE_ENV="production",
        SECURE_JWT_KEY=os.urandom(48).hex(),
        SECURE_CSRF_KEY=os.urandom(48).hex(),
        SECURE_DATA_KEY=os.urandom(48).hex(),
    )
    env.update(extra)
    return env


def round_once(binary, name, env_extra):
    port = free_port()
    with tempfile.TemporaryDirectory() as work:
        env = notes_env(work, port, env_extra)
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            for line in proc.stdout:
                if line.startswith("notes-api listening on"):
                    break
            else:
                raise SystemExit(f"login_flood.py: notes-api ({name}) exited before listening")
            idle = peak_rss_mib(proc.pid)
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(max_workers=LOGINS) as pool:
                answers = list(pool.map(lambda c: login(port, c), range(LOGINS)))
            wall = time.monotonic() - started
            peak = peak_rss_mib(proc.pid)
        finally:
            proc.kill()
            proc.wait()
    times = sorted(t for _, t in answers)
    statuses = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "idle": idle,
        "peak": peak,
        "median": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "slowest": times[-1],
        "wall": wall,
        "statuses": statuses,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", choices=["release", "debug"], default="release")
    args = parser.parse_args()
    build = ["cargo", "build", "--quiet", "-p", "notes-api", "--bin", "notes-api"]
    if args.profile == "release":
        build.insert(2, "--release")
    print(f"== building notes-api ({args.profile})", file=sys.stderr)
    subprocess.run(build, check=True)
    binary = os.path.join(target_dir(), args.profile, "notes-api")

    results = {name: [] for name in CONFIGS}
    for r in range(ROUNDS):
        for name, extra in CONFIGS.items():
            res = round_once(binary, name, extra)
            results[name].append(res)
            print(
                f"round {r + 1} {name}: peak {res['peak']:.0f} MiB (idle {res['idle']:.0f}), "
                f"median {res['median']:.2f} s, slowest {res['slowest']:.2f} s, {res['statuses']}",
                file=sys.stderr,
            )

    print(f"\n{LOGINS} concurrent logins, {os.cpu_count()} CPUs, {args.profile} build, "
          f"medians of {ROUNDS} rounds\n")
    print("| hasher | peak RSS | idle RSS | median answer | p99 answer | slowest | statuses (last round) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, rounds in results.items():
        med = lambda key: statistics.median(r[key] for r in rounds)  # noqa: E731
        statuses = ", ".join(f"{n} x {s}" for s, n in sorted(rounds[-1]["statuses"].items()))
        print(
            f"| {name} | {med('peak'):.0f} MiB | {med('idle'):.0f} MiB | {med('median'):.2f} s "
            f"| {med('p99'):.2f} s | {med('slowest'):.2f} s | {statuses} |"
        )


if __name__ == "__main__":
    main()
