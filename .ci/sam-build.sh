#!/usr/bin/env bash
# `sam build` of template.yaml: an aarch64 (arm64 Lambda) `bootstrap` per function, in
# .aws-sam/build/<dir>/bootstrap (the two hooks share one), from release builds in the shared
# target/ dir. Run from the repository root: `bash .ci/sam-build.sh`. Settings (parallel,
# build in source, no SAM cache: cargo's is the cache) come from samconfig.toml.
#
# Tools are installed on first use, into git-ignored venvs:
#   .venv/sam    SAM CLI, pinned in .ci/requirements-template.txt
#   .venv/build  cargo-lambda and zig, pinned by version and hash in .ci/requirements-build.txt
# plus the Rust target: `rustup target add aarch64-unknown-linux-gnu`.
# Prints each bootstrap's size and fails unless every function got an aarch64 ELF bootstrap.
set -euo pipefail

cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"

SAM_VENV=.venv/sam
BUILD_VENV=.venv/build
SAM_REQS=.ci/requirements-template.txt
BUILD_REQS=.ci/requirements-build.txt
TEMPLATE=template.yaml
BUILD_DIR=.aws-sam/build

export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}

step() { printf '\n== sam-build: %s\n' "$*"; }
fail() {
    printf -- '-- FAILED: %s\n' "$*" >&2
    exit 1
}

step "install tools"
# Same pins and stamp as .ci/template-checks.sh (a copy of the requirements file).
if [ ! -x "$SAM_VENV/bin/sam" ] || ! cmp -s "$SAM_REQS" "$SAM_VENV/.installed-requirements"; then
    python3 -m venv "$SAM_VENV"
    "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$SAM_REQS"
    cp "$SAM_REQS" "$SAM_VENV/.installed-requirements"
fi
want=$(sha256sum "$BUILD_REQS" | cut -d' ' -f1)
if [ ! -x "$BUILD_VENV/bin/cargo-lambda" ] || [ "$(cat "$BUILD_VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$BUILD_VENV"
    "$BUILD_VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$BUILD_REQS"
    echo "$want" > "$BUILD_VENV/.requirements.sha256"
fi
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    rustup target add aarch64-unknown-linux-gnu
fi
# cargo-lambda finds zig through `python3 -m ziglang` of the venv first on PATH.
export PATH="$PWD/$BUILD_VENV/bin:$PATH"
"$SAM_VENV/bin/sam" --version
cargo lambda --version

step "sam build"
"$SAM_VENV/bin/sam" build --template "$TEMPLATE" || fail "sam build"

step "bootstraps"
# Every function of the built template must have an aarch64 ELF bootstrap (e_machine 183).
# SAM builds identical functions once (the two hooks: "<first>-Shared"), so each function's
# directory is read from its CodeUri in the built template.
"$SAM_VENV/bin/python" - "$TEMPLATE" "$BUILD_DIR" <<'EOF' || fail "missing or wrong bootstrap"
import pathlib, struct, sys
from samtranslator.yaml_helper import yaml_parse

source = yaml_parse(pathlib.Path(sys.argv[1]).read_text())["Resources"]
build = pathlib.Path(sys.argv[2])
built = yaml_parse((build / "template.yaml").read_text())["Resources"]
functions = sorted(n for n, r in source.items() if r["Type"] == "AWS::Serverless::Function")
bad = 0
for name in functions:
    binary = source[name]["Metadata"]["BuildProperties"]["Binary"]
    path = build / built[name]["Properties"]["CodeUri"] / "bootstrap"
    if not path.is_file():
        print(f"{name:26} {binary:18} MISSING {path}")
        bad += 1
        continue
    head = path.read_bytes()[:20]
    machine = struct.unpack_from("<H", head, 18)[0] if head[:4] == b"\x7fELF" else None
    arch = "aarch64" if machine == 183 else f"NOT aarch64 (e_machine={machine})"
    bad += machine != 183
    size = path.stat().st_size
    print(f"{name:26} {binary:18} {arch:8} {size:>10,} bytes ({size / 1048576:.1f} MiB)")
sys.exit(1 if bad else 0)
EOF

printf '\n== sam-build: ok\n'
