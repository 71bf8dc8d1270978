#!/usr/bin/env bash
# The README's first example, copied into a new crate with its [dependencies] block (the
# path pointed at this checkout), must build, stay within 60 lines, and serve: signup and
# sign-in through the accounts routes, the caller's note, another user's id refused. Run by
# .ci/run; `bash .ci/readme-example.sh` alone works too.
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
lines = code.count("\n")
if lines > 60:
    sys.exit(f"README example: {lines} lines, more than 60")
PY
# The workspace's target directory: the dependencies it already built are reused.
(cd "$crate" && CARGO_TARGET_DIR="$root/target/readme-example" cargo build --quiet)
(cd "$crate" && exec "$root/target/readme-example/debug/readme-example") >"$crate/out.log" 2>&1 &
server=$!
base=http://127.0.0.1:3000
for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/notes" 2>/dev/null)" = 401 ] && break
    sleep 0.1
done
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
token_of() { # NAME: signs NAME up and in; prints the access token
    curl -fsS -o /dev/null "$base/auth/signup" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"correct horse battery staple\"}"
    curl -fsS "$base/auth/sign-in" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"correct horse battery staple\"}" | json access_token
}
ada=$(token_of ada)
bob=$(token_of bob)
note=$(curl -fsS "$base/notes" -H "authorization: Bearer $ada" -H 'content-type: application/json' \
    -d '{"title":"ada'"'"'s first note"}' | json id)
curl -fsS "$base/notes/$note" -H "authorization: Bearer $ada" | grep -q "ada's first note"
curl -fsS "$base/notes" -H "authorization: Bearer $ada" | grep -q "$note"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/notes/$note" -H "authorization: Bearer $bob")" = 404 ]
[ "$(curl -fsS "$base/notes" -H "authorization: Bearer $bob")" = "[]" ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/notes")" = 401 ]
echo "README example: built, served, answered as documented"
