#!/usr/bin/env bash
# One EXIT trap for every throwaway server that .ci starts. A second `trap .. EXIT` replaces
# the first, so scripts register their cleanup here instead: `secure_cleanup_add fn`.
# Sourcing this twice keeps the steps already registered.

if [ -z "${SECURE_CLEANUP_LOADED:-}" ]; then
    SECURE_CLEANUP_LOADED=1
    SECURE_CLEANUP_STEPS=()

    secure_cleanup_add() {
        SECURE_CLEANUP_STEPS+=("$1")
        trap secure_cleanup_run EXIT
    }

    # Every step runs, newest first, even when one fails.
    secure_cleanup_run() {
        local i
        for ((i = ${#SECURE_CLEANUP_STEPS[@]} - 1; i >= 0; i--)); do
            "${SECURE_CLEANUP_STEPS[$i]}" || true
        done
    }
fi
