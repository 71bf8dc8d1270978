#!/usr/bin/env python3
"""Account enumeration, measured from outside (issue 23): do `POST /auth/sign-in` and
`POST /auth/password-reset` answer an unknown user name differently from a known one?

notes-api as it ships (release build, OWASP Argon2id parameters, accounts from
`secure_core::accounts`), on a new SQLite database: KNOWN accounts are signed up, then
sign-ins alternate between a known name with a wrong password and a name no account has,
one at a time, each from its own client address behind a trusted proxy (so the per-address
limits never answer), each known account tried at most four times (under the account
throttle). Then the same for password-reset requests (each known name at most three times,
under the per-name budget) against the debug build, the only one that serves the development
notifier notes-api has. Reports per class the statuses, the distinct bodies and header sets
(request ids set aside), and the answer times (median, p10, p90), with the ratio of the
medians; exits non-zero when bodies or headers differ.

    python3 benches/enumeration.py
    KNOWN=80 python3 benches/enumeration.py
"""

import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from login_flood import free_port, notes_env  # noqa: E402
from report import target_dir  # noqa: E402

KNOWN = int(os.environ.get("KNOWN", "60"))
TRIES = 4
PASSWORD = "a long and correct passphrase"
NEXT = [0]


def request(port, path, body):
    NEXT[0] += 1
    n = NEXT[0]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.monotonic()
    conn.request(
        "POST",
        path,
        json.dumps(body),
        {"content-type": "application/json", "x-forwarded-for": f"10.{n // 62500}.{n // 250 % 250}.{n % 250 + 1}"},
    )
    response = conn.getresponse()
    data = response.read()
    elapsed = time.monotonic() - started
    headers = sorted(
        (k.lower(), len(v)) for k, v in response.getheaders() if k.lower() not in ("date", "x-request-id")
    )
    conn.close()
    return response.status, data, headers, elapsed


def without_ids(body):
    # A problem's request id differs per request by design.
    return re.sub(rb'"request_id":"[^"]*"', b'"request_id":"*"', body)


def start(profile, extra):
    build = ["cargo", "build", "--quiet", "-p", "notes-api", "--bin", "notes-api"]
    if profile == "release":
        build.insert(2, "--release")
    print(f"== building notes-api ({profile})", file=sys.stderr)
    subprocess.run(build, check=True)
    binary = os.path.join(target_dir(), profile, "notes-api")
    port = free_port()
    work = tempfile.TemporaryDirectory()
    env = notes_env(work.name, port, extra)
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("notes-api listening on"):
            break
    else:
        raise SystemExit("enumeration.py: notes-api exited before listening")
    return proc, port, work


def measure(profile, extra, path, tries, known_body, unknown_body):
    proc, port, work = start(profile, extra)
    try:
        names = [f"known_{i}" for i in range(KNOWN)]
        for name in names:
            status, body, _, _ = request(
                port, "/auth/signup", {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
            )
            assert status == 201, (status, body)
        samples = {"known": [], "unknown": []}
        for t in range(tries):
            for i, name in enumerate(names):
                # Alternate which goes first, so neither class always follows the other.
                pair = [("known", known_body(name)), ("unknown", unknown_body(f"nobody_{t}_{i}"))]
                if (t + i) % 2:
                    pair.reverse()
                for kind, body in pair:
                    samples[kind].append(request(port, path, body))
    finally:
        proc.kill()
        proc.wait()
        work.cleanup()
    return report(f"{path}: {tries * KNOWN} requests per class, one at a time, {os.cpu_count()} CPUs, {profile} build", samples)


def report(title, samples):
    print(f"\n{title}\n")
    print("| class | statuses | distinct bodies | distinct header sets | median | p10 | p90 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    medians = {}
    bodies = {}
    header_sets = {}
    for kind, rows in samples.items():
        times = sorted(r[3] for r in rows)
        statuses = {}
        for r in rows:
            statuses[r[0]] = statuses.get(r[0], 0) + 1
        bodies[kind] = {without_ids(r[1]) for r in rows}
        headers = header_sets[kind] = {tuple(r[2]) for r in rows}
        medians[kind] = statistics.median(times)
        q = lambda p: times[min(len(times) - 1, int(len(times) * p))]  # noqa: E731
        print(
            f"| {kind} | {', '.join(f'{n} x {s}' for s, n in sorted(statuses.items()))} | {len(bodies[kind])} "
            f"| {len(headers)} | {medians[kind] * 1000:.2f} ms | {q(0.1) * 1000:.2f} ms | {q(0.9) * 1000:.2f} ms |"
        )
    same = bodies["known"] == bodies["unknown"] and header_sets["known"] == header_sets["unknown"]
    print(f"\nbodies and headers identical across classes: {same}; median known / unknown: "
          f"{medians['known'] / medians['unknown']:.3f}x")
    if not same:
        for kind, b in bodies.items():
            print(kind, sorted(b)[:3])
    return same


def main():
    wrong = "not the passphrase at all"
    sign_in = measure(
        "release", {}, "/auth/sign-in", TRIES,
        lambda name: {"username": name, "password": wrong},
        lambda name: {"username": name, "password": wrong},
    )
    reset = measure(
        "debug", {"NOTES_RESET_LINK": "http://localhost/reset#"}, "/auth/password-reset", 3,
        lambda name: {"username": name},
        lambda name: {"username": name},
    )
    if not (sign_in and reset):
        sys.exit(1)


if __name__ == "__main__":
    main()
