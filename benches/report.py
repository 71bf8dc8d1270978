#!/usr/bin/env python3
"""Markdown table of the `validate` bench: medians and ratios against secure.

Run after the bench, from anywhere in the workspace:

    cargo bench -p secure-benches --bench validate && python3 benches/report.py

With `--handler`, the table of the `handler` bench instead (medians of the secure and the
hand-written path of each pair, secure/manual; target <= 1.05x on the `auth` pair):

    cargo bench -p secure-benches --bench handler && python3 benches/report.py --handler

With `--ratelimit`, the table of the `ratelimit` bench (medians against governor's bare
`check_key`; target <= 1.2x for `secure_check`):

    cargo bench -p secure-benches --bench ratelimit && python3 benches/report.py --ratelimit

Reads `<target>/criterion/<group>/<bench>/new/estimates.json` (field
`median.point_estimate`, in ns). The target dir is taken from the first argument, else
CARGO_TARGET_DIR, else `cargo metadata`. Exits non-zero if a target is missed:
valid >= 1.5x faster than validator and >= 1.2x faster than garde; invalid no slower than
validator.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

GROUPS = ["valid", "invalid"]
LIBS = ["secure", "validator", "garde"]
# (group, competitor) -> minimum ratio competitor/secure.
TARGETS = {("valid", "validator"): 1.5, ("valid", "garde"): 1.2, ("invalid", "validator"): 1.0}


# handler bench: group -> (secure path, hand-written path); max ratio secure/hand-written.
HANDLER_PAIRS = {"handler_auth": ("secure", "manual"), "handler_public": ("secure", "plain")}
HANDLER_TARGETS = {"handler_auth": 1.05}
# ratelimit bench: every bench against governor's bare check_key; max ratio.
RATELIMIT_BASE = "governor_check_key"
RATELIMIT_BENCHES = ["governor_check_key", "governor_check_key_state", "secure_check", "secure_from_parts"]
RATELIMIT_TARGETS = {"secure_check": 1.2}
MODES = ("--handler", "--ratelimit")
ARGS = [a for a in sys.argv[1:] if a not in MODES]


def target_dir(explicit: str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"])
    here = Path(__file__).resolve().parent
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=here,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Path(json.loads(out)["target_directory"])


def verdict(missed: list[str], met: str) -> int:
    """Prints the missed targets (exit status 1) or that all were met (0)."""
    print()
    if missed:
        print("Targets missed:")
        for line in missed:
            print(f"- {line}")
        return 1
    print(f"All targets met ({met}).")
    return 0


def median_ns(root: Path, group: str, bench: str) -> float:
    path = root / "criterion" / group / bench / "new" / "estimates.json"
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def handler(root: Path) -> int:
    print("| route | secure (ns) | hand-written (ns) | secure/hand-written |")
    print("| --- | ---: | ---: | ---: |")
    missed = []
    for group, (secure, manual) in HANDLER_PAIRS.items():
        s, m = median_ns(root, group, secure), median_ns(root, group, manual)
        ratio = s / m
        print(f"| {group} ({secure} vs {manual}) | {s:.1f} | {m:.1f} | {ratio:.3f}x |")
        need = HANDLER_TARGETS.get(group)
        if need is not None and ratio > need:
            missed.append(f"{group}: {secure}/{manual} = {ratio:.3f}x, target <= {need}x")
    return verdict(missed, "auth: secure/manual <= 1.05x")


def ratelimit(root: Path) -> int:
    print(f"| bench | median (ns) | /{RATELIMIT_BASE} |")
    print("| --- | ---: | ---: |")
    base = median_ns(root, "ratelimit", RATELIMIT_BASE)
    missed = []
    for bench in RATELIMIT_BENCHES:
        ns = median_ns(root, "ratelimit", bench)
        ratio = ns / base
        print(f"| {bench} | {ns:.1f} | {ratio:.3f}x |")
        need = RATELIMIT_TARGETS.get(bench)
        if need is not None and ratio > need:
            missed.append(f"{bench}: {ratio:.3f}x {RATELIMIT_BASE}, target <= {need}x")
    met = ", ".join(f"{b} <= {n}x {RATELIMIT_BASE}" for b, n in RATELIMIT_TARGETS.items())
    return verdict(missed, met)


def main() -> int:
    root = target_dir(ARGS[0] if ARGS else None)
    if "--handler" in sys.argv[1:]:
        return handler(root)
    if "--ratelimit" in sys.argv[1:]:
        return ratelimit(root)
    print("| input | secure (ns) | validator (ns) | garde (ns) | validator/secure | garde/secure |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    missed = []
    for group in GROUPS:
        m = {lib: median_ns(root, group, lib) for lib in LIBS}
        ratios = {lib: m[lib] / m["secure"] for lib in ("validator", "garde")}
        cells = [f"{m[lib]:.1f}" for lib in LIBS] + [f"{ratios[l]:.2f}x" for l in ratios]
        print(f"| {group} | " + " | ".join(cells) + " |")
        for lib, ratio in ratios.items():
            need = TARGETS.get((group, lib))
            if need is not None and ratio < need:
                missed.append(f"{group}: {lib}/secure = {ratio:.2f}x, target >= {need}x")
    return verdict(missed, "valid: >= 1.5x validator, >= 1.2x garde; invalid: >= 1.0x validator")


if __name__ == "__main__":
    sys.exit(main())
