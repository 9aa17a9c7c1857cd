#!/usr/bin/env bash
# Static checks of template.yaml (issue #6). Run from the repository root:
#   bash .ci/template-checks.sh
#
#   1. sam validate --lint
#   2. cfn-lint on the SAM source
#   3. cfn-lint on the template translated by aws-sam-translator (tests/template/translate.py)
#   4. cfn-lint with the serverless rules (cfn-lint-serverless)
#   5. checkov (offline, --skip-download) on the source and on the translated template
#   6. cfn-lint and checkov on every template in examples/
#
# Every finding is fixed in the template or skipped there with a written reason (checkov:
# Metadata.checkov.skip on the resource). Tools are installed on first use into git-ignored
# venvs, pinned by version: .venv/sam (SAM CLI, cfn-lint, serverless rules, translator) and
# .venv/checkov (its own: its dependency pins clash with the SAM CLI's).
# Needs no AWS credentials and no network after the install. Exits non-zero on a finding.
set -euo pipefail

cd "$(git rev-parse --show-toplevel 2>/dev/null || pwd)"

TEMPLATE=template.yaml
SAM_VENV=.venv/sam
CHECKOV_VENV=.venv/checkov
SAM_REQS=.ci/requirements-template.txt
CHECKOV_REQS=.ci/requirements-checkov.txt
OUT=target/template-checks
mkdir -p "$OUT"

# The tools need a region to resolve pseudo parameters; nothing here calls AWS.
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export SAM_CLI_TELEMETRY=0
export BC_SKIP_MAPPING=TRUE # checkov: no download of the Bridgecrew guideline mapping

step() { printf '\n== template-checks: %s\n' "$*"; }
fail() {
    printf -- '-- FAILED: %s\n' "$*" >&2
    exit 1
}

# install_venv DIR REQUIREMENTS: (re)create DIR with those pins when the file changed (the
# stamp is a copy of the file; tests/tests/template.rs installs .venv/sam the same way).
install_venv() {
    local venv=$1 reqs=$2
    local stamp="$venv/.installed-requirements"
    if [ -x "$venv/bin/python" ] && cmp -s "$reqs" "$stamp"; then
        return
    fi
    echo "installing $reqs into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$reqs"
    cp "$reqs" "$stamp"
}

step "install tools"
install_venv "$SAM_VENV" "$SAM_REQS"
install_venv "$CHECKOV_VENV" "$CHECKOV_REQS"
"$SAM_VENV/bin/sam" --version
"$SAM_VENV/bin/cfn-lint" --version
"$CHECKOV_VENV/bin/checkov" --version

step "sam validate --lint"
"$SAM_VENV/bin/sam" validate --lint --template "$TEMPLATE" || fail "sam validate --lint"

step "cfn-lint (SAM source)"
"$SAM_VENV/bin/cfn-lint" --format parseable -- "$TEMPLATE" || fail "cfn-lint on $TEMPLATE"

step "translate with aws-sam-translator"
"$SAM_VENV/bin/python" tests/template/translate.py "$TEMPLATE" > "$OUT/translated.json" \
    || fail "aws-sam-translator could not translate $TEMPLATE"
echo "$OUT/translated.json: $("$SAM_VENV/bin/python" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["Resources"]))' "$OUT/translated.json") resources"

step "cfn-lint (translated template)"
# W2001 (unused parameter) is ignored here only: the transform substitutes parameter values
# where SAM itself needs them (DeploymentPreference.Type -> DeploymentConfigName), exactly as
# CloudFormation's transform does with the deployer's values, so DeploymentType is no longer
# referenced after translation. The source template is linted with every rule above.
"$SAM_VENV/bin/cfn-lint" --format parseable --ignore-checks W2001 -- "$OUT/translated.json" \
    || fail "cfn-lint on the translated template"

step "cfn-lint with the serverless rules (cfn-lint-serverless)"
"$SAM_VENV/bin/cfn-lint" --format parseable --append-rules cfn_lint_serverless.rules -- "$TEMPLATE" \
    || fail "cfn-lint-serverless rules"

step "checkov (SAM source)"
"$CHECKOV_VENV/bin/checkov" --quiet --compact --skip-download --framework cloudformation \
    -f "$TEMPLATE" || fail "checkov on $TEMPLATE"

step "checkov (translated template)"
"$CHECKOV_VENV/bin/checkov" --quiet --compact --skip-download --framework cloudformation \
    -f "$OUT/translated.json" || fail "checkov on the translated template"

# The templates in examples/ are deployed by users as they are (the central alerts topic of
# README "Alerts at organisation scale"): the same linters.
for example in examples/*.yaml; do
    step "cfn-lint and checkov ($example)"
    "$SAM_VENV/bin/cfn-lint" --format parseable -- "$example" || fail "cfn-lint on $example"
    "$CHECKOV_VENV/bin/checkov" --quiet --compact --skip-download --framework cloudformation \
        -f "$example" || fail "checkov on $example"
done

printf '\n== template-checks: all checks passed\n'
