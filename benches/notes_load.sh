#!/usr/bin/env bash
# Load benchmark of issue 7: authenticated `GET /notes` on notes-api (release build, every
# security layer on) against notes_plain (benches/src/bin/notes_plain.rs: plain axum + sqlx,
# the same SELECT, no security layer) and, when Node.js is there, benches/express/server.js (a
# typical Express.js stack: helmet, express-rate-limit, jsonwebtoken verifying the access
# tokens notes-api issues, the same SELECT through better-sqlite3), all on the same SQLite
# file, in one run on one machine. All three must answer byte-identical bodies. They are
# loaded alternately (a warm-up each, then ROUNDS rounds of notes-api, plain, Express), so
# background load hits them alike. Prints a markdown table: median req/s, p99 and server CPU
# per request for each server, and the medians of the per-round ratios secured / plain and
# secured / Express.
#
#   bash benches/notes_load.sh
#   DURATION=30s CONNECTIONS=64 ROUNDS=5 bash benches/notes_load.sh
#   EXPRESS=0 bash benches/notes_load.sh     # without the Express server
#   BASELINE=/tmp/notes-api-old EXPRESS=0 bash benches/notes_load.sh
#                                            # also an earlier notes-api build, on its own
#                                            # database with the same notes: before/after
#
# Load tool: wrk (Debian package `wrk`; installed with apt-get when missing and run as root).
# The Express server needs `node` (20 or later) and `npm` on PATH: with EXPRESS unset it runs
# when both are there and is skipped with a notice when not; EXPRESS=1 requires it. Its
# dependencies (benches/express/package-lock.json) are installed with `npm ci` when
# node_modules is missing; better-sqlite3 builds from source with node-gyp when no prebuilt
# binary can be downloaded, which needs python3, make, a C++ compiler and the Node headers
# (Debian: build-essential; /usr/include/node is used when present).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-5}
NOTES=${NOTES:-20}
EXPRESS=${EXPRESS:-}
BASELINE=${BASELINE:-}

# Whether the Express server runs: see the header.
case "$EXPRESS" in
    0)
        express=0
        echo "== EXPRESS=0: the Express server is skipped" >&2
        ;;
    1 | "")
        if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
            express=1
        elif [ "$EXPRESS" = 1 ]; then
            echo "notes_load.sh: EXPRESS=1 needs node and npm on PATH" >&2
            exit 1
        else
            express=0
            echo "== node or npm not on PATH: the Express server is skipped (EXPRESS=1 requires it)" >&2
        fi
        ;;
    *)
        echo "notes_load.sh: EXPRESS must be 0, 1 or unset" >&2
        exit 1
        ;;
esac

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        echo "notes_load.sh: needs wrk (apt-get install wrk)" >&2
        exit 1
    fi
fi

echo "== building notes-api and notes_plain (release)" >&2
cargo build --release --quiet -p notes-api --bin notes-api -p secure-benches --bin notes_plain
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
notes_api="$target_dir/release/notes-api"
notes_plain="$target_dir/release/notes_plain"

if [ "$express" = 1 ] && [ ! -d benches/express/node_modules ]; then
    echo "== installing the Express server's dependencies (npm ci)" >&2
    (
        cd benches/express
        # Headers for node-gyp when better-sqlite3 builds from source (no prebuilt download).
        if [ -d /usr/include/node ]; then export npm_config_nodedir=/usr; fi
        npm ci --silent
    )
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for() { # URL [CURL ARGS...]: until it answers 2xx, 30 s at most
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "$@" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "notes_load.sh: $1 did not come up; the servers' logs end with:" >&2
    tail -n 20 "$work"/*.log >&2 || true
    exit 1
}

json_field() { # FIELD: read JSON on stdin, print one top-level string field
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

db="sqlite://$work/notes.db"
api_port=$(free_port)
api="http://127.0.0.1:$api_port"

# Generated keys: a release build refuses to start without them, and none is written down.
# The access-token key is kept: the Express server verifies notes-api's tokens with it.
# The per-IP default limit is raised so one load generator on one address is not refused;
# the limiter still runs (and counts) on every request. So is the cap on connections per
# address (64), so CONNECTIONS may go above it; the table still counts every connection.
jwt_key=$(openssl rand -base64 48)
echo "== starting notes-api on $api" >&2
SECURE_JWT_KEY="$jwt_key" \
SECURE_CSRF_KEY=$(openssl rand -base64 48) \
SECURE_DATA_KEY=$(openssl rand -base64 48) \
SECURE_RATE_LIMIT=1000000000/min \
SECURE_CONNECTIONS_PER_ADDRESS=off \
DATABASE_URL="$db" NOTES_ADDR="127.0.0.1:$api_port" \
    "$notes_api" >"$work/notes-api.log" 2>&1 &
api_pid=$!
pids+=($api_pid)
wait_for "$api/health"

user="bench_$(openssl rand -hex 4)"
password=$(openssl rand -base64 24)
# seed URL: the user signs up and logs in there and writes NOTES notes; sets seed_owner,
# seed_access and seed_refresh.
seed() {
    local login i
    seed_owner=$(curl -fsS "$1/auth/signup" -H 'content-type: application/json' \
        -d "{\"username\":\"$user\",\"email\":\"$user@example.com\",\"password\":\"$password\"}" |
        json_field id)
    login=$(curl -fsS "$1/auth/sign-in" -H 'content-type: application/json' \
        -d "{\"username\":\"$user\",\"password\":\"$password\"}")
    seed_access=$(json_field access_token <<<"$login")
    seed_refresh=$(json_field refresh_token <<<"$login")
    for i in $(seq "$NOTES"); do
        curl -fsS -o /dev/null "$1/notes" -H "authorization: Bearer $seed_access" \
            -H 'content-type: application/json' \
            -d "{\"title\":\"note $i\",\"body\":\"The body of note $i, a few words long so the list has some weight.\"}"
    done
}
seed "$api"
owner=$seed_owner access=$seed_access refresh=$seed_refresh

plain_port=$(free_port)
plain="http://127.0.0.1:$plain_port"
echo "== starting notes_plain on $plain" >&2
"$notes_plain" "127.0.0.1:$plain_port" "$db" "$owner" >"$work/notes_plain.log" 2>&1 &
plain_pid=$!
pids+=($plain_pid)
wait_for "$plain/notes"

if [ "$express" = 1 ]; then
    express_port=$(free_port)
    express_url="http://127.0.0.1:$express_port"
    echo "== starting the Express server on $express_url" >&2
    SECURE_JWT_KEY="$jwt_key" node benches/express/server.js "127.0.0.1:$express_port" \
        "$work/notes.db" >"$work/express.log" 2>&1 &
    express_pid=$!
    pids+=($express_pid)
    wait_for "$express_url/notes" -H "authorization: Bearer $access"
fi

if [ -n "$BASELINE" ]; then
    # An earlier build may have other migrations: its own database, the same user and notes.
    # Only the variables every build knows (a build refuses names it does not know): a build
    # with the per-address connection cap keeps its 64, so keep CONNECTIONS at 64 or below.
    base_port=$(free_port)
    base="http://127.0.0.1:$base_port"
    echo "== starting the baseline notes-api ($BASELINE) on $base" >&2
    SECURE_JWT_KEY=$(openssl rand -base64 48) \
    SECURE_CSRF_KEY=$(openssl rand -base64 48) \
    SECURE_DATA_KEY=$(openssl rand -base64 48) \
    SECURE_RATE_LIMIT=1000000000/min \
    DATABASE_URL="sqlite://$work/baseline.db" NOTES_ADDR="127.0.0.1:$base_port" \
        "$BASELINE" >"$work/baseline.log" 2>&1 &
    base_pid=$!
    pids+=($base_pid)
    wait_for "$base/health"
    seed "$base"
    base_access=$seed_access base_refresh=$seed_refresh
    # The same notes but for the ids and times (and their order: an earlier build may order
    # notes made in one second at random).
    strip() { python3 -c 'import json,sys; print(sorted((n["title"], n["body"]) for n in json.load(sys.stdin)))'; }
    if [ "$(curl -fsS "$api/notes" -H "authorization: Bearer $access" | strip)" != \
        "$(curl -fsS "$base/notes" -H "authorization: Bearer $base_access" | strip)" ]; then
        echo "notes_load.sh: notes-api and the baseline answer different lists" >&2
        exit 1
    fi
fi

# All must answer the same list, or the comparison means nothing.
curl -fsS -o "$work/body-api.json" "$api/notes" -H "authorization: Bearer $access"
curl -fsS -o "$work/body-plain.json" "$plain/notes"
if ! cmp -s "$work/body-api.json" "$work/body-plain.json"; then
    echo "notes_load.sh: notes-api and notes_plain answer different bodies" >&2
    exit 1
fi
if [ "$express" = 1 ]; then
    curl -fsS -o "$work/body-express.json" "$express_url/notes" \
        -H "authorization: Bearer $access"
    if ! cmp -s "$work/body-api.json" "$work/body-express.json"; then
        echo "notes_load.sh: notes-api and the Express server answer different bodies" >&2
        exit 1
    fi
fi

# A fresh access token (they live 15 minutes) through the refresh route, whose limit is the
# per-IP default, unlike /auth/sign-in's 5/min.
renew() {
    pair_of "$api" "$refresh"
    access=$pair_access refresh=$pair_refresh
    if [ -n "$BASELINE" ]; then
        pair_of "$base" "$base_refresh"
        base_access=$pair_access base_refresh=$pair_refresh
    fi
}

pair_of() { # URL REFRESH_TOKEN: sets pair_access and pair_refresh
    local pair
    pair=$(curl -fsS "$1/auth/refresh" -H 'content-type: application/json' \
        -d "{\"refresh_token\":\"$2\"}")
    pair_access=$(json_field access_token <<<"$pair")
    pair_refresh=$(json_field refresh_token <<<"$pair")
}

cpu_ticks() { # PID: user + system CPU time so far, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

run_wrk() { # NAME URL DURATION OUT PID [TOKEN]: the same header on all, so all read the same bytes
    local before
    before=$(cpu_ticks "$5")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --latency \
        -H "authorization: Bearer ${6:-$access}" "$2/notes" >"$4"
    echo $(($(cpu_ticks "$5") - before)) >"$4.cpu"
    if grep -q 'Non-2xx' "$4"; then
        echo "notes_load.sh: $1 answered errors under load:" >&2
        cat "$4" >&2
        exit 1
    fi
}

echo "== warm-up ($WARMUP each), then $ROUNDS rounds of $DURATION each, alternating" >&2
renew
run_wrk notes-api "$api" "$WARMUP" "$work/warm-api.txt" "$api_pid"
run_wrk notes_plain "$plain" "$WARMUP" "$work/warm-plain.txt" "$plain_pid"
if [ "$express" = 1 ]; then
    run_wrk Express "$express_url" "$WARMUP" "$work/warm-express.txt" "$express_pid"
fi
if [ -n "$BASELINE" ]; then
    run_wrk baseline "$base" "$WARMUP" "$work/warm-base.txt" "$base_pid" "$base_access"
fi
for round in $(seq "$ROUNDS"); do
    renew
    run_wrk notes-api "$api" "$DURATION" "$work/api-$round.txt" "$api_pid"
    run_wrk notes_plain "$plain" "$DURATION" "$work/plain-$round.txt" "$plain_pid"
    if [ "$express" = 1 ]; then
        run_wrk Express "$express_url" "$DURATION" "$work/express-$round.txt" "$express_pid"
    fi
    if [ -n "$BASELINE" ]; then
        run_wrk baseline "$base" "$DURATION" "$work/base-$round.txt" "$base_pid" "$base_access"
    fi
    echo "   round $round done" >&2
done

python3 - "$work" "$ROUNDS" "$(getconf CLK_TCK)" "$express" "${BASELINE:+1}" <<'EOF'
import re, statistics, sys

work, rounds, tick = sys.argv[1], int(sys.argv[2]), 1 / int(sys.argv[3])
express = sys.argv[4] == "1"
baseline = sys.argv[5] == "1"
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}

def parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M).groups()
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    # the server's own CPU time per request (user + system), whatever else the machine ran
    cpu_us = int(open(path + ".cpu").read()) * tick * 1e6 / requests
    return rps, float(value) * UNIT_MS[unit], cpu_us

servers = [("notes-api (secured)", "api"), ("plain axum", "plain")]
if express:
    servers.append(("Express (helmet, express-rate-limit, jsonwebtoken, better-sqlite3)", "express"))
if baseline:
    servers.append(("notes-api, baseline build", "base"))
runs = {
    prefix: [parse(f"{work}/{prefix}-{r}.txt") for r in range(1, rounds + 1)]
    for _, prefix in servers
}
print("| server | req/s | p99 | server CPU per request | req/s per round |")
print("| --- | ---: | ---: | ---: | --- |")
for name, prefix in servers:
    rps = statistics.median(r[0] for r in runs[prefix])
    p99 = statistics.median(r[1] for r in runs[prefix])
    cpu = statistics.median(r[2] for r in runs[prefix])
    each = ", ".join(f"{r[0]:.0f}" for r in runs[prefix])
    print(f"| {name} | {rps:.0f} | {p99:.2f} ms | {cpu:.1f} µs | {each} |")
# The ratio of each round's pair (run back to back, so they saw the same background load),
# then the median of those: steadier on a shared machine than a ratio of medians.
for name, other in (
    ("secured / plain", "plain"),
    ("secured / Express", "express"),
    ("secured / baseline build", "base"),
):
    if other not in runs:
        continue
    rps_ratio = [a[0] / b[0] for a, b in zip(runs["api"], runs[other])]
    p99_ratio = [a[1] / b[1] for a, b in zip(runs["api"], runs[other])]
    cpu_ratio = [a[2] / b[2] for a, b in zip(runs["api"], runs[other])]
    each = ", ".join(f"{r:.2f}x" for r in rps_ratio)
    print(
        f"| {name} | {statistics.median(rps_ratio):.2f}x "
        f"| {statistics.median(p99_ratio):.2f}x | {statistics.median(cpu_ratio):.2f}x | {each} |"
    )
EOF
echo "medians of $ROUNDS rounds; wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, load generator on the same machine" >&2
