#!/usr/bin/env bash
# A throwaway PostgreSQL for the Postgres store tests (secure-core features `postgres`).
#
# Source it (`. .ci/postgres.sh`): it installs PostgreSQL if `initdb` is missing (Debian,
# apt-get), creates a cluster in a temporary directory, starts it on 127.0.0.1 on a free
# port, creates the database `secure_test`, exports
#   SECURE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:<port>/secure_test
# and stops and deletes the cluster when the sourcing shell exits (an EXIT step registered
# with .ci/cleanup.sh, so other scripts' cleanups still run).
# Tests that need Postgres skip, with a notice, when that variable is unset.
#
# The cluster trusts local TCP connections and runs with fsync off: for tests only.

. "$(dirname "${BASH_SOURCE[0]}")/cleanup.sh"

secure_pg_bindir() {
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return
    fi
    local dir
    # `|| true`: under `set -o pipefail` (as in .ci/run) a failed glob must not end the script.
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        echo "$dir"
    fi
}

secure_pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port
    for port in $(seq 54320 54420); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    return 1
}

secure_pg_start() {
    local bindir
    bindir=$(secure_pg_bindir)
    if [ -z "$bindir" ]; then
        echo "== installing PostgreSQL (apt-get)"
        # No default cluster on 5432: we make our own.
        mkdir -p /etc/postgresql-common
        if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
            echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        bindir=$(secure_pg_bindir)
        if [ -z "$bindir" ]; then
            echo "PostgreSQL installation did not provide initdb" >&2
            return 1
        fi
    fi

    SECURE_PG_DIR=$(mktemp -d /tmp/secure-pg.XXXXXX)
    # PostgreSQL refuses to run as root: as root, run it as the `postgres` user.
    local as=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$SECURE_PG_DIR" postgres
        chown postgres: "$SECURE_PG_DIR"
        as=(runuser -u postgres --)
    fi
    chmod 700 "$SECURE_PG_DIR"
    SECURE_PG_CTL=("${as[@]}" "$bindir/pg_ctl")

    "${as[@]}" "$bindir/initdb" -D "$SECURE_PG_DIR/data" -U postgres -A trust -E UTF8 \
        --locale=C --no-sync >"$SECURE_PG_DIR/initdb.log" 2>&1 || {
        cat "$SECURE_PG_DIR/initdb.log" >&2
        return 1
    }

    local port attempt
    for attempt in 1 2 3; do
        port=$(secure_pg_free_port) || return 1
        if "${SECURE_PG_CTL[@]}" -D "$SECURE_PG_DIR/data" -l "$SECURE_PG_DIR/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $SECURE_PG_DIR -c fsync=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null; then
            break
        fi
        port=
    done
    if [ -z "$port" ]; then
        cat "$SECURE_PG_DIR/server.log" >&2
        return 1
    fi
    secure_cleanup_add secure_pg_stop

    "${as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres secure_test
    export SECURE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/secure_test"
    echo "== PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (SECURE_TEST_POSTGRES_URL)"
}

secure_pg_stop() {
    if [ -n "${SECURE_PG_DIR:-}" ] && [ -d "$SECURE_PG_DIR/data" ]; then
        "${SECURE_PG_CTL[@]}" -D "$SECURE_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$SECURE_PG_DIR"
    fi
}

secure_pg_start
