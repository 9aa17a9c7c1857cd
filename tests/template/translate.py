"""Print the CloudFormation JSON that the SAM transform makes of a SAM template.

Usage: python tests/template/translate.py [template.yaml] > translated.json

Runs aws-sam-translator offline: no AWS credentials, no network. The template names no SAM
policy templates or managed policies by name, so the managed-policy loader only needs to
answer for the ones SAM adds itself (the CodeDeploy service role's), whose ARNs are built
from the partition anyway.
"""

import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    """Managed-policy name -> ARN without calling IAM (both SAM interfaces)."""

    def load(self):
        return {}

    def get_arn(self, name):  # newer samtranslator
        return None


def stand_in_packaged_code(template):
    """Point local CodeUris at S3, as `sam package` would, so the transform accepts them."""
    globals_fn = template.get("Globals", {}).get("Function", {})
    if isinstance(globals_fn.get("CodeUri"), str) and not globals_fn["CodeUri"].startswith("s3://"):
        globals_fn["CodeUri"] = "s3://sam-package-stand-in/code.zip"
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties") or {}
        uri = props.get("CodeUri")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(uri, str) \
                and not uri.startswith("s3://"):
            props["CodeUri"] = f"s3://sam-package-stand-in/{name}.zip"


def main() -> int:
    # The transform asks boto for a region to fill AWS::Region where SAM itself needs it;
    # the output keeps `AWS::Region` references for CloudFormation to resolve.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    stand_in_packaged_code(template)
    # Parameter values as a deploy with defaults would pass them; the transform keeps
    # Refs to parameters unresolved where CloudFormation resolves them.
    parameters = {
        name: spec["Default"]
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }
    try:
        # passthrough_metadata: keep each function's Metadata (checkov skips) on its
        # AWS::Lambda::Function, as `sam build` does.
        translated = transform(
            template, parameters, OfflinePolicyLoader(), passthrough_metadata=True
        )
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"{path}: {cause.message}", file=sys.stderr)
        return 1
    json.dump(translated, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
