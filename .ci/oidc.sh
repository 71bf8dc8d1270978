#!/usr/bin/env bash
# A real OpenID provider (panva's oidc-provider, tests/oidc) for the resource-server tests.
#
# Source it (`. .ci/oidc.sh`): it installs the pinned npm packages (npm ci) if missing, starts
# two providers on 127.0.0.1 on free ports (two issuers, each with keys generated at start) and
# exports
#   SECURE_TEST_OIDC_ISSUER=http://127.0.0.1:<port>        the provider the tests trust
#   SECURE_TEST_OIDC_OTHER_ISSUER=http://127.0.0.1:<port>  another issuer, never trusted
#   SECURE_TEST_OIDC_SECRET=<random>                       the test clients' secret
# and stops them when the sourcing shell exits. The tests skip, with a notice, without them.

. "$(dirname "${BASH_SOURCE[0]}")/cleanup.sh"

secure_oidc_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

secure_oidc_start() {
    local dir
    dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/oidc" && pwd)"
    if ! command -v node >/dev/null 2>&1; then
        echo "== installing Node.js (apt-get) for the OpenID provider"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    if [ ! -d "$dir/node_modules/oidc-provider" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
    fi
    SECURE_TEST_OIDC_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
    export SECURE_TEST_OIDC_SECRET
    SECURE_OIDC_LOG=$(mktemp /tmp/secure-oidc.XXXXXX)
    local port other i
    port=$(secure_oidc_free_port) && other=$(secure_oidc_free_port) || return 1
    node "$dir/provider.mjs" "$port" "$other" >"$SECURE_OIDC_LOG" 2>&1 &
    SECURE_OIDC_PID=$!
    secure_cleanup_add secure_oidc_stop
    for i in $(seq 1 100); do
        if python3 - "$port" "$other" <<'PY' 2>/dev/null; then
import sys, urllib.request
for p in sys.argv[1:]:
    urllib.request.urlopen(f"http://127.0.0.1:{p}/.well-known/openid-configuration", timeout=1)
PY
            export SECURE_TEST_OIDC_ISSUER="http://127.0.0.1:$port"
            export SECURE_TEST_OIDC_OTHER_ISSUER="http://127.0.0.1:$other"
            echo "== oidc-provider $(node -p 'require(process.argv[1]).version' "$dir/node_modules/oidc-provider/package.json") on $SECURE_TEST_OIDC_ISSUER and $SECURE_TEST_OIDC_OTHER_ISSUER (SECURE_TEST_OIDC_*)"
            return 0
        fi
        sleep 0.1
    done
    cat "$SECURE_OIDC_LOG" >&2
    return 1
}

secure_oidc_stop() {
    if [ -n "${SECURE_OIDC_PID:-}" ]; then
        kill "$SECURE_OIDC_PID" 2>/dev/null || true
    fi
    rm -f "${SECURE_OIDC_LOG:-}"
}

secure_oidc_start
