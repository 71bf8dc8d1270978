#!/usr/bin/env bash
# Instruction counts under Callgrind (benches/benches/instructions.rs, gungraun) for the
# handler, validation and rate-limit comparisons, then a markdown table of each count and its
# ratio to the baseline of its comparison. Counts do not move with the load of the machine.
#
#   bash benches/instructions.sh
#
# Needs valgrind (Debian package `valgrind`, installed with apt-get when missing and run as
# root) and gungraun-runner of the same version as the gungraun library (cargo install).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq valgrind >/dev/null
    else
        echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2
        exit 1
    fi
fi

version=$(cargo metadata --format-version 1 |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "gungraun"))')
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
runner_root="$target_dir/gungraun-runner-$version"
if [ ! -x "$runner_root/bin/gungraun-runner" ]; then
    echo "== installing gungraun-runner $version into $runner_root" >&2
    cargo install --quiet --locked --version "$version" --root "$runner_root" gungraun-runner
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
GUNGRAUN_RUNNER="$runner_root/bin/gungraun-runner" \
    cargo bench -q -p secure-benches --bench instructions | tee "$out" >&2
python3 - "$out" <<'PY'
import re, sys

# Per unit: the handler benchmarks count 20 requests, the refresh ones 20 rotations, the
# rate-limit ones 1024 decisions (REQUESTS, ROTATIONS and KEYS in the bench).
PER = {"handler": 20, "resource": 20, "refresh": 20, "ratelimit_secure": 1024, "ratelimit_governor": 1024}
counts, name = {}, None
for line in open(sys.argv[1]):
    head = re.match(r"instructions::\w+::(\w+) (\w+):", line)
    if head:
        name = head.groups()
        continue
    m = re.match(r"\s*Instructions:\s+(\d+)", line)
    if m and name:
        counts[name] = int(m.group(1)) / PER.get(name[0], 1)
        name = None

rows = [
    ("handler: auth + role + validated JSON", ("handler", "secure"), ("handler", "manual"), "hand-written", 1.03),
    ("handler: public + validated JSON", ("handler", "public_secure"), ("handler", "public_plain"), "hand-written", None),
    ("validate: valid input", ("validate_secure", "valid"), ("validate_validator", "valid"), "validator", None),
    ("validate: valid input", ("validate_secure", "valid"), ("validate_garde", "valid"), "garde", None),
    ("validate: invalid input", ("validate_secure", "invalid"), ("validate_validator", "invalid"), "validator", None),
    ("validate: invalid input", ("validate_secure", "invalid"), ("validate_garde", "invalid"), "garde", None),
    ("object read: Authorized<Note, Read>", ("resource", "authorized"), ("resource", "manual"), "hand-written query", 1.05),
    ("rate limit: one decision", ("ratelimit_secure", "secure_check"), ("ratelimit_governor", "governor_check_key"), "governor check_key", 1.2),
    ("refresh-token rotation (SQLite)", ("refresh", "secure"), ("refresh", "manual"), "hand-written sqlx", 1.2),
    ("provider token RS256 + Principal", ("oidc_provider", "rs256"), ("oidc_decode", "rs256"), "jsonwebtoken::decode", 1.1),
    ("provider token ES256 + Principal", ("oidc_provider", "es256"), ("oidc_decode", "es256"), "jsonwebtoken::decode", 1.1),
]
print("| measured | secure | baseline | baseline instructions | secure / baseline | target |")
print("| --- | ---: | --- | ---: | ---: | ---: |")
missed = []
for label, ours, base, base_name, target in rows:
    a, b = counts[ours], counts[base]
    ratio = a / b
    goal = f"<= {target}x" if target else ""
    if target and ratio > target:
        missed.append(label)
    print(f"| {label} | {a:.0f} | {base_name} | {b:.0f} | {ratio:.3f}x | {goal} |")
if missed:
    print("missed: " + ", ".join(missed), file=sys.stderr)
    sys.exit(1)
PY
