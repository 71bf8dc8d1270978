#!/usr/bin/env bash
# Per-request counts of authenticated `GET /notes` under valgrind, for notes-api and for
# notes_plain (the baseline of benches/notes_load.sh): heap allocations (dhat) and
# instructions (callgrind). Each server runs twice, for 200 and for 2200 sequential requests
# on one keep-alive connection, and the difference over the 2000 extra requests is reported,
# so start-up and migrations cancel out. Deterministic, unlike the load figures; what it does
# not see is the kernel, the cache misses and the other threads' waiting.
#
#   bash benches/notes_profile.sh            # both tools
#   TOOLS=dhat bash benches/notes_profile.sh
#   KEEP=/tmp/prof bash benches/notes_profile.sh   # keep the valgrind outputs (callgrind_annotate)
#   API=/tmp/notes-api-old bash benches/notes_profile.sh   # another notes-api build
#
# Needs valgrind (Debian package `valgrind`) and python3. Under valgrind, sha2 takes its
# portable path (no SHA extensions), so the JWT's HMAC counts several times what it costs on
# the machine (about 32,000 of notes-api's instructions a request, `compress256` in
# callgrind_annotate).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${TOOLS:-"dhat callgrind"}

command -v valgrind >/dev/null || { echo "notes_profile.sh: needs valgrind" >&2; exit 1; }
echo "== building notes-api and notes_plain (release)" >&2
cargo build --release --quiet -p notes-api --bin notes-api -p secure-benches --bin notes_plain
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release"
api=${API:-$bin/notes-api}

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$work"/*.out "$KEEP"/; rm -rf "$work"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export SECURE_JWT_KEY=$(openssl rand -base64 48) SECURE_CSRF_KEY=$(openssl rand -base64 48) \
    SECURE_DATA_KEY=$(openssl rand -base64 48) SECURE_RATE_LIMIT=1000000000/min \
    SECURE_CONNECTIONS_PER_ADDRESS=off DATABASE_URL="sqlite://$work/notes.db"

# A user and 20 notes, made once on a server outside valgrind; both servers then read them.
api_port=$(port)
NOTES_ADDR="127.0.0.1:$api_port" "$api" >"$work/seed.log" 2>&1 &
seed_pid=$!
for _ in $(seq 300); do curl -fs -o /dev/null "http://127.0.0.1:$api_port/health" && break; sleep 0.1; done
user="prof_$(openssl rand -hex 4)" password=$(openssl rand -base64 24)
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
owner=$(curl -fsS "http://127.0.0.1:$api_port/auth/signup" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"email\":\"$user@example.com\",\"password\":\"$password\"}" | field id)
token=$(curl -fsS "http://127.0.0.1:$api_port/auth/sign-in" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$password\"}" | field access_token)
for i in $(seq 20); do
    curl -fsS -o /dev/null "http://127.0.0.1:$api_port/notes" -H "authorization: Bearer $token" \
        -H 'content-type: application/json' \
        -d "{\"title\":\"note $i\",\"body\":\"The body of note $i, a few words long so the list has some weight.\"}"
done
kill "$seed_pid"; wait "$seed_pid" 2>/dev/null || true

cat >"$work/load.py" <<'PY'
import http.client, sys, time
port, n, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for _ in range(600):  # valgrind starts slowly
    try:
        c = http.client.HTTPConnection("127.0.0.1", port); c.connect(); break
    except OSError:
        time.sleep(0.2)
for _ in range(n):
    c.request("GET", "/notes", headers={"authorization": "Bearer " + token})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY

run() { # TOOL NAME N: one server under valgrind for N requests; its output file
    local tool=$1 name=$2 n=$3 p out pid
    p=$(port)
    out="$work/$tool-$name-$n.out"
    local opts=(--tool="$tool")
    if [ "$tool" = dhat ]; then opts+=(--dhat-out-file="$out"); else opts+=(--callgrind-out-file="$out"); fi
    if [ "$name" = api ]; then
        NOTES_ADDR="127.0.0.1:$p" valgrind "${opts[@]}" "$api" >"$work/$name.log" 2>&1 &
    else
        valgrind "${opts[@]}" "$bin/notes_plain" "127.0.0.1:$p" "sqlite://$work/notes.db" "$owner" \
            >"$work/$name.log" 2>&1 &
    fi
    pid=$!
    python3 "$work/load.py" "$p" "$n" "$token"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

for tool in $TOOLS; do
    for name in api plain; do
        run "$tool" "$name" 200
        run "$tool" "$name" 2200
    done
done

python3 - "$work" "$TOOLS" <<'PY'
import json, sys
work, tools = sys.argv[1], sys.argv[2].split()
def dhat(path):
    return sum(pp["tbk"] for pp in json.load(open(path))["pps"])
def callgrind(path):
    for line in open(path):
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise SystemExit(f"no summary in {path}")
print("| per request | notes-api | plain axum | ratio |")
print("| --- | ---: | ---: | ---: |")
for tool in tools:
    if tool == "dhat":
        a = (dhat(f"{work}/dhat-api-2200.out") - dhat(f"{work}/dhat-api-200.out")) / 2000
        p = (dhat(f"{work}/dhat-plain-2200.out") - dhat(f"{work}/dhat-plain-200.out")) / 2000
        print(f"| heap allocations (dhat) | {a:.1f} | {p:.1f} | {a / p:.2f}x |")
    else:
        a = (callgrind(f"{work}/callgrind-api-2200.out") - callgrind(f"{work}/callgrind-api-200.out")) / 2000
        p = (callgrind(f"{work}/callgrind-plain-2200.out") - callgrind(f"{work}/callgrind-plain-200.out")) / 2000
        print(f"| instructions (callgrind) | {a:.0f} | {p:.0f} | {a / p:.2f}x |")
PY
