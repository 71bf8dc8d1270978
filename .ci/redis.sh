#!/usr/bin/env bash
# A throwaway Redis for the Redis rate-limit store tests (secure-core feature `redis`).
#
# Source it (`. .ci/redis.sh`): it installs redis-server if missing (Debian, apt-get), starts
# it on 127.0.0.1 on a free port with no persistence in a temporary directory, exports
#   SECURE_TEST_REDIS_URL=redis://127.0.0.1:<port>/
# and stops it and deletes the directory when the sourcing shell exits.
# Tests that need Redis skip, with a notice, when that variable is unset.
#
# Cleanup goes through .ci/cleanup.sh (one EXIT trap running every registered step), so
# sourcing this after .ci/postgres.sh does not replace PostgreSQL's cleanup.

. "$(dirname "${BASH_SOURCE[0]}")/cleanup.sh"

secure_redis_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port
    for port in $(seq 63790 63890); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    return 1
}

secure_redis_start() {
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "== installing redis-server (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
        # The package may start a system instance on 6379: ours is separate and on its own port.
        if ! command -v redis-server >/dev/null 2>&1; then
            echo "redis-server installation did not provide redis-server" >&2
            return 1
        fi
    fi

    SECURE_REDIS_DIR=$(mktemp -d /tmp/secure-redis.XXXXXX)
    secure_cleanup_add secure_redis_stop

    local port attempt
    for attempt in 1 2 3; do
        port=$(secure_redis_free_port) || return 1
        # No RDB snapshots, no AOF: test data only. Daemonized with a pid file to stop it by.
        if redis-server --bind 127.0.0.1 --port "$port" --dir "$SECURE_REDIS_DIR" \
            --save '' --appendonly no --daemonize yes \
            --pidfile "$SECURE_REDIS_DIR/redis.pid" --logfile "$SECURE_REDIS_DIR/redis.log" \
            && secure_redis_wait "$port"; then
            break
        fi
        secure_redis_kill
        port=
    done
    if [ -z "$port" ]; then
        cat "$SECURE_REDIS_DIR/redis.log" >&2 2>/dev/null || true
        return 1
    fi
    export SECURE_TEST_REDIS_URL="redis://127.0.0.1:$port/"
    echo "== Redis $(redis-server --version | awk '{print $3}' | sed 's/^v=//') on 127.0.0.1:$port (SECURE_TEST_REDIS_URL)"
}

# Up when it answers PING (redis-cli comes with the Debian package) or, without redis-cli,
# when the port accepts connections.
secure_redis_wait() {
    local port=$1 i
    for i in $(seq 1 100); do
        if command -v redis-cli >/dev/null 2>&1; then
            [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && return 0
        elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

secure_redis_kill() {
    local pid
    pid=$(cat "$SECURE_REDIS_DIR/redis.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
        local i
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$SECURE_REDIS_DIR/redis.pid"
}

secure_redis_stop() {
    if [ -n "${SECURE_REDIS_DIR:-}" ] && [ -d "$SECURE_REDIS_DIR" ]; then
        secure_redis_kill
        rm -rf "$SECURE_REDIS_DIR"
    fi
}

secure_redis_start
