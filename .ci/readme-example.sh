#!/usr/bin/env bash
# The README's first example, copied into a new crate with its [dependencies] block (the
# path pointed at this checkout), must build and serve: a login, the caller's note, another
# id refused. Run by .ci/run; `bash .ci/readme-example.sh` alone works too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
crate=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$crate"' EXIT
python3 - "$root" "$crate" <<'PY'
import sys
root, crate = sys.argv[1], sys.argv[2]
readme = open(f"{root}/README.md").read()
start = readme.index("```toml\n[dependencies]\nsecure-core = { path = \"../secure/secure-core\"")
toml = readme[start + len("```toml\n"):readme.index("```", start + 8)]
toml = toml.replace('path = "../secure/secure-core"', f'path = "{root}/secure-core"')
code_start = readme.index("```rust,no_run\n", start)
code = readme[code_start + len("```rust,no_run\n"):readme.index("```", code_start + 10)]
open(f"{crate}/Cargo.toml", "w").write(
    '[package]\nname = "readme-example"\nversion = "0.1.0"\nedition = "2024"\n\n[workspace]\n\n' + toml
)
import os
os.makedirs(f"{crate}/src")
open(f"{crate}/src/main.rs", "w").write(code)
PY
# The workspace's target directory: the dependencies it already built are reused.
(cd "$crate" && CARGO_TARGET_DIR="$root/target/readme-example" cargo build --quiet)
(cd "$crate" && exec "$root/target/readme-example/debug/readme-example") >"$crate/out.log" 2>&1 &
server=$!
base=http://127.0.0.1:3000
for _ in $(seq 100); do
    curl -fsS -o /dev/null "$base/me" 2>/dev/null && break
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/me" 2>/dev/null)" = 401 ] && break
    sleep 0.1
done
token=$(curl -fsS "$base/login" -H 'content-type: application/json' \
    -d '{"username":"ada","password":"correct horse battery staple"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
[ "$(curl -fsS "$base/me" -H "authorization: Bearer $token")" = "hello user-1" ]
curl -fsS "$base/notes/n-1" -H "authorization: Bearer $token" | grep -q "ada's first note"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/notes/n-2" -H "authorization: Bearer $token")" = 404 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/notes")" = 401 ]
echo "README example: built, served, answered as documented"
