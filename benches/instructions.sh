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
python3 benches/report.py --instructions "$out"
